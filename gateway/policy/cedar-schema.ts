/**
 * The Cedar schema of Accord's access policies (cedarpolicy.com). Policies are validated against it
 * in strict mode when loaded, so a rule naming an unknown entity type, attribute or context field,
 * or comparing values of the wrong type, is refused at load time; `lint.ts` adds the same guarantee
 * for string values drawn from public domains (dimensions, sectors, regions, …).
 *
 * Cedar has no floating-point numbers: the privacy charge of a query is given as `rhoMicro`, ⌈ρ·10⁶⌉.
 */
export const CEDAR_SCHEMA = /* cedar */ `
namespace Accord {
  // A member agency (from the members file).
  entity Member = {
    "id": String,
    "region": String,          // UN M49 region, e.g. "Europe"
    "groups": Set<String>,     // e.g. "eu", "nato", "sector-isac"
    "tlpCeiling": String,      // "CLEAR" | "GREEN" | "AMBER"
  };

  // A member node (from the nodes file).
  entity Node = {
    "id": String,
    "kind": String,            // e.g. "national-cert", "sector-isac"
    "country"?: String,        // ISO 3166-1 alpha-2, when the node is national
    "region"?: String,         // UN M49 region of the node
  };

  // The analyst's filter; an absent list is the empty set (see context.filters for which are present).
  type Filter = {
    "countries": Set<String>,
    "regions": Set<String>,
    "subregions": Set<String>,
    "sectors": Set<String>,
  };

  // May the member aggregate this node's data for this query?
  action "aggregate" appliesTo {
    principal: [Member],
    resource: [Node],
    context: {
      "question": String,            // "crossBorderPattern" | "trend" | "topK" | "exploitVintages" | "sectorImpact" | "indicatorPrevalence"
      "measure": String,             // "INCIDENTS" | "ORGANISATIONS" | "IMPACT"
      "groupBy": Set<String>,        // dimensions: "COUNTRY", "REGION", "SUBREGION", "SECTOR", "WEEK", "MONTH", "EXPLOIT", "TOOL", "ACTOR", "TLP", "VINTAGE"
      "filters": Set<String>,        // filter fields present: "countries", "regions", "subregions", "sectors", "exploits", "tools", "actors", "tlp", "indicators", "from", "to"
      "filter": Filter,
      "regionsTouched": Set<String>, // UN M49 regions of every country the filter admits
      "sectorsTouched": Set<String>, // the filter's sectors, or every sector when it names none
      "tlp": Set<String>,            // TLP levels counted ("CLEAR", "GREEN", "AMBER"), after the member's ceiling
      "rhoMicro": Long,              // the query's charge per node, ⌈ρ × 1,000,000⌉
      "cells": Long,                 // public cells the answer releases (node-data keys come on top, through partition selection)
      "explicitNodes": Bool,         // true when the query named its nodes
    },
  };
}
`;

export const MEMBER_TYPE = 'Accord::Member';
export const NODE_TYPE = 'Accord::Node';
export const ACTION_TYPE = 'Accord::Action';
export const AGGREGATE_ACTION = 'aggregate';
