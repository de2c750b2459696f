/**
 * The Cedar context of a query, from its canonical form only (public parameters; never node data).
 */
import { COUNTRIES, SECTOR_IDS } from '../../schema/reference/index.js';
import type { AggregatePlan } from '../aggregate/plan.js';
import type { PolicyContext } from '../policy/engine.js';

const regionsMemo = new Map<string, string[]>();

/** UN M49 regions of every country the filter admits (countries ∩ regions ∩ subregions), sorted. */
export function regionsTouched(filter: { countries?: readonly string[]; regions?: readonly string[]; subregions?: readonly string[] }): string[] {
  const key = JSON.stringify([filter.countries ?? null, filter.regions ?? null, filter.subregions ?? null]);
  let out = regionsMemo.get(key);
  if (!out) {
    const set = new Set<string>();
    for (const c of COUNTRIES) {
      if (filter.countries && !filter.countries.includes(c.alpha2)) continue;
      if (filter.regions && !filter.regions.includes(c.region)) continue;
      if (filter.subregions && !filter.subregions.includes(c.subregion)) continue;
      set.add(c.region);
    }
    out = [...set].sort();
    if (regionsMemo.size > 1_000) regionsMemo.clear();
    regionsMemo.set(key, out);
  }
  return out;
}

const FILTER_FIELDS = ['countries', 'regions', 'subregions', 'sectors', 'exploits', 'tools', 'actors', 'tlp', 'indicators', 'from', 'to'] as const;

/**
 * The policy context of a planned query. `tlp` is what the member's answer counts (after its TLP
 * ceiling); `explicitNodes` whether the query named its nodes.
 */
export function policyContext(plan: AggregatePlan, tlp: readonly string[], explicitNodes: boolean): PolicyContext {
  const f = plan.query.filter;
  return {
    question: plan.query.question,
    measure: plan.query.measure,
    groupBy: [...plan.query.groupBy],
    filters: FILTER_FIELDS.filter((k) => f[k] !== undefined),
    filter: { countries: f.countries ?? [], regions: f.regions ?? [], subregions: f.subregions ?? [], sectors: f.sectors ?? [] },
    regionsTouched: regionsTouched(f),
    sectorsTouched: f.sectors ?? [...SECTOR_IDS],
    tlp: [...tlp],
    rhoMicro: Math.ceil(plan.charge.rho * 1e6),
    cells: plan.domain.keys.length,
    explicitNodes,
  };
}
