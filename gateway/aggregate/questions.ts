/**
 * The analyst's questions, each one aggregate of the contribution protocol plus post-processing.
 *
 * Every question maps its arguments onto one {@link AggregateArgs} (one canonical query, one
 * contribution request per node, one charge) and shapes the released {@link AggregateAnswer} into
 * its own form. Shaping reads only released values (noisy counts, sums and their public accuracy),
 * so it costs no privacy: a trend's change flags, a top-k's ranking, vintage shares and impact
 * ratios are all post-processing. Identical aggregates asked through different questions share
 * one fingerprint and therefore one cached answer.
 */
import { AccordError } from '../../schema/errors.js';
import { INDICATOR_TYPES, indicatorHash, normaliseIndicator } from '../../schema/contract/indicator.js';
import { noiseHalfWidth } from '../../schema/privacy/index.js';
import type { QuorumMode } from '../config.js';
import type { AggregateAnswer, AggregateCell, ReleaseAccuracy } from './answer-types.js';
import { inAskedOrder } from './gather.js';
import { SEVERITY_CLAMP, type AggregateArgs, type AggregateDimension, type AggregateFilterInput, type AggregateMeasure, type QuestionKind } from './query.js';

function bad(message: string, details?: Record<string, unknown>): never {
  throw new AccordError('INVALID_QUERY', message, details);
}

interface Common {
  filter?: AggregateFilterInput | null;
  quorum?: QuorumMode | null;
  nodes?: readonly string[] | null;
}

/** The GraphQL type of each question's answer (the analyst SDL's `NoisedAnswer` implementations). */
export const ANSWER_TYPE = {
  crossBorderPattern: 'PatternAnswer',
  trend: 'TrendAnswer',
  topK: 'TopKAnswer',
  exploitVintages: 'VintageAnswer',
  sectorImpact: 'ImpactAnswer',
  indicatorPrevalence: 'PrevalenceAnswer',
} as const satisfies Record<QuestionKind, string>;

/** The envelope every answer carries (copied from the aggregate), with its GraphQL type. */
export type Envelope = Pick<AggregateAnswer, 'queryId' | 'question' | 'measure' | 'accuracy' | 'charge' | 'coverage' | 'cached' | 'remainingBudget' | 'selection'> & {
  __typename: (typeof ANSWER_TYPE)[QuestionKind];
};

/**
 * The envelope of an answer to `question`. The aggregate may have been cached from another question
 * over the same aggregate, so the question is the asker's, not the stored answer's.
 */
function envelope(a: AggregateAnswer, question: QuestionKind): Envelope {
  return {
    __typename: ANSWER_TYPE[question],
    queryId: a.queryId,
    question,
    measure: a.measure,
    accuracy: a.accuracy,
    charge: a.charge,
    coverage: a.coverage,
    cached: a.cached,
    remainingBudget: a.remainingBudget,
    selection: a.selection,
  };
}

/** A crossBorderPattern answer: the aggregate's cells, in the order of the asker's `groupBy`. */
export type PatternAnswer = AggregateAnswer & Envelope;

/** Throws AccordError('INTERNAL') when `groupBy` is not an ordering of the answer's dimensions. */
export function shapePattern(a: AggregateAnswer, groupBy: readonly AggregateDimension[] = a.groupBy): PatternAnswer {
  return { ...inAskedOrder(a, groupBy), ...envelope(a, 'crossBorderPattern') };
}

/** A noised count with its accuracy: the GraphQL `Estimate`. */
export interface Estimate {
  value: number;
  rawValue: number;
  stdDev: number;
  low: number;
  high: number;
}

function estimateOf(c: AggregateCell): Estimate {
  return { value: c.value, rawValue: c.rawValue, stdDev: c.stdDev, low: c.low, high: c.high };
}

// ---------------------------------------------------------------------------------------------
// trend

export type TrendInterval = 'WEEK' | 'MONTH';
/** How a bucket compares with the one before it. */
export type TrendChange = 'FIRST' | 'UP' | 'DOWN' | 'WITHIN_NOISE';

export interface TrendArgs extends Common {
  measure?: AggregateMeasure | null;
  interval: TrendInterval;
}

export interface TrendBucket extends Estimate {
  period: string;
  /**
   * UP / DOWN when the 95% intervals (rawValue ± ci95, unclipped) of this bucket and the previous
   * one do not overlap: a change larger than the noise explains. WITHIN_NOISE otherwise.
   */
  change: TrendChange;
}

export interface TrendAnswer extends Envelope {
  interval: TrendInterval;
  buckets: TrendBucket[];
  /** Buckets flagged UP or DOWN. */
  significantChanges: number;
}

