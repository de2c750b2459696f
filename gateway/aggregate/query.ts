/**
 * An analyst's question as one aggregate, validated into a canonical form.
 *
 * Everything here depends on the query's public parameters and the public federation horizon only,
 * never on node data. The canonical form is a function of the question's meaning: two questions
 * that count the same records into the same cells get the same form, hence the same fingerprint
 * (`queryId`), which nodes echo and which keys the answer cache (docs/queries.md, "The same
 * question"). The rules:
 *
 * - `groupBy` in the fixed order of {@link AGGREGATE_DIMENSIONS} (answers are shown in the asker's
 *   order again, see `inAskedOrder` in gather.ts);
 * - filter lists as sets (trimmed, case-normalised, sorted, unique);
 * - geography (`countries`, `regions`, `subregions`) as the set of countries it admits, written in
 *   one form: nothing for every country, else `regions` when that set is a union of whole regions,
 *   else `subregions` when it is a union of whole sub-regions, else `countries`;
 * - `sectors` naming every sector of the taxonomy and `tlp` naming every contributing level are
 *   absent (no restriction);
 * - the window `[from, to)` clamped to the federation horizon `[dataStart, today + 1)`; a bound at
 *   or past the horizon is absent, except for WEEK/MONTH grouping, whose keys enumerate the
 *   clamped window, so both bounds stay explicit.
 */
import { createHash } from 'node:crypto';
import { AccordError } from '../../schema/errors.js';
import type { ContributionBounds, ContributionFilter, Dimension, Measure } from '../../schema/contract/index.js';
import { COUNTRIES, SECTOR_IDS, type Country, actorByName, countryByAlpha2, isRegion, isSector, isSubregion } from '../../schema/reference/index.js';
import { MAX_DIMENSIONS, MAX_FILTER_VALUES, MAX_INDICATORS } from '../../schema/contract/limits.js';
import { DEFAULT_CONFIG, type QuorumMode } from '../config.js';
import { dayStart, daysBetween, isIsoDate } from '../../schema/contract/calendar.js';
import { normaliseCve, normaliseName } from '../../schema/contract/keys.js';

/**
 * What an aggregate counts: incidents (L∞ = maxPerPartition), distinct organisations (L∞ = 1), or
 * IMPACT — bounded incidents with their clamped severity sum and disruption count (sector impact).
 */
export type AggregateMeasure = 'INCIDENTS' | 'ORGANISATIONS' | 'IMPACT';
/** The measures `crossBorderPattern` offers (IMPACT is reached through `sectorImpact`). */
export const AGGREGATE_MEASURES: readonly AggregateMeasure[] = ['INCIDENTS', 'ORGANISATIONS'];
const ALL_MEASURES: readonly AggregateMeasure[] = ['INCIDENTS', 'ORGANISATIONS', 'IMPACT'];

/** Every dimension of the contribution protocol can be grouped by. */
export type AggregateDimension = Dimension;
export const AGGREGATE_DIMENSIONS: readonly AggregateDimension[] = ['COUNTRY', 'REGION', 'SUBREGION', 'SECTOR', 'WEEK', 'MONTH', 'EXPLOIT', 'TOOL', 'ACTOR', 'TLP', 'VINTAGE'];

/** The analyst's filter as received (GraphQL input `PatternFilter`). */
export interface AggregateFilterInput {
  countries?: readonly string[] | null;
  regions?: readonly string[] | null;
  subregions?: readonly string[] | null;
  sectors?: readonly string[] | null;
  exploits?: readonly string[] | null;
  tools?: readonly string[] | null;
  actors?: readonly string[] | null;
  tlp?: readonly string[] | null;
  from?: string | null;
  to?: string | null;
}

/** The arguments of an aggregate question, as received (questions map theirs onto these). */
export interface AggregateArgs {
  measure?: AggregateMeasure | null;
  groupBy: readonly AggregateDimension[];
  filter?: AggregateFilterInput | null;
  quorum?: QuorumMode | null;
  /** Node ids to ask; absent: every node the member's policy allows. */
  nodes?: readonly string[] | null;
  /** Indicator keyed hashes (set by `indicatorPrevalence`, never by the analyst directly). */
  indicators?: readonly string[] | null;
  /** The question asked (for the policy context and logs; not part of the fingerprint: the same aggregate answers both). Default crossBorderPattern. */
  question?: QuestionKind;
}

/** The analyst questions (GraphQL root fields of the analyst surface). */
export type QuestionKind = 'crossBorderPattern' | 'trend' | 'topK' | 'exploitVintages' | 'sectorImpact' | 'indicatorPrevalence';

