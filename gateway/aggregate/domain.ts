/**
 * The public key domain of an aggregate: every group key the answer releases.
 *
 * The released cell set depends only on the question (groupBy × filter), never on which keys the
 * nodes' data contains, so a key's presence leaks nothing; cells no node has are released as
 * noised zeros. Correlated dimensions are enumerated jointly: geography as the distinct
 * (country, region, sub-region) projections of the filtered countries, time as the distinct
 * (week, month) projections of the days in the window, so impossible pairs (FR × Asia) are never
 * cells. Everything here derives from schema/reference and the calendar.
 */
import { AccordError } from '../../schema/errors.js';
import { ACTORS, KEV, SECTOR_IDS, type Country } from '../../schema/reference/index.js';
import { days, isoMonth, isoWeek } from '../../schema/contract/calendar.js';
import { VINTAGE_BUCKETS } from '../../schema/contract/contribution.js';
import { CONTRIBUTING_TLP, admittedCountries, type AggregateDimension, type AggregateQuery } from './query.js';

export interface KeyDomain {
  readonly groupBy: readonly AggregateDimension[];
  /** Every public key (always released), one value per groupBy dimension, in release order. */
  readonly keys: readonly (readonly string[])[];
  /** Joined key (see {@link joinKey}) → position in `keys`. */
  readonly index: ReadonlyMap<string, number>;
  /**
   * Per groupBy position: true when nodes may hold keys outside the public domain there (tool and
   * malware family names, CVEs outside the KEV catalog, uncatalogued actors). A key with such a
   * value is released only through partition selection.
   */
  readonly open: readonly boolean[];
  /** Per groupBy position: the public values allowed there (a node key's closed parts must be among them). */
  readonly values: readonly ReadonlySet<string>[];
  /** True when some position is open (the answer needs partition selection). */
  readonly selection: boolean;
}

/** Dimensions whose keys may come from node data when the filter does not list them. */
export const NODE_KEYED: readonly AggregateDimension[] = ['EXPLOIT', 'TOOL', 'ACTOR'];
const TLP_ORDER = ['CLEAR', 'GREEN', 'AMBER'] as const satisfies readonly (typeof CONTRIBUTING_TLP)[number][];
const KEV_CVES: readonly string[] = KEV.map((e) => e.cveID);
const ACTOR_NAMES: readonly string[] = ACTORS.map((a) => a.name);

const GEO: readonly AggregateDimension[] = ['COUNTRY', 'REGION', 'SUBREGION'];
const TIME: readonly AggregateDimension[] = ['WEEK', 'MONTH'];
const SEP = '\u0001';

/**
 * The dimensions of `groupBy` grouped into the factors the domain is the product of — geography
 * together, time together, every other dimension alone — in the order of each factor's first
 * dimension in `groupBy`. Within a factor, tuples come in an order that does not depend on the
 * order of its dimensions.
 */
export function keyFactors(groupBy: readonly AggregateDimension[]): AggregateDimension[][] {
  const out: AggregateDimension[][] = [];
  for (const d of groupBy) {
    const family = GEO.includes(d) ? GEO : TIME.includes(d) ? TIME : [d];
    const f = out.find((x) => family.includes(x[0]!));
    if (f) f.push(d);
    else out.push([d]);
  }
  return out;
}

/** The inverse of {@link joinKey}. */
export function splitKey(joined: string): string[] {
  return joined.split(SEP);
}

/** The lookup form of a key. Injective for keys of one arity whose parts never contain U+0001. */
export function joinKey(key: readonly string[]): string {
  return key.join(SEP);
}

interface Factor {
  /** Positions in groupBy this factor fills. */
  positions: number[];
  /** Distinct value tuples, one value per position. */
  tuples: string[][];
}

function distinct(tuples: Iterable<string[]>): string[][] {
  const seen = new Map<string, string[]>();
  for (const t of tuples) {
    const k = joinKey(t);
    if (!seen.has(k)) seen.set(k, t);
  }
  return [...seen.values()];
}

function geoValue(d: AggregateDimension, c: Country): string {
  return d === 'COUNTRY' ? c.alpha2 : d === 'REGION' ? c.region : c.subregion;
}

