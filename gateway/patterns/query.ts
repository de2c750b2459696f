/**
 * The analyst's cross-border pattern question, validated into a canonical form.
 *
 * Everything here depends on the query's public parameters only. The canonical form (sorted,
 * de-duplicated filter lists; fixed field order) gives identical questions the same fingerprint
 * (`queryId`), which nodes echo and which later serves caching and audit.
 */
import { createHash } from 'node:crypto';
import { AccordError } from '../../schema/errors.js';
import type { ContributionBounds, ContributionFilter, Dimension } from '../../schema/contract/index.js';
import { countryByAlpha2, isRegion, isSector, isSubregion } from '../../schema/reference/index.js';
import type { QuorumMode } from '../config.js';
import { daysBetween, isIsoDate } from '../../schema/contract/calendar.js';

/** What a pattern counts: incidents (L∞ = maxPerPartition) or distinct organisations (L∞ = 1). */
export type PatternMeasure = 'INCIDENTS' | 'ORGANISATIONS';
export const PATTERN_MEASURES: readonly PatternMeasure[] = ['INCIDENTS', 'ORGANISATIONS'];

/** Dimensions with a public key domain, the only ones patterns may group by for now. */
export type PatternDimension = Extract<Dimension, 'COUNTRY' | 'REGION' | 'SUBREGION' | 'SECTOR' | 'WEEK' | 'MONTH'>;
export const PATTERN_DIMENSIONS: readonly PatternDimension[] = ['COUNTRY', 'REGION', 'SUBREGION', 'SECTOR', 'WEEK', 'MONTH'];

/** The analyst's filter as received (GraphQL input `PatternFilter`). */
export interface PatternFilterInput {
  countries?: readonly string[] | null;
  regions?: readonly string[] | null;
  subregions?: readonly string[] | null;
  sectors?: readonly string[] | null;
  from?: string | null;
  to?: string | null;
}

/** The arguments of `crossBorderPattern`, as received. */
export interface PatternArgs {
  measure?: PatternMeasure | null;
  groupBy: readonly PatternDimension[];
  filter?: PatternFilterInput | null;
  quorum?: QuorumMode | null;
  /** Node ids to ask; absent: every node the member's policy allows. */
  nodes?: readonly string[] | null;
}

/** Canonical filter: absent lists mean "no restriction"; present lists are sorted and unique. */
export interface PatternFilter {
  countries?: string[];
  regions?: string[];
  subregions?: string[];
  sectors?: string[];
  from?: string;
  to?: string;
  /**
   * TLP levels counted (sorted); set by the gateway from the member's TLP ceiling, never by the
   * analyst. Absent: every level nodes contribute.
   */
  tlp?: string[];
}

export interface PatternQuery {
  measure: PatternMeasure;
  groupBy: PatternDimension[];
  filter: PatternFilter;
  quorum: QuorumMode;
}

/** Longest date window (days) a time-grouped query may span; the cell limit usually binds first. */
export const MAX_WINDOW_DAYS = 3_660;
const MAX_LIST = 1_000;

function bad(message: string, details?: Record<string, unknown>): never {
  throw new AccordError('INVALID_QUERY', message, details);
}

function canonicalList(
  name: string,
  list: readonly string[] | null | undefined,
  normalise: (v: string) => string | undefined,
): string[] | undefined {
  if (list === null || list === undefined) return undefined;
  if (!Array.isArray(list)) bad(`filter.${name} must be a list of strings.`);
  if (list.length === 0) bad(`filter.${name} is empty; omit it to mean "no restriction".`);
  if (list.length > MAX_LIST) bad(`filter.${name} has more than ${MAX_LIST} entries.`);
  const out = new Set<string>();
  for (const v of list) {
    const n = typeof v === 'string' ? normalise(v) : undefined;
    if (n === undefined) bad(`filter.${name} holds an unknown value "${String(v).slice(0, 64)}"; see the reference catalogs for valid values.`, { field: name });
    out.add(n);
  }
  return [...out].sort();
}

/**
 * Validates the analyst's arguments and returns the canonical query.
 * Throws AccordError('INVALID_QUERY') for an unknown measure or dimension, a repeated dimension,
 * unknown filter values, a malformed or empty date window, or a time grouping without a window.
 */