/**
 * Canonical filter, in the contribution protocol's shape: absent lists mean "no restriction";
 * present lists are sorted and unique; CVE ids upper case; tool and actor names trimmed;
 * geography in its one form; `indicators` are keyed hashes; `tlp` is the analyst's tlp filter
 * intersected with the member's TLP ceiling (absent: every level nodes contribute); `from`/`to`
 * inside the federation horizon.
 */
export type AggregateFilter = ContributionFilter;

export interface AggregateQuery {
  question: QuestionKind;
  measure: AggregateMeasure;
  /** In canonical order (that of {@link AGGREGATE_DIMENSIONS}), whatever order the analyst asked in. */
  groupBy: AggregateDimension[];
  filter: AggregateFilter;
  quorum: QuorumMode;
}

/** Longest date window (days) a time-grouped query may span, after clamping to the horizon; the cell limit usually binds first. */
export const MAX_WINDOW_DAYS = 3_660;
/** TLP levels a node may contribute (AMBER+STRICT and RED never leave a node). */
export const CONTRIBUTING_TLP = ['AMBER', 'CLEAR', 'GREEN'] as const;

/** A CVE id in canonical (upper) case, or undefined: the contract's rule, as the importers store it. */
export const canonicalCve = normaliseCve;

/** A free-text key (tool or actor name) in the contract's form, as the importers store it (white space collapsed, cut at the key limit), or undefined when nothing is left. */
export const canonicalName = normaliseName;

function bad(message: string, details?: Record<string, unknown>): never {
  throw new AccordError('INVALID_QUERY', message, details);
}

function canonicalList(
  name: string,
  list: readonly string[] | null | undefined,
  normalise: (v: string) => string | undefined,
  max = MAX_FILTER_VALUES,
): string[] | undefined {
  if (list === null || list === undefined) return undefined;
  if (!Array.isArray(list)) bad(`filter.${name} must be a list of strings.`);
  if (list.length === 0) bad(`filter.${name} is empty; omit it to mean "no restriction".`);
  if (list.length > max) bad(`filter.${name} has more than ${max} entries; ask several questions or leave the filter out.`, { field: name, max });
  const out = new Set<string>();
  for (const v of list) {
    const n = typeof v === 'string' ? normalise(v) : undefined;
    if (n === undefined) bad(`filter.${name} holds an unknown value "${String(v).slice(0, 64)}"; see the reference catalogs for valid values.`, { field: name });
    out.add(n);
  }
  return [...out].sort();
}

/** The public federation horizon: the declared first day of the data and today (UTC), both `YYYY-MM-DD`. */
export interface Horizon {
  dataStart: string;
  today: string;
}

/** Today's date in UTC, `YYYY-MM-DD`. */
export function utcToday(): string {
  return new Date().toISOString().slice(0, 10);
}

function dayAfter(date: string): string {
  return new Date(dayStart(date) + 86_400_000).toISOString().slice(0, 10);
}

/** Countries a canonical or raw geography admits (countries ∩ regions ∩ subregions), in catalog order. */
export function admittedCountries(f: Pick<AggregateFilter, 'countries' | 'regions' | 'subregions'>): Country[] {
  const { countries, regions, subregions } = f;
  return COUNTRIES.filter(
    (c) => (!countries || countries.includes(c.alpha2)) && (!regions || regions.includes(c.region)) && (!subregions || subregions.includes(c.subregion)),
  );
}

/**
 * The one form of a geography: nothing when it admits every country, else the whole regions, else
 * the whole sub-regions, else the countries it admits. Two geographies admitting the same
 * countries get the same form. Throws INVALID_QUERY when it admits no country.
 */
function canonicalGeography(f: Pick<AggregateFilter, 'countries' | 'regions' | 'subregions'>): Pick<AggregateFilter, 'countries' | 'regions' | 'subregions'> {
  const admitted = admittedCountries(f);
  if (admitted.length === 0) bad('The filter admits no country (its countries, regions and subregions exclude each other).');
  if (admitted.length === COUNTRIES.length) return {};
  const whole = (field: 'region' | 'subregion'): string[] | undefined => {
    const names = new Set(admitted.map((c) => c[field]));
    return COUNTRIES.filter((c) => names.has(c[field])).length === admitted.length ? [...names].sort() : undefined;
  };
  const regions = whole('region');
  if (regions) return { regions };
  const subregions = whole('subregion');
  if (subregions) return { subregions };
  return { countries: admitted.map((c) => c.alpha2).sort() };
}

/**
 * The window `[from, to)` clamped to the horizon `[dataStart, today + 1)`. Without time grouping a
 * bound at or past the horizon is dropped (no restriction); with it both bounds are required and
 * kept. Throws INVALID_QUERY for a malformed date, from ≥ to, a window holding no day of the
 * horizon, a time grouping without both bounds or a clamped time-grouped window longer than
 * {@link MAX_WINDOW_DAYS}.
 */