/**
 * Enumerates the key domain of `q`.
 * Throws AccordError('INVALID_QUERY') when the filter admits no country or when the domain would
 * hold more than `maxCells` cells (the message says to narrow the filter).
 */
export function keyDomain(q: AggregateQuery, maxCells: number): KeyDomain {
  const positions = (dims: readonly AggregateDimension[]) => q.groupBy.flatMap((d, i) => (dims.includes(d) ? [i] : []));
  const factors: Factor[] = [];

  const countries = admittedCountries(q.filter);
  if (countries.length === 0) {
    throw new AccordError('INVALID_QUERY', 'The filter admits no country (its countries, regions and subregions exclude each other).');
  }
  const geoPos = positions(GEO);
  if (geoPos.length > 0) {
    factors.push({ positions: geoPos, tuples: distinct(countries.map((c) => geoPos.map((i) => geoValue(q.groupBy[i]!, c)))) });
  }
  const sectorPos = positions(['SECTOR']);
  if (sectorPos.length > 0) {
    const sectors = q.filter.sectors ?? [...SECTOR_IDS];
    factors.push({ positions: sectorPos, tuples: sectors.map((s) => [s]) });
  }
  const timePos = positions(TIME);
  if (timePos.length > 0) {
    // canonicalQuery guarantees a bounded window when a time dimension is grouped
    const { from, to } = q.filter as { from: string; to: string };
    const tuples = function* () {
      for (const day of days(from, to)) yield timePos.map((i) => (q.groupBy[i] === 'WEEK' ? isoWeek(day) : isoMonth(day)));
    };
    factors.push({ positions: timePos, tuples: distinct(tuples()) });
  }

  const single = (d: AggregateDimension, values: readonly string[]): void => {
    const pos = positions([d]);
    if (pos.length > 0) factors.push({ positions: pos, tuples: values.map((v) => [v]) });
  };
  single('TLP', q.filter.tlp ? TLP_ORDER.filter((t) => q.filter.tlp!.includes(t)) : TLP_ORDER);
  single('VINTAGE', VINTAGE_BUCKETS);
  single('EXPLOIT', q.filter.exploits ?? KEV_CVES);
  single('ACTOR', q.filter.actors ?? ACTOR_NAMES);
  single('TOOL', q.filter.tools ?? []);

  factors.sort((a, b) => a.positions[0]! - b.positions[0]!); // cells vary fastest in the last groupBy dimension
  const size = factors.reduce((n, f) => n * f.tuples.length, 1);
  if (size > maxCells) {
    throw new AccordError(
      'INVALID_QUERY',
      `The answer would release ${size} public cells, more than the limit of ${maxCells}; narrow the filter (countries, regions, sectors, exploits, actors or the date window), group by fewer dimensions, or ask topK for the leading exploits, tools or actors.`,
      { cells: size, maxCells },
    );
  }
  const filterOf: Partial<Record<AggregateDimension, readonly string[] | undefined>> = { EXPLOIT: q.filter.exploits, TOOL: q.filter.tools, ACTOR: q.filter.actors };
  const open = q.groupBy.map((d) => NODE_KEYED.includes(d) && filterOf[d] === undefined);
  const values: Set<string>[] = q.groupBy.map(() => new Set<string>());
  for (const f of factors) for (const t of f.tuples) f.positions.forEach((p, j) => values[p]!.add(t[j]!));

  const n = q.groupBy.length;
  const keys: string[][] = [];
  const current = new Array<string>(n);
  const walk = (fi: number): void => {
    if (fi === factors.length) {
      keys.push(current.slice());
      return;
    }
    const f = factors[fi]!;
    for (const t of f.tuples) {
      for (let j = 0; j < f.positions.length; j++) current[f.positions[j]!] = t[j]!;
      walk(fi + 1);
    }
  };
  walk(0);
  const index = new Map<string, number>();
  keys.forEach((k, i) => index.set(joinKey(k), i));
  return { groupBy: q.groupBy, keys, index, open, values, selection: open.some(Boolean) };
}
