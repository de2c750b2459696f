/**
 * Validation of contribution requests. Everything the SQL builder uses passes through here: after
 * {@link validateContributionRequest} a request names only allow-listed dimensions and measures,
 * carries well-formed dates and integer bounds, and its filter values are strings of at most the
 * contract's longest key (`schema/contract/keys.ts`), CVE ids for `exploits`. A tool or actor value
 * that is not a contract key is kept as sent: no stored key equals it, so it matches nothing.
 */
import { DIMENSIONS, MEASURES, type ContributionFilter, type ContributionRequest, type Dimension, type Measure } from '../../schema/contract/contribution.js';
import { AccordError } from '../../schema/errors.js';
import { validateBounds as coreValidateBounds } from '../../schema/privacy/index.js';
import { isIsoDate } from '../../schema/contract/calendar.js';
import { isIndicatorHash } from '../../schema/contract/indicator.js';
import { isContractKey, MAX_KEY_LENGTH } from '../../schema/contract/keys.js';
import { MAX_DIMENSIONS, MAX_FILTER_VALUES, MAX_INDICATORS } from '../../schema/contract/limits.js';

export { MAX_DIMENSIONS, MAX_FILTER_VALUES, MAX_INDICATORS };
/** Largest |clamp bound| / 2^k, so that per-row grid units and their sums stay exact integers. */
export const MAX_GRID_UNITS_PER_ROW = 2 ** 32;

const FILTER_LISTS = ['countries', 'regions', 'subregions', 'sectors', 'exploits', 'tools', 'actors', 'tlp'] as const;
type FilterList = (typeof FILTER_LISTS)[number];
const FILTER_KEYS = new Set<string>([...FILTER_LISTS, 'indicators', 'from', 'to']);

/** A validated request: bounds resolved for the measure, filter lists deduplicated. */
export interface ValidatedRequest {
  queryId: string;
  measure: Measure;
  groupBy: Dimension[];
  filter: ValidatedFilter;
  bounds: ResolvedBounds;
}

export type ValidatedFilter = { [K in FilterList]?: string[] } & {
  /** Indicator hashes (64 lower-case hex digits each), 1 to {@link MAX_INDICATORS}, deduplicated. */
  indicators?: string[];
  from?: string;
  to?: string;
};

export interface ResolvedBounds {
  /** L0: groups per organisation. */
  maxPartitions: number;
  /** L∞: rows per organisation per group (1 for ORGANISATIONS). */
  maxPerPartition: number;
  /** Present for SEVERITY_SUM only. */
  clamp?: { lo: number; hi: number; gridExponent: number };
}

/** True for measures that report a clamped sum. */
export function isSumMeasure(m: Measure): boolean {
  return m === 'SEVERITY_SUM';
}

function query(message: string, details: Record<string, unknown> = {}): AccordError {
  return new AccordError('INVALID_QUERY', message, details);
}