function canonicalWindow(f: AggregateFilterInput, timeGrouped: boolean, horizon: Horizon): Pick<AggregateFilter, 'from' | 'to'> {
  for (const k of ['from', 'to'] as const) {
    const v = f[k];
    if (v !== null && v !== undefined && !isIsoDate(v)) bad(`filter.${k} must be a date written YYYY-MM-DD.`);
  }
  const from = f.from ?? undefined;
  const to = f.to ?? undefined;
  if (from && to && from >= to) bad('filter.from must be before filter.to (from is inclusive, to exclusive).');
  if (timeGrouped && (!from || !to)) bad('Grouping by WEEK or MONTH needs both filter.from and filter.to.');
  const end = dayAfter(horizon.today);
  const lo = from && from > horizon.dataStart ? from : horizon.dataStart;
  const hi = to && to < end ? to : end;
  if (lo >= hi) {
    bad(`The window holds no day of the federation's data, which runs from ${horizon.dataStart} to today (${horizon.today}, UTC); move from/to inside.`, {
      field: 'from',
      dataStart: horizon.dataStart,
      today: horizon.today,
    });
  }
  if (timeGrouped) {
    if (daysBetween(lo, hi) > MAX_WINDOW_DAYS) bad(`A time-grouped window may span at most ${MAX_WINDOW_DAYS} days; narrow from/to.`);
    return { from: lo, to: hi };
  }
  return { ...(lo > horizon.dataStart ? { from: lo } : {}), ...(hi < end ? { to: hi } : {}) };
}

/** Position of each dimension in the canonical groupBy order. */
const DIMENSION_RANK = new Map(AGGREGATE_DIMENSIONS.map((d, i) => [d, i]));

/**
 * Validates the analyst's arguments and returns the canonical query (the rules are in the module
 * comment); `horizon` defaults to the configured default data start and today's UTC date.
 * Throws AccordError('INVALID_QUERY') for an unknown measure or dimension, a repeated dimension,
 * more than MAX_DIMENSIONS dimensions, unknown filter values, a list longer than MAX_FILTER_VALUES
 * (MAX_INDICATORS for indicators), a filter that admits no country, a malformed or empty date
 * window or one outside the horizon, or a time grouping without a window.
 */
export function canonicalQuery(args: AggregateArgs, defaultQuorum: QuorumMode, horizon: Horizon = { dataStart: DEFAULT_CONFIG.dataStart, today: utcToday() }): AggregateQuery {
  const measure = args.measure ?? 'INCIDENTS';
  if (!ALL_MEASURES.includes(measure)) bad(`measure must be one of ${AGGREGATE_MEASURES.join(', ')}.`);
  const question = args.question ?? 'crossBorderPattern';
  if ((measure === 'IMPACT') !== (question === 'sectorImpact')) bad(`measure ${measure} is not asked through ${question}; IMPACT is sectorImpact's measure and only its.`);
  if (!Array.isArray(args.groupBy)) bad('groupBy must be a list of dimensions.');
  const groupBy = [...args.groupBy];
  for (const d of groupBy) if (!AGGREGATE_DIMENSIONS.includes(d)) bad(`groupBy: unknown dimension; use ${AGGREGATE_DIMENSIONS.join(', ')}.`);
  if (new Set(groupBy).size !== groupBy.length) bad('groupBy names a dimension twice.');
  if (groupBy.length > MAX_DIMENSIONS) bad(`groupBy may name at most ${MAX_DIMENSIONS} dimensions; ask with fewer.`, { field: 'groupBy', max: MAX_DIMENSIONS });
  groupBy.sort((a, b) => DIMENSION_RANK.get(a)! - DIMENSION_RANK.get(b)!);
  const quorum = args.quorum ?? defaultQuorum;
  if (quorum !== 'STRICT' && quorum !== 'BEST_EFFORT') bad('quorum must be STRICT or BEST_EFFORT.');

  const f = args.filter ?? {};
  const countries = canonicalList('countries', f.countries, (v) => countryByAlpha2(v)?.alpha2);
  const regions = canonicalList('regions', f.regions, (v) => (isRegion(v) ? v : undefined));
  const subregions = canonicalList('subregions', f.subregions, (v) => (isSubregion(v) ? v : undefined));
  const filter: AggregateFilter = canonicalGeography({ ...(countries ? { countries } : {}), ...(regions ? { regions } : {}), ...(subregions ? { subregions } : {}) });
  const sectors = canonicalList('sectors', f.sectors, (v) => (isSector(v) ? v : undefined));
  if (sectors && sectors.length < SECTOR_IDS.length) filter.sectors = sectors;
  const exploits = canonicalList('exploits', f.exploits, canonicalCve);
  const tools = canonicalList('tools', f.tools, canonicalName);
  const actors = canonicalList('actors', f.actors, (v) => {
    const n = canonicalName(v);
    return n === undefined ? undefined : (actorByName(n)?.name ?? n);
  });
  const tlp = canonicalList('tlp', f.tlp, (v) => ((CONTRIBUTING_TLP as readonly string[]).includes(v.toUpperCase()) ? v.toUpperCase() : undefined));
  if (exploits) filter.exploits = exploits;
  if (tools) filter.tools = tools;
  if (actors) filter.actors = actors;
  if (tlp && tlp.length < CONTRIBUTING_TLP.length) filter.tlp = tlp;
  if (args.indicators !== null && args.indicators !== undefined) {
    const ind = canonicalList('indicators', args.indicators, (v) => (/^[0-9a-f]{64}$/.test(v) ? v : undefined), MAX_INDICATORS);
    if (ind) filter.indicators = ind;
  }
  Object.assign(filter, canonicalWindow(f, groupBy.includes('WEEK') || groupBy.includes('MONTH'), horizon));
  return { question, measure, groupBy, filter, quorum };
}

