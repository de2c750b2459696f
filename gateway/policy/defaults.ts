/**
 * The demo access configuration `npm start` writes under `./data/` when absent: three members and
 * a policy set showing each kind of rule (which nodes, which dimensions and filters, largest
 * charge, which measures). Edit the written files and send SIGHUP (or call `reloadPolicies`) to
 * change them without a restart. Not used unless a deployment points at these files.
 */
import type { Member } from '../members.js';

export const DEMO_MEMBERS: readonly Member[] = Object.freeze([
  { id: 'fr-anssi', name: 'ANSSI / CERT-FR (national CERT, France)', region: 'Europe', groups: ['eu', 'national-cert', 'nato'], tlpCeiling: 'AMBER', roles: ['staff'] },
  { id: 'eu-enisa', name: 'ENISA (EU agency for cybersecurity)', region: 'Europe', groups: ['eu', 'eu-agency'], tlpCeiling: 'AMBER', roles: [] },
  { id: 'jp-energy-isac', name: 'Energy ISAC member utility (Japan)', region: 'Asia', groups: ['energy', 'sector-isac'], tlpCeiling: 'GREEN', roles: [] },
]);

export const DEMO_POLICIES = /* cedar */ `// Accord access policies (Cedar). Default deny: a member may aggregate a node's data for a
// query only when a permit matches and no forbid does. Every rule needs @id("…"): denials name it.
// Reference: docs/access.md.

@id("members-may-aggregate")
permit (principal is Accord::Member, action == Accord::Action::"aggregate", resource is Accord::Node);

// Node data: the German CERT shares with EU members only (others' answers leave it out).
@id("cert-de-eu-only")
forbid (principal, action, resource == Accord::Node::"cert-de")
unless { principal.groups.contains("eu") };

// Dimensions and filters: sector ISAC members break incidents down by sector only inside their own region.
@id("isac-sector-breakdown-own-region")
forbid (principal, action, resource)
when {
  principal.groups.contains("sector-isac") &&
  context.groupBy.contains("SECTOR") &&
  context.regionsTouched != [principal.region]
};

// Sectors: per-sector figures that include the defence industrial base go to NATO members only.
@id("defence-breakdown-nato-only")
forbid (principal, action, resource)
when {
  context.groupBy.contains("SECTOR") &&
  context.sectorsTouched.contains("defense-industrial-base") &&
  !principal.groups.contains("nato")
};

// Measures: counting distinct affected organisations is for national CERTs.
@id("organisations-national-certs-only")
forbid (principal, action, resource)
when { context.measure == "ORGANISATIONS" && !principal.groups.contains("national-cert") };

// Largest privacy charge per query: rho <= 0.1.
@id("max-rho-per-query")
forbid (principal, action, resource)
when { context.rhoMicro > 100000 };
`;

/** Demo budgets: ρ = 5 per node per month for the federation; ρ = 1 per member per node per month. */
export const DEMO_BUDGETS = Object.freeze({
  nodeCap: { rho: 5, delta: 5e-5 },
  allocation: { rho: 1, delta: 1e-5 },
  allocations: [{ member: 'fr-anssi', rho: 2 }],
  federationCap: { rho: 5, delta: 5e-5 },
  federationAllocation: { rho: 1, delta: 1e-5 },
  federationAllocations: { 'fr-anssi': { rho: 2 } },
});