export function canonicalQuery(args: PatternArgs, defaultQuorum: QuorumMode): PatternQuery {
  const measure = args.measure ?? 'INCIDENTS';
  if (!PATTERN_MEASURES.includes(measure)) bad(`measure must be one of ${PATTERN_MEASURES.join(', ')}.`);
  if (!Array.isArray(args.groupBy)) bad('groupBy must be a list of dimensions.');
  const groupBy = [...args.groupBy];
  for (const d of groupBy) if (!PATTERN_DIMENSIONS.includes(d)) bad(`groupBy: unknown dimension; use ${PATTERN_DIMENSIONS.join(', ')}.`);
  if (new Set(groupBy).size !== groupBy.length) bad('groupBy names a dimension twice.');
  const quorum = args.quorum ?? defaultQuorum;
  if (quorum !== 'STRICT' && quorum !== 'BEST_EFFORT') bad('quorum must be STRICT or BEST_EFFORT.');

  const f = args.filter ?? {};
  const filter: PatternFilter = {};
  const countries = canonicalList('countries', f.countries, (v) => countryByAlpha2(v)?.alpha2);
  const regions = canonicalList('regions', f.regions, (v) => (isRegion(v) ? v : undefined));
  const subregions = canonicalList('subregions', f.subregions, (v) => (isSubregion(v) ? v : undefined));
  const sectors = canonicalList('sectors', f.sectors, (v) => (isSector(v) ? v : undefined));
  if (countries) filter.countries = countries;
  if (regions) filter.regions = regions;
  if (subregions) filter.subregions = subregions;
  if (sectors) filter.sectors = sectors;
  for (const k of ['from', 'to'] as const) {
    const v = f[k];
    if (v === null || v === undefined) continue;
    if (!isIsoDate(v)) bad(`filter.${k} must be a date written YYYY-MM-DD.`);
    filter[k] = v;
  }
  if (filter.from && filter.to && filter.from >= filter.to) bad('filter.from must be before filter.to (from is inclusive, to exclusive).');
  if (groupBy.includes('WEEK') || groupBy.includes('MONTH')) {
    if (!filter.from || !filter.to) bad('Grouping by WEEK or MONTH needs both filter.from and filter.to.');
    if (daysBetween(filter.from, filter.to) > MAX_WINDOW_DAYS) bad(`A time-grouped window may span at most ${MAX_WINDOW_DAYS} days; narrow from/to.`);
  }
  return { measure, groupBy, filter, quorum };
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

/** The contribution bounds a node applies for this query (ORGANISATIONS counts each organisation once per group). */
export function boundsFor(measure: PatternMeasure, defaults: { maxPartitions: number; maxPerPartition: number }): ContributionBounds {
  return { maxPartitions: defaults.maxPartitions, maxPerPartition: measure === 'ORGANISATIONS' ? 1 : defaults.maxPerPartition };
}

/** The filter in the contribution protocol's shape (same fields, same meaning). */
export function contributionFilter(filter: PatternFilter): ContributionFilter {
  return { ...filter };
}

/**
 * Fingerprint (hex SHA-256) of everything that determines an answer's distribution: the canonical
 * question (TLP levels included when restricted), the bounds and the privacy parameters. The
 * quorum and the node set are not part of it.
 */
export function queryFingerprint(q: PatternQuery, bounds: ContributionBounds, privacy: { rho: number; delta: number; multiplicity: number }): string {
  const canonical = JSON.stringify({
    v: 1,
    kind: 'crossBorderPattern',
    measure: q.measure,
    groupBy: q.groupBy,
    filter: [
      q.filter.countries ?? null,
      q.filter.regions ?? null,
      q.filter.subregions ?? null,
      q.filter.sectors ?? null,
      q.filter.from ?? null,
      q.filter.to ?? null,
      ...(q.filter.tlp ? [q.filter.tlp] : []),
    ],
    bounds: [bounds.maxPartitions, bounds.maxPerPartition],
    privacy: [privacy.rho, privacy.delta, privacy.multiplicity],
  });
  return createHash('sha256').update(canonical).digest('hex');
}
