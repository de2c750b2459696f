/**
 * The test oracle: an in-memory reimplementation of the bounded contribution, over a {@link NodeDataset}.
 * Pure TypeScript, no database: tests compare it with the SQL statement. Its semantics are the
 * specification the statement must meet:
 *
 * 1. rows: every incident passing the TLP gate and the filters, once per distinct key tuple (an
 *    incident with two matching exploits is in two EXPLOIT groups; null regions are not grouped);
 *    VINTAGE keys are the distinct vintage buckets of the incident's exploited vulnerabilities with a
 *    disclosure date (only the listed CVEs when an exploits filter is given); an indicators filter
 *    keeps incidents carrying an indicator whose keyed hash is listed;
 * 2. per (organisation, group): all rows, or for sums a uniformly random ≤ L∞ of them, each value
 *    clamped and rounded to the grid;
 * 3. per organisation: a uniformly random ≤ L0 of its groups;
 * 4. per group: Σ min(rows, L∞) for counts (L∞ = 1 for ORGANISATIONS), Σ kept rows, Σ grid units
 *    and Σ kept rows with a disruption for sums; `units` = organisations kept.
 */
import { vintageBucket, type ContributionGroup, type ContributionRequest, type Dimension } from '../../schema/contract/contribution.js';
import { indicatorHash, normaliseIndicator } from '../../schema/contract/indicator.js';
import { AccordError } from '../../schema/errors.js';
import type { ExploitRecord, IncidentRecord, NodeDataset, TlpLevel } from '../../schema/contract/dataset.js';
import { isoMonth, isoWeek } from '../../schema/contract/calendar.js';
import { m49RegionLookup, type RegionLookup } from '../db/regions.js';
import { defaultEntropy, shuffle, type Entropy } from '../../schema/privacy/index.js';
import { gridUnits } from './grid.js';
import { compareKeys, type ContributionCell, type ContributionResult } from './result.js';
import { DEFAULT_CONTRIBUTING_TLP } from './tlp-gate.js';
import { validateContributionRequest, type ValidatedRequest } from './validate.js';

export interface OracleOptions {
  regions?: RegionLookup;
  contributingTlp?: readonly TlpLevel[];
  /** Randomness for the random choices (default: the privacy core's CSPRNG-backed entropy). */
  entropy?: Entropy;
  /**
   * The indicator key the dataset's plain indicator values are hashed under to meet an indicators
   * filter (the node's: its indicator key, else its secret). Required for such a filter.
   */
  indicatorKey?: string | Buffer;
}

const isVulnerability = (e: ExploitRecord): boolean => e.cve !== undefined && e.cve !== null && (e.kind === 'zero-day' || e.kind === 'n-day');

function linkValues(d: 'EXPLOIT' | 'TOOL' | 'ACTOR', inc: IncidentRecord, exploits: Map<string, ExploitRecord>, actors: Map<string, string>): string[] {
  const out = new Set<string>();
  if (d === 'ACTOR') {
    for (const a of inc.actors) out.add(actors.get(a)!);
  } else {
    for (const id of inc.exploits) {
      const e = exploits.get(id)!;
      if (d === 'EXPLOIT' && isVulnerability(e)) out.add(e.cve!);
      if (d === 'TOOL' && e.kind === 'tool') out.add(e.name);
    }
  }
  return [...out];
}

/** Whole days from `from` to `to` (both `YYYY-MM-DD`). */
function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** The distinct vintage buckets of an incident's dated vulnerabilities (only `cves`, when given). */
function vintageValues(inc: IncidentRecord, exploits: Map<string, ExploitRecord>, cves: readonly string[] | undefined): string[] {
  const out = new Set<string>();
  for (const id of inc.exploits) {
    const e = exploits.get(id)!;
    if (e.disclosed === undefined || e.disclosed === null || (e.kind !== 'zero-day' && e.kind !== 'n-day')) continue;
    if (cves !== undefined && !(e.cve !== undefined && e.cve !== null && cves.includes(e.cve))) continue;
    out.add(vintageBucket(daysBetween(e.disclosed, inc.date)));
  }
  return [...out];
}

const LINK_FILTER = { EXPLOIT: 'exploits', TOOL: 'tools', ACTOR: 'actors' } as const;

/**
 * For an indicators filter: whether an incident carries one of the listed hashes, its plain values
 * normalised and hashed under `key`. Undefined without a filter. Throws
 * AccordError('INDICATORS_UNAVAILABLE') for a filter without a key, like a node without one.
 */
function indicatorMatcher(hashes: readonly string[] | undefined, key: string | Buffer | undefined): ((inc: IncidentRecord) => boolean) | undefined {
  if (hashes === undefined) return undefined;
  if (key === undefined) throw new AccordError('INDICATORS_UNAVAILABLE', 'An indicators filter needs the indicator key the values are hashed under.', { reason: 'no-key' });
  const wanted = new Set(hashes);
  return (inc) =>
    inc.indicators.some((x) => {
      const v = normaliseIndicator(x.type, x.value);
      return v !== undefined && wanted.has(indicatorHash(key, x.type, v));
    });
}