export function trendArgs(a: TrendArgs): AggregateArgs {
  if (a.interval !== 'WEEK' && a.interval !== 'MONTH') bad('interval must be WEEK or MONTH.');
  if (!a.filter?.from || !a.filter?.to) bad('A trend needs filter.from and filter.to (the series window).');
  return { question: 'trend', measure: a.measure ?? 'INCIDENTS', groupBy: [a.interval], filter: a.filter, quorum: a.quorum ?? null, nodes: a.nodes ?? null };
}

/** The change flag of `cur` against `prev` given the interval half-width `ci`. */
export function changeFlag(prev: number, cur: number, ci: number): TrendChange {
  if (cur - ci > prev + ci) return 'UP';
  if (cur + ci < prev - ci) return 'DOWN';
  return 'WITHIN_NOISE';
}

export function shapeTrend(a: AggregateAnswer, interval: TrendInterval): TrendAnswer {
  const ci = a.accuracy.ci95;
  const field = interval === 'WEEK' ? 'week' : 'month';
  let prev: number | undefined;
  let significant = 0;
  const buckets = a.cells.map((c): TrendBucket => {
    const change = prev === undefined ? 'FIRST' : changeFlag(prev, c.rawValue, ci);
    if (change === 'UP' || change === 'DOWN') significant++;
    prev = c.rawValue;
    return { period: c[field]!, ...estimateOf(c), change };
  });
  return { ...envelope(a, 'trend'), interval, buckets, significantChanges: significant };
}

// ---------------------------------------------------------------------------------------------
// top-k

export type TopKDimension = 'EXPLOIT' | 'TOOL' | 'ACTOR';
export const MAX_K = 100;

export interface TopKArgs extends Common {
  k: number;
  by: TopKDimension;
  measure?: AggregateMeasure | null;
}

export interface TopKEntry extends Estimate {
  rank: number;
  exploit: string | null;
  tool: string | null;
  actor: string | null;
  /** True when the key came from node data (passed partition selection). */
  selected: boolean;
}

export interface TopKAnswer extends Envelope {
  by: TopKDimension;
  k: number;
  method: string;
  entries: TopKEntry[];
}

/** How top-k is computed (stated in the answer and in docs/queries.md). */
export const TOPK_METHOD =
  'noisy-counts-then-rank: one discrete-Gaussian count per public key (every KEV CVE or catalogued actor) and per node-data key that passes thresholded partition selection; the k largest noisy counts, ties by key';

export function topKArgs(a: TopKArgs): AggregateArgs {
  if (!Number.isInteger(a.k) || a.k < 1 || a.k > MAX_K) bad(`k must be an integer between 1 and ${MAX_K}.`, { field: 'k' });
  if (a.by !== 'EXPLOIT' && a.by !== 'TOOL' && a.by !== 'ACTOR') bad('by must be EXPLOIT, TOOL or ACTOR.');
  return { question: 'topK', measure: a.measure ?? 'ORGANISATIONS', groupBy: [a.by], filter: a.filter ?? null, quorum: a.quorum ?? null, nodes: a.nodes ?? null };
}

export function shapeTopK(a: AggregateAnswer, by: TopKDimension, k: number): TopKAnswer {
  const field = by === 'EXPLOIT' ? 'exploit' : by === 'TOOL' ? 'tool' : 'actor';
  const ranked = [...a.cells].sort((x, y) => y.rawValue - x.rawValue || (x[field]! < y[field]! ? -1 : x[field]! > y[field]! ? 1 : 0)).slice(0, k);
  return {
    ...envelope(a, 'topK'),
    by,
    k,
    method: TOPK_METHOD,
    entries: ranked.map((c, i) => ({ rank: i + 1, exploit: c.exploit, tool: c.tool, actor: c.actor, selected: c.selected, ...estimateOf(c) })),
  };
}

// ---------------------------------------------------------------------------------------------
// exploit vintages

export type VintageGrouping = Extract<AggregateDimension, 'SECTOR' | 'REGION' | 'SUBREGION' | 'COUNTRY'>;
const VINTAGE_GROUPINGS: readonly VintageGrouping[] = ['SECTOR', 'REGION', 'SUBREGION', 'COUNTRY'];

export interface VintageArgs extends Common {
  by?: readonly VintageGrouping[] | null;
  measure?: AggregateMeasure | null;
}

export interface VintageCell extends Estimate {
  vintage: string;
  sector: string | null;
  region: string | null;
  subregion: string | null;
  country: string | null;
  /** value ÷ the sum of values of the same group's buckets (null when that sum is 0). Post-processing. */
  share: number | null;
}

export interface VintageAnswer extends Envelope {
  by: VintageGrouping[];
  cells: VintageCell[];
}

