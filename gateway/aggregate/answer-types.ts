/**
 * The answer to one aggregate: every type the gather step produces and admission decorates.
 * Cells hold noised values only; coverage names nodes, never numbers from partials.
 */
import type { AggregateDimension, AggregateMeasure, QuestionKind } from './query.js';
import type { NodeBudget } from '../ledger/budget-view.js';

/** Why a node's partial is not in an answer. */
export type MissingReason = 'TIMEOUT' | 'UNREACHABLE' | 'INVALID_CONTRIBUTION' | 'ERROR' | 'SDL_DRIFT';

export interface AggregateCell {
  country: string | null;
  region: string | null;
  subregion: string | null;
  sector: string | null;
  week: string | null;
  month: string | null;
  /** CVE id. */
  exploit: string | null;
  tool: string | null;
  actor: string | null;
  tlp: string | null;
  vintage: string | null;
  /** Noised count post-processed to max(0, rawValue). */
  value: number;
  /** Noised count (may be negative). */
  rawValue: number;
  /** Standard deviation of the noise in rawValue. */
  stdDev: number;
  /** 95% interval for the true count, clipped at 0. */
  low: number;
  high: number;
  /** True when the key came from node data and passed partition selection. */
  selected: boolean;
  /** IMPACT only: noised severity sum (grid units = severity points) and noised disruption count, unclipped. */
  impact: { rawSum: number; rawDisrupted: number } | null;
}

export interface MissingNode {
  node: string;
  reason: MissingReason;
  code: string | null;
}

/** A node left out of an answer by the member's access policy. */
export interface PolicyExclusion {
  node: string;
  reason: 'FORBIDDEN' | 'NO_PERMIT';
  /** Ids of the forbid rules that matched (empty for NO_PERMIT). */
  rules: string[];
}

export interface ReleaseAccuracy {
  mechanism: string;
  scale: number;
  stdDev: number;
  ci95: number;
  confidence: number;
}

export interface AggregateAnswer {
  queryId: string;
  question: QuestionKind;
  measure: AggregateMeasure;
  groupBy: AggregateDimension[];
  /** The public-domain cells (always, in a fixed order), then the selected node-data cells (sorted by key). */
  cells: AggregateCell[];
  /** Accuracy of the count release (every cell). */
  accuracy: ReleaseAccuracy;
  /** IMPACT only: accuracy of the severity-sum and disruption releases and the ρ split. */
  impact: { sum: ReleaseAccuracy; disrupted: ReleaseAccuracy; split: { count: number; sum: number; disrupted: number } } | null;
  /** Partition selection of node-data keys, when the question has them. */
  selection: { method: string; threshold: number; delta: number; /** Node-data keys released. */ released: number } | null;
  charge: { rho: number; epsilon: number; delta: number };
  coverage: { asked: string[]; answered: string[]; missing: MissingNode[]; complete: boolean; excluded: PolicyExclusion[] };
  /** True when served from the answer cache (nothing was charged). */
  cached: boolean;
  /** The member's budget on every node asked, after this answer (a thunk when read lazily). */
  remainingBudget: NodeBudget[] | (() => Promise<NodeBudget[]>);
}