/**
 * The node set a query names, sorted and de-duplicated; undefined when it names none.
 * Throws AccordError('INVALID_QUERY') for an empty list and AccordError('NODE_UNKNOWN') for an id
 * that is not an admitted node.
 */
export function canonicalNodes(nodes: readonly string[] | null | undefined, admitted: readonly string[]): string[] | undefined {
  if (nodes === null || nodes === undefined) return undefined;
  if (!Array.isArray(nodes) || nodes.length === 0) bad('nodes is empty; omit it to ask every node your policy allows.');
  const known = new Set(admitted);
  const out = [...new Set(nodes)].sort();
  for (const n of out) {
    if (!known.has(n)) throw new AccordError('NODE_UNKNOWN', `"${String(n).slice(0, 64)}" is not an admitted node; see federationNodes for the members of the federation.`, { node: String(n).slice(0, 64) });
  }
  return out;
}

/** Severity is an integer 1–5: the IMPACT sum clamps to it on a grid of 2^0. */
export const SEVERITY_CLAMP = { lo: 1, hi: 5, gridExponent: 0 } as const;

/**
 * The contribution bounds a node applies for this query (ORGANISATIONS counts each organisation
 * once per group; IMPACT also clamps severity to [1, 5] on integer units).
 */
export function boundsFor(measure: AggregateMeasure, defaults: { maxPartitions: number; maxPerPartition: number }): ContributionBounds {
  const b: ContributionBounds = { maxPartitions: defaults.maxPartitions, maxPerPartition: measure === 'ORGANISATIONS' ? 1 : defaults.maxPerPartition };
  if (measure === 'IMPACT') Object.assign(b, { clampLo: SEVERITY_CLAMP.lo, clampHi: SEVERITY_CLAMP.hi, gridExponent: SEVERITY_CLAMP.gridExponent });
  return b;
}

/** The contribution protocol's measure for an aggregate measure. */
export function contributionMeasure(measure: AggregateMeasure): Measure {
  return measure === 'IMPACT' ? 'SEVERITY_SUM' : measure;
}

/** The filter in the contribution protocol's shape (same fields, same meaning). */
export function contributionFilter(filter: AggregateFilter): ContributionFilter {
  return { ...filter };
}

/**
 * Fingerprint (hex SHA-256) of everything that determines an answer's distribution: the canonical
 * question (TLP levels included when restricted), the bounds and the privacy parameters. The
 * quorum and the node set are not part of it.
 */
export function queryFingerprint(q: AggregateQuery, bounds: ContributionBounds, privacy: { rho: number; delta: number; multiplicity: number }): string {
  const canonical = JSON.stringify({
    v: 2,
    measure: q.measure,
    groupBy: q.groupBy,
    filter: [
      q.filter.countries ?? null,
      q.filter.regions ?? null,
      q.filter.subregions ?? null,
      q.filter.sectors ?? null,
      q.filter.exploits ?? null,
      q.filter.tools ?? null,
      q.filter.actors ?? null,
      q.filter.indicators ?? null,
      q.filter.from ?? null,
      q.filter.to ?? null,
      q.filter.tlp ?? null,
    ],
    bounds: [bounds.maxPartitions, bounds.maxPerPartition, bounds.clampLo ?? null, bounds.clampHi ?? null, bounds.gridExponent ?? null],
    privacy: [privacy.rho, privacy.delta, privacy.multiplicity],
  });
  return createHash('sha256').update(canonical).digest('hex');
}