export function vintageArgs(a: VintageArgs): AggregateArgs {
  const by = [...(a.by ?? [])];
  for (const d of by) if (!VINTAGE_GROUPINGS.includes(d)) bad(`by: use ${VINTAGE_GROUPINGS.join(', ')}.`);
  return { question: 'exploitVintages', measure: a.measure ?? 'INCIDENTS', groupBy: [...by, 'VINTAGE'], filter: a.filter ?? null, quorum: a.quorum ?? null, nodes: a.nodes ?? null };
}

export function shapeVintages(answer: AggregateAnswer, by: readonly VintageGrouping[]): VintageAnswer {
  const a = inAskedOrder(answer, [...by, 'VINTAGE']);
  const groupOf = (c: AggregateCell): string => JSON.stringify([c.sector, c.region, c.subregion, c.country]);
  const totals = new Map<string, number>();
  for (const c of a.cells) totals.set(groupOf(c), (totals.get(groupOf(c)) ?? 0) + c.value);
  return {
    ...envelope(a, 'exploitVintages'),
    by: [...by],
    cells: a.cells.map((c) => {
      const t = totals.get(groupOf(c))!;
      return { vintage: c.vintage!, sector: c.sector, region: c.region, subregion: c.subregion, country: c.country, ...estimateOf(c), share: t > 0 ? c.value / t : null };
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// sector impact

export type ImpactDimension = Extract<AggregateDimension, 'SECTOR' | 'REGION' | 'SUBREGION' | 'COUNTRY' | 'MONTH' | 'TLP'>;
const IMPACT_DIMENSIONS: readonly ImpactDimension[] = ['SECTOR', 'REGION', 'SUBREGION', 'COUNTRY', 'MONTH', 'TLP'];

export interface ImpactArgs extends Common {
  groupBy?: readonly ImpactDimension[] | null;
}

/** A ratio of noisy releases with a conservative interval. */
export interface RatioEstimate {
  /** The ratio of the noisy values, clamped to its range; null when the noisy count is below 1. */
  value: number | null;
  /** Delta-method standard deviation (approximate; null with value). */
  stdDev: number | null;
  /** Interval holding the true ratio with probability ≥ confidence (the whole range when the count is too noisy). */
  low: number;
  high: number;
  confidence: number;
}

export interface ImpactCell {
  sector: string | null;
  region: string | null;
  subregion: string | null;
  country: string | null;
  month: string | null;
  tlp: string | null;
  incidents: Estimate;
  meanSeverity: RatioEstimate;
  disruptionShare: RatioEstimate;
  /** Noised severity sum and disruption count (unclipped), for analysts who combine cells. */
  rawSeveritySum: number;
  rawDisrupted: number;
}

export interface ImpactAnswer extends Envelope {
  groupBy: ImpactDimension[];
  cells: ImpactCell[];
  /** Accuracy of the severity-sum and disruption-count releases. */
  severitySumAccuracy: ReleaseAccuracy;
  disruptionAccuracy: ReleaseAccuracy;
  /** Share of ρ given to the incident count, the severity sum and the disruption count. */
  split: { count: number; sum: number; disrupted: number };
}

export function impactArgs(a: ImpactArgs): AggregateArgs {
  const groupBy = [...(a.groupBy ?? ['SECTOR'])];
  for (const d of groupBy) if (!IMPACT_DIMENSIONS.includes(d)) bad(`groupBy: use ${IMPACT_DIMENSIONS.join(', ')}.`);
  return { question: 'sectorImpact', measure: 'IMPACT', groupBy, filter: a.filter ?? null, quorum: a.quorum ?? null, nodes: a.nodes ?? null };
}

/** Confidence of each part of a ratio so that the ratio's interval holds with ≥ 95% (union bound over two parts). */
export const RATIO_PART_CONFIDENCE = 0.975;
export const RATIO_CONFIDENCE = 0.95;

/**
 * num/den from noisy values with half-widths hNum, hDen (each at 97.5%): the interval
 * [(num − hNum)/(den + hDen), (num + hNum)/(den − hDen)] ∩ [lo, hi] holds the true ratio whenever both
 * parts are inside their intervals (probability ≥ 95%); when den − hDen < 1 it is [lo, hi].
 */
export function ratioEstimate(
  num: number,
  den: number,
  parts: { sdNum: number; sdDen: number; hNum: number; hDen: number },
  range: { lo: number; hi: number },
): RatioEstimate {
  const clamp = (x: number): number => Math.min(range.hi, Math.max(range.lo, x));
  const value = den >= 1 ? clamp(num / den) : null;
  const stdDev = value === null ? null : Math.sqrt(parts.sdNum ** 2 + value * value * parts.sdDen ** 2) / den;
  const denLow = den - parts.hDen;
  const low = denLow >= 1 ? clamp((num - parts.hNum) / (den + parts.hDen)) : range.lo;
  const high = denLow >= 1 ? clamp((num + parts.hNum) / denLow) : range.hi;
  return { value, stdDev, low, high, confidence: RATIO_CONFIDENCE };
}

export function shapeImpact(answer: AggregateAnswer, groupBy: readonly ImpactDimension[]): ImpactAnswer {
  const a = inAskedOrder(answer, groupBy);
  const imp = a.impact;
  if (!imp) throw new AccordError('INTERNAL', 'An impact answer lacks its severity and disruption releases.');
  const h = (acc: ReleaseAccuracy): number => noiseHalfWidth(acc.mechanism as 'discrete-gaussian', acc.scale, RATIO_PART_CONFIDENCE);
  const hCount = h(a.accuracy);
  const hSum = h(imp.sum);
  const hDis = h(imp.disrupted);
  return {
    ...envelope(a, 'sectorImpact'),
    groupBy: [...groupBy],
    severitySumAccuracy: imp.sum,
    disruptionAccuracy: imp.disrupted,
    split: imp.split,
    cells: a.cells.map((c) => {
      const { rawSum, rawDisrupted } = c.impact!;
      return {
        sector: c.sector,
        region: c.region,
        subregion: c.subregion,
        country: c.country,
        month: c.month,
        tlp: c.tlp,
        incidents: estimateOf(c),
        meanSeverity: ratioEstimate(rawSum, c.rawValue, { sdNum: imp.sum.stdDev, sdDen: a.accuracy.stdDev, hNum: hSum, hDen: hCount }, { lo: SEVERITY_CLAMP.lo, hi: SEVERITY_CLAMP.hi }),
        disruptionShare: ratioEstimate(rawDisrupted, c.rawValue, { sdNum: imp.disrupted.stdDev, sdDen: a.accuracy.stdDev, hNum: hDis, hDen: hCount }, { lo: 0, hi: 1 }),
        rawSeveritySum: rawSum,
        rawDisrupted,
      };
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// indicator prevalence

export interface IndicatorInput {
  type: string;
  value: string;
}

export interface PrevalenceArgs {
  indicator: IndicatorInput;
  days?: number | null;
  quorum?: QuorumMode | null;
  nodes?: readonly string[] | null;
}

export interface PrevalenceAnswer extends Envelope {
  indicatorType: string;
  window: { from: string; to: string; days: number };
  /** Distinct organisations that reported the indicator in the window (noised). */
  organisations: Estimate;
}

export const MAX_PREVALENCE_DAYS = 3_660;

/**
 * The aggregate behind a prevalence question: distinct organisations with an incident carrying the
 * indicator's keyed hash in the last `days` days up to and including `today` (UTC). Throws
 * INVALID_QUERY (unknown type, malformed value, bad days) or INDICATORS_UNAVAILABLE (no
 * federation indicator key configured).
 */
export function prevalenceArgs(a: PrevalenceArgs, key: string | undefined, today: string): { args: AggregateArgs; type: string; window: { from: string; to: string; days: number } } {
  if (!key) {
    throw new AccordError('INDICATORS_UNAVAILABLE', 'This gateway has no federation indicator key, so it cannot ask about indicators; ask platform staff to configure one.');
  }
  const type = String(a.indicator?.type ?? '').trim();
  if (!(INDICATOR_TYPES as readonly string[]).includes(type)) bad(`indicator.type must be one of ${INDICATOR_TYPES.join(', ')}.`, { field: 'indicator.type' });
  const value = typeof a.indicator?.value === 'string' && a.indicator.value.length <= 2048 ? normaliseIndicator(type, a.indicator.value) : undefined;
  if (value === undefined) bad(`indicator.value is not a valid ${type} value.`, { field: 'indicator.value' });
  const days = a.days ?? 30;
  if (!Number.isInteger(days) || days < 1 || days > MAX_PREVALENCE_DAYS) bad(`days must be an integer between 1 and ${MAX_PREVALENCE_DAYS}.`, { field: 'days' });
  const toMs = Date.parse(`${today}T00:00:00Z`) + 86_400_000;
  const to = new Date(toMs).toISOString().slice(0, 10);
  const from = new Date(toMs - days * 86_400_000).toISOString().slice(0, 10);
  return {
    args: { question: 'indicatorPrevalence', measure: 'ORGANISATIONS', groupBy: [], filter: { from, to }, indicators: [indicatorHash(key, type, value)], quorum: a.quorum ?? null, nodes: a.nodes ?? null },
    type,
    window: { from, to, days },
  };
}

export function shapePrevalence(a: AggregateAnswer, type: string, window: { from: string; to: string; days: number }): PrevalenceAnswer {
  return { ...envelope(a, 'indicatorPrevalence'), indicatorType: type, window, organisations: estimateOf(a.cells[0]!) };
}