/** Kept cells of the oracle's bounding, sorted by organisation then key. */
export function oracleCells(dataset: NodeDataset, request: ContributionRequest, opts: OracleOptions = {}): ContributionCell[] {
  const req: ValidatedRequest = validateContributionRequest(request);
  const regions = opts.regions ?? m49RegionLookup;
  const entropy = opts.entropy ?? defaultEntropy();
  const f = req.filter;
  const allowedTlp = new Set(
    (opts.contributingTlp ?? DEFAULT_CONTRIBUTING_TLP).filter((t) => t !== 'AMBER+STRICT' && t !== 'RED' && (f.tlp === undefined || f.tlp.includes(t))),
  );
  const exploits = new Map(dataset.exploits.map((e) => [e.id, e]));
  const actors = new Map(dataset.actors.map((a) => [a.id, a.name]));
  const clamp = req.bounds.clamp;
  const carriesIndicator = indicatorMatcher(f.indicators, opts.indicatorKey);

  // org → key string → { key, rows }
  const cells = new Map<string, Map<string, { key: string[]; rows: { value: number; disrupted: boolean }[] }>>();
  for (const inc of dataset.incidents) {
    if (!allowedTlp.has(inc.tlp)) continue;
    if (f.from !== undefined && inc.date < f.from) continue;
    if (f.to !== undefined && inc.date >= f.to) continue;
    const place = regions(inc.country)!;
    if (f.countries && !f.countries.includes(inc.country)) continue;
    if (f.regions && !(place.region !== null && f.regions.includes(place.region))) continue;
    if (f.subregions && !(place.subregion !== null && f.subregions.includes(place.subregion))) continue;
    if (f.sectors && !f.sectors.includes(inc.sector)) continue;
    let excluded = false;
    for (const d of ['EXPLOIT', 'TOOL', 'ACTOR'] as const) {
      const list = f[LINK_FILTER[d]];
      if (list !== undefined && !linkValues(d, inc, exploits, actors).some((v) => list.includes(v))) excluded = true;
    }
    if (excluded) continue;
    if (carriesIndicator && !carriesIndicator(inc)) continue;

    const perDim: string[][] = req.groupBy.map((d: Dimension) => {
      switch (d) {
        case 'COUNTRY': return [inc.country];
        case 'REGION': return place.region === null ? [] : [place.region];
        case 'SUBREGION': return place.subregion === null ? [] : [place.subregion];
        case 'SECTOR': return [inc.sector];
        case 'WEEK': return [isoWeek(inc.date)];
        case 'MONTH': return [isoMonth(inc.date)];
        case 'TLP': return [inc.tlp];
        case 'VINTAGE': return vintageValues(inc, exploits, f.exploits);
        default: {
          const list = f[LINK_FILTER[d]];
          const values = linkValues(d, inc, exploits, actors);
          return list === undefined ? values : values.filter((v) => list.includes(v));
        }
      }
    });
    let tuples: string[][] = [[]];
    for (const values of perDim) tuples = tuples.flatMap((t) => values.map((v) => [...t, v]));
    const row = { value: clamp ? gridUnits(inc.severity, clamp) : 0, disrupted: inc.disruption };
    for (const key of tuples) {
      let byKey = cells.get(inc.organisation);
      if (!byKey) cells.set(inc.organisation, (byKey = new Map()));
      const ks = JSON.stringify(key);
      let cell = byKey.get(ks);
      if (!cell) byKey.set(ks, (cell = { key, rows: [] }));
      cell.rows.push(row);
    }
  }

  const out: ContributionCell[] = [];
  const { maxPartitions: L0, maxPerPartition: Linf } = req.bounds;
  for (const [org, byKey] of cells) {
    for (const cell of shuffle(entropy, [...byKey.values()]).slice(0, L0)) {
      if (clamp) {
        const kept = shuffle(entropy, [...cell.rows]).slice(0, Linf);
        out.push({ org, key: cell.key, count: kept.length, sum: kept.reduce((a, r) => a + r.value, 0), disrupted: kept.filter((r) => r.disrupted).length });
      } else {
        out.push({ org, key: cell.key, count: Math.min(cell.rows.length, Linf), sum: null, disrupted: null });
      }
    }
  }
  return out.sort((a, b) => (a.org < b.org ? -1 : a.org > b.org ? 1 : compareKeys(a.key, b.key)));
}

/** The oracle's contribution: {@link oracleCells} summed per group, groups sorted by key. */
export function oracleContribution(dataset: NodeDataset, request: ContributionRequest, opts: OracleOptions = {}): ContributionResult {
  const cells = oracleCells(dataset, request, opts);
  const sum = validateContributionRequest(request).bounds.clamp !== undefined;
  const groups = new Map<string, ContributionGroup>();
  for (const c of cells) {
    const ks = JSON.stringify(c.key);
    const g = groups.get(ks);
    if (g) {
      g.count += c.count;
      if (sum) {
        g.sum = (g.sum ?? 0) + (c.sum ?? 0);
        g.disrupted = (g.disrupted ?? 0) + (c.disrupted ?? 0);
      }
    } else {
      groups.set(ks, { key: c.key, count: c.count, sum: sum ? c.sum : null, disrupted: sum ? c.disrupted : null });
    }
  }
  const units = new Set(cells.map((c) => c.org)).size;
  return { units, groups: [...groups.values()].sort((a, b) => compareKeys(a.key, b.key)) };
}