function bounds(message: string, details: Record<string, unknown> = {}): AccordError {
  return new AccordError('INVALID_BOUNDS', message, details);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function validateFilter(raw: unknown): ValidatedFilter {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) throw query('The filter must be an object.', { field: 'filter' });
  for (const key of Object.keys(raw)) {
    if (!FILTER_KEYS.has(key)) throw query(`Unknown filter "${key.slice(0, 64)}".`, { field: `filter.${key.slice(0, 64)}` });
  }
  const out: ValidatedFilter = {};
  for (const key of FILTER_LISTS) {
    const list = raw[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw query(`Filter "${key}" must be a list of strings.`, { field: `filter.${key}` });
    if (list.length > MAX_FILTER_VALUES) throw query(`Filter "${key}" lists more than ${MAX_FILTER_VALUES} values.`, { field: `filter.${key}` });
    for (const v of list) {
      if (typeof v !== 'string' || v.length === 0 || v.length > MAX_KEY_LENGTH) {
        throw query(`Filter "${key}" holds a value that is not a non-empty string of at most ${MAX_KEY_LENGTH} characters.`, { field: `filter.${key}` });
      }
      if (key === 'exploits' && !isContractKey('EXPLOIT', v)) throw query(`Filter "exploits" holds a value that is not a CVE id (CVE-YYYY-NNNN, 4 to 7 digits).`, { field: 'filter.exploits' });
    }
    out[key] = [...new Set(list as string[])];
  }
  const indicators = raw.indicators;
  if (indicators !== undefined && indicators !== null) {
    if (!Array.isArray(indicators) || indicators.length === 0 || indicators.length > MAX_INDICATORS) {
      throw query(`Filter "indicators" must be a list of 1 to ${MAX_INDICATORS} indicator hashes.`, { field: 'filter.indicators' });
    }
    if (!indicators.every(isIndicatorHash)) {
      throw query('Filter "indicators" holds a value that is not an indicator hash (64 lower-case hex digits).', { field: 'filter.indicators' });
    }
    out.indicators = [...new Set(indicators)];
  }
  for (const key of ['from', 'to'] as const) {
    const v = raw[key];
    if (v === undefined || v === null) continue;
    if (!isIsoDate(v)) throw query(`Filter "${key}" is not a YYYY-MM-DD date.`, { field: `filter.${key}` });
    out[key] = v;
  }
  if (out.from !== undefined && out.to !== undefined && out.from >= out.to) {
    throw query('The date window is empty: "from" (inclusive) must be before "to" (exclusive).', { field: 'filter.to' });
  }
  return out;
}

/**
 * Bounds go through the privacy core's `validateBounds`, so node and gateway accept exactly the same
 * bounds; the node adds what only the node needs (a clamp for sums, exact per-row grid units).
 */
function validateBounds(raw: unknown, measure: Measure): ResolvedBounds {
  if (!isObject(raw)) throw bounds('Contribution bounds are missing.', { field: 'bounds' });
  const { maxPartitions, maxPerPartition, clampLo, clampHi, gridExponent } = raw;
  const given = (v: unknown): boolean => v !== undefined && v !== null;
  if (given(clampLo) !== given(clampHi)) throw bounds('Give both clampLo and clampHi, or neither.', { field: 'bounds.clampLo' });
  const spec = coreValidateBounds({
    maxPartitions: maxPartitions as number,
    maxPerPartition: maxPerPartition as number,
    ...(given(gridExponent) ? { gridExponent: gridExponent as number } : {}),
    ...(given(clampLo) ? { clamp: { lo: clampLo as number, hi: clampHi as number } } : {}),
  });
  if (measure === 'ORGANISATIONS') return { maxPartitions: spec.maxPartitions, maxPerPartition: 1 };
  if (!isSumMeasure(measure)) return { maxPartitions: spec.maxPartitions, maxPerPartition: spec.maxPerPartition };
  if (!spec.clamp) throw bounds('A sum measure needs both clampLo and clampHi.', { field: 'bounds.clampLo' });
  const { lo, hi } = spec.clamp;
  const k = spec.gridExponent;
  if (Math.max(Math.abs(lo), Math.abs(hi)) / 2 ** k > MAX_GRID_UNITS_PER_ROW) {
    throw bounds('The clamp range is too wide for the grid: raise gridExponent or narrow the clamp.', { field: 'bounds.gridExponent' });
  }
  return { maxPartitions: spec.maxPartitions, maxPerPartition: spec.maxPerPartition, clamp: { lo, hi, gridExponent: k } };
}

/**
 * Checks a contribution request and returns its validated form.
 * Throws AccordError('INVALID_QUERY') for a missing/overlong query id, an unknown measure, an unknown
 * or repeated dimension, more than {@link MAX_DIMENSIONS} dimensions, an unknown filter, malformed
 * filter values (empty, longer than the contract's longest key, an exploit that is not a CVE id), an empty, overlong or malformed indicator list, or an empty/bad date window; AccordError('INVALID_BOUNDS') for bounds the privacy
 * core refuses (non-integer or out-of-range L0/L∞/k, clampLo > clampHi, …), a lone clamp bound, or a
 * sum without clamps.
 */
export function validateContributionRequest(raw: unknown): ValidatedRequest {
  if (!isObject(raw)) throw query('The contribution request must be an object.');
  const { queryId, measure, groupBy, filter } = raw as Partial<ContributionRequest> & Record<string, unknown>;
  if (typeof queryId !== 'string' || queryId.length === 0 || queryId.length > 255) {
    throw query('queryId must be a non-empty string of at most 255 characters.', { field: 'queryId' });
  }
  if (typeof measure !== 'string' || !(MEASURES as readonly string[]).includes(measure)) {
    throw query(`Unknown measure; expected one of ${MEASURES.join(', ')}.`, { field: 'measure' });
  }
  if (!Array.isArray(groupBy)) throw query('groupBy must be a list of dimensions.', { field: 'groupBy' });
  if (groupBy.length > MAX_DIMENSIONS) throw query(`At most ${MAX_DIMENSIONS} group-by dimensions are allowed.`, { field: 'groupBy' });
  const seen = new Set<string>();
  for (const d of groupBy) {
    if (typeof d !== 'string' || !(DIMENSIONS as readonly string[]).includes(d)) {
      throw query(`Unknown dimension; expected one of ${DIMENSIONS.join(', ')}.`, { field: 'groupBy' });
    }
    if (seen.has(d)) throw query(`Dimension ${d} is listed twice.`, { field: 'groupBy' });
    seen.add(d);
  }
  const validFilter = validateFilter(filter as ContributionFilter | undefined);
  return {
    queryId,
    measure: measure as Measure,
    groupBy: [...(groupBy as Dimension[])],
    filter: validFilter,
    bounds: validateBounds(raw.bounds, measure as Measure),
  };
}
