/**
 * One cross-border pattern query, end to end, independent of transport:
 *
 *   plan    — validate the question, enumerate its public key domain, fix the bounds, derive the
 *             sensitivity and the noise mechanism (nothing has left the gateway yet);
 *   scatter — one contribution request to every admitted node, in parallel (injected);
 *   gather  — validate each partial against its bounds, apply the quorum rule, sum, and add noise
 *             once per cell through the privacy core.
 *
 * Admission (access policy, answer cache, budget reservation) sits between plan and scatter, behind
 * the injected {@link AdmissionPort}: a denial before the scatter costs nothing, and nothing is
 * scattered before the gate has reserved the charge.
 */
import type { Logger } from 'pino';
import { AccordError } from '../../schema/errors.js';
import type { ContributionBounds, ContributionRequest } from '../../schema/contract/index.js';
import {
  chargeToDp,
  compose,
  countSensitivity,
  down,
  gaussianForRho,
  partitionThreshold,
  selectPartitions,
  sumSensitivity,
  defaultEntropy,
  validateDelta,
  validateRho,
  type Entropy,
  type NoiseMechanism,
  type PrivacyCharge,
  type Sensitivity,
} from '../../schema/privacy/index.js';
import type { PrivacyDefaults, QuorumMode } from '../config.js';
import { keyDomain, type KeyDomain } from './domain.js';
import {
  boundsFor,
  canonicalNodes,
  canonicalQuery,
  contributionFilter,
  contributionMeasure,
  queryFingerprint,
  SEVERITY_CLAMP,
  type AggregateArgs,
  type AggregateDimension,
  type AggregateMeasure,
  type AggregateQuery,
  type QuestionKind,
} from './query.js';
import { validateContribution, type ValidGroup } from './validate.js';
import { splitKey } from './domain.js';

/** Why a node's partial is not in an answer. */
export type MissingReason = 'TIMEOUT' | 'UNREACHABLE' | 'INVALID_CONTRIBUTION' | 'ERROR' | 'SDL_DRIFT';

/** What came back from one node. `contribution` is the raw, unvalidated `data.contribution`. */
export type NodeOutcome =
  | { node: string; ok: true; contribution: unknown }
  | { node: string; ok: false; reason: Exclude<MissingReason, 'INVALID_CONTRIBUTION'>; /** catalog code the node gave, if any */ code?: string };

/** The transport that reaches the nodes. */
export interface Scatter {
  /** Ids of the nodes a query must ask now (admitted members), in registry order. */
  members(): string[];
  /** Sends `request` to each of `nodes` in parallel; resolves one outcome per node, in order. Never rejects. */
  scatter(nodes: readonly string[], request: ContributionRequest, context: unknown): Promise<NodeOutcome[]>;
}

/** Member-specific planning options the gate applies (TLP ceiling). */
export interface PlanOptions {
  /** TLP levels counted (sorted); absent: every level nodes contribute. */
  tlp?: string[];
}

/** What the gate decided for one query. */
export type Admission =
  | { kind: 'cached'; answer: AggregateAnswer }
  | {
      kind: 'fresh';
      plan: AggregatePlan;
      /** Nodes to ask (already charged). */
      nodes: string[];
      /** Handed to the scatter (grants are signed from it). */
      scatterContext: unknown;
      /** Records the gathered answer (cache, reservation) and returns what to release. */
      answered(answer: AggregateAnswer): Promise<AggregateAnswer>;
      /** Records that gathering failed after the scatter (the charge stays spent). */
      failed(error: unknown): Promise<void>;
    };

/**
 * Admission between plan and scatter: authentication is done; the gate plans for the member,
 * applies the access policy, serves the answer cache and reserves the budget. Throws AccordError:
 * POLICY_DENIED, BUDGET_EXHAUSTED, UNAUTHENTICATED, or what planning throws.
 */
export interface AdmissionPort {
  admit(input: {
    args: AggregateArgs;
    /** Nodes the query may ask: the ones it names, or every admitted node. */
    candidates: readonly string[];
    /** True when the query named its nodes. */
    explicit: boolean;
    /** The incoming request's context (the caller). */
    context: unknown;
    plan(options: PlanOptions): AggregatePlan;
  }): Promise<Admission>;
}

export interface AggregateDeps {
  scatter: Scatter;
  /** Admission; absent: every admitted node is asked, nothing is charged or cached (tools, benchmarks). */
  gate?: AdmissionPort;
  privacy: PrivacyDefaults;
  defaultQuorum: QuorumMode;
  maxCells: number;
  logger: Logger;
  /** Noise source; the privacy core's process-wide CSPRNG when absent. */
  entropy?: Entropy;
}

/** The two extra releases of an IMPACT query (severity sum and disruption count) and the ρ split. */
export interface ImpactPlan {
  sum: NoiseMechanism;
  sumSensitivity: Sensitivity;
  disrupted: NoiseMechanism;
  /** Share of the query's ρ given to the count, the severity sum and the disruption count. */
  split: { count: number; sum: number; disrupted: number };
}

/** Share of ρ per release in an IMPACT query (see docs/queries.md for why equal thirds). */
export const IMPACT_SPLIT = { count: 1 / 3, sum: 1 / 3, disrupted: 1 / 3 } as const;

export interface AggregatePlan {
  query: AggregateQuery;
  domain: KeyDomain;
  bounds: ContributionBounds;
  /** Sensitivity of the count release. */
  sensitivity: Sensitivity;
  /** Noise of the count release. */
  mechanism: NoiseMechanism;
  /** Present for IMPACT. */
  impact: ImpactPlan | null;
  /**
   * Partition selection for node-data keys: a key outside the public domain is released only when
   * its noisy count is ≥ threshold (τ); `delta` is the δ this spends. Null when every key is public.
   */
  selection: { threshold: number; delta: number } | null;
  /** The (ρ, δ) this query spends and its (ε, δ) statement. */
  charge: { rho: number; epsilon: number; delta: number };
  /** The approximate-zCDP charge per node (δ from partition selection only), what ledgers record. */
  zcdp: PrivacyCharge;
  queryId: string;
  request: ContributionRequest;
}

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

/** One node's budget for the asking member in the current period (numbers in ρ and δ). */
export interface NodeBudget {
  node: string;
  period: string;
  allocation: { rho: number; delta: number };
  spent: { rho: number; delta: number };
  remaining: { rho: number; delta: number };
  nodeCap: { rho: number; delta: number };
  nodeRemaining: { rho: number; delta: number };
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

/** The cell fields that hold a key. */
type KeyField = 'country' | 'region' | 'subregion' | 'sector' | 'week' | 'month' | 'exploit' | 'tool' | 'actor' | 'tlp' | 'vintage';

const CELL_FIELD: Record<AggregateDimension, KeyField> = {
  COUNTRY: 'country',
  REGION: 'region',
  SUBREGION: 'subregion',
  SECTOR: 'sector',
  WEEK: 'week',
  MONTH: 'month',
  EXPLOIT: 'exploit',
  TOOL: 'tool',
  ACTOR: 'actor',
  TLP: 'tlp',
  VINTAGE: 'vintage',
};

/** The key fields of a cell, all null: a cell sets those of its groupBy dimensions. */
export const NO_KEY: Readonly<Pick<AggregateCell, KeyField>> = Object.freeze({
  country: null,
  region: null,
  subregion: null,
  sector: null,
  week: null,
  month: null,
  exploit: null,
  tool: null,
  actor: null,
  tlp: null,
  vintage: null,
});

/** How node-data keys are released (stated in every answer that has them). */
export const SELECTION_METHOD = 'gaussian-threshold';

/**
 * Validates the question and fixes everything the answer's privacy depends on, from public
 * parameters only. Throws AccordError: INVALID_QUERY (malformed question, too many cells),
 * INVALID_RHO / INVALID_DELTA / INVALID_BOUNDS (deployment parameters the core refuses).
 */
export function planAggregate(args: AggregateArgs, deps: Pick<AggregateDeps, 'privacy' | 'defaultQuorum' | 'maxCells'>, options: PlanOptions = {}): AggregatePlan {
  const query = canonicalQuery(args, deps.defaultQuorum);
  if (options.tlp) {
    const ceiling = new Set(options.tlp);
    const levels = query.filter.tlp ? query.filter.tlp.filter((t) => ceiling.has(t)) : [...ceiling].sort();
    if (levels.length === 0) {
      throw new AccordError('INVALID_QUERY', 'filter.tlp names only TLP levels above your TLP ceiling; ask for levels your membership allows.', { field: 'tlp' });
    }
    query.filter.tlp = levels;
  }
  const domain = keyDomain(query, deps.maxCells);
  const { privacy } = deps;
  validateRho(privacy.rho);
  validateDelta(privacy.delta);
  const bounds = boundsFor(query.measure, privacy);
  const spec = { maxPartitions: bounds.maxPartitions, maxPerPartition: bounds.maxPerPartition, multiplicity: privacy.multiplicity };
  const sensitivity = countSensitivity(spec);
  let mechanism: NoiseMechanism;
  let impact: ImpactPlan | null = null;
  let spent: PrivacyCharge;
  if (query.measure === 'IMPACT') {
    const sumSens = sumSensitivity({ ...spec, clamp: { lo: SEVERITY_CLAMP.lo, hi: SEVERITY_CLAMP.hi }, gridExponent: SEVERITY_CLAMP.gridExponent });
    mechanism = gaussianForRho(down(privacy.rho * IMPACT_SPLIT.count), sensitivity);
    const sum = gaussianForRho(down(privacy.rho * IMPACT_SPLIT.sum), sumSens);
    const disrupted = gaussianForRho(down(privacy.rho * IMPACT_SPLIT.disrupted), sensitivity);
    impact = { sum, sumSensitivity: sumSens, disrupted, split: { ...IMPACT_SPLIT } };
    spent = compose(mechanism.charge(sensitivity), sum.charge(sumSens), disrupted.charge(sensitivity));
  } else {
    mechanism = gaussianForRho(privacy.rho, sensitivity);
    spent = mechanism.charge(sensitivity);
  }
  // δ: half to partition selection (when node-data keys can be released), the rest to the (ε, δ) statement
  let selection: AggregatePlan['selection'] = null;
  let conversionDelta = privacy.delta;
  if (domain.selection) {
    const selDelta = down(privacy.delta / 2);
    conversionDelta = down(privacy.delta - selDelta);
    selection = { threshold: partitionThreshold(mechanism, sensitivity, selDelta), delta: selDelta };
    spent = compose(spent, { rho: 0, delta: selDelta });
  }
  const dp = chargeToDp(spent, conversionDelta);
  const queryId = queryFingerprint(query, bounds, privacy);
  const request: ContributionRequest = {
    queryId,
    measure: contributionMeasure(query.measure),
    groupBy: [...query.groupBy],
    filter: contributionFilter(query.filter),
    bounds,
  };
  return { query, domain, bounds, sensitivity, mechanism, impact, selection, charge: { rho: spent.rho, epsilon: dp.epsilon, delta: dp.delta }, zcdp: spent, queryId, request };
}

/**
 * Validates the partials, applies the quorum rule, sums and noises once per cell.
 * Throws AccordError: CONTRIBUTION_INVALID (STRICT, a node's partial broke its bounds),
 * NODE_UNAVAILABLE (STRICT, a node did not answer), NO_NODES (nobody asked, or nobody answered).
 * Error details name nodes and reasons only, never numbers from partials.
 */
export function gatherAggregate(plan: AggregatePlan, asked: readonly string[], outcomes: readonly NodeOutcome[], deps: Pick<AggregateDeps, 'logger' | 'entropy'>): AggregateAnswer {
  const { domain } = plan;
  const n = domain.keys.length;
  const isImpact = plan.impact !== null;
  const totals = new Array<number>(n).fill(0);
  const sums = isImpact ? new Array<number>(n).fill(0) : null;
  const disrupted = isImpact ? new Array<number>(n).fill(0) : null;
  const openTotals = new Map<string, { count: number; sum: number; disrupted: number }>();
  const answered: string[] = [];
  const missing: MissingNode[] = [];
  const valid: ValidGroup[][] = [];
  for (const o of outcomes) {
    if (!o.ok) {
      missing.push({ node: o.node, reason: o.reason, code: o.code ?? null });
      continue;
    }
    const v = validateContribution(o.contribution, { node: o.node, queryId: plan.queryId, domain, bounds: plan.bounds });
    if (!v.ok) {
      deps.logger.warn({ code: 'CONTRIBUTION_INVALID', node: o.node, queryId: plan.queryId, problem: v.problem }, 'node contribution rejected');
      missing.push({ node: o.node, reason: 'INVALID_CONTRIBUTION', code: 'CONTRIBUTION_INVALID' });
      continue;
    }
    answered.push(o.node);
    valid.push(v.groups);
  }
  const missingDetails = missing.map((m) => ({ node: m.node, reason: m.reason }));
  if (plan.query.quorum === 'STRICT' && missing.length > 0) {
    if (missing.some((m) => m.reason === 'INVALID_CONTRIBUTION')) {
      throw new AccordError(
        'CONTRIBUTION_INVALID',
        'A node returned a contribution its bounds do not allow, so a strict-quorum answer cannot be given; retry with quorum BEST_EFFORT or ask the node operator to check the node.',
        { missing: missingDetails },
      );
    }
    throw new AccordError(
      'NODE_UNAVAILABLE',
      'Not every member node answered, so a strict-quorum answer cannot be given; retry later or with quorum BEST_EFFORT.',
      { missing: missingDetails },
    );
  }
  if (answered.length === 0) {
    throw new AccordError('NO_NODES', 'No member node answered the query; retry later.', { missing: missingDetails });
  }
  for (const groups of valid) {
    for (const g of groups) {
      if (g.pos >= 0) {
        totals[g.pos]! += g.count;
        if (sums) sums[g.pos]! += g.sum ?? 0;
        if (disrupted) disrupted[g.pos]! += g.disrupted ?? 0;
      } else {
        const t = openTotals.get(g.key!) ?? { count: 0, sum: 0, disrupted: 0 };
        t.count += g.count;
        t.sum += g.sum ?? 0;
        t.disrupted += g.disrupted ?? 0;
        openTotals.set(g.key!, t);
      }
    }
  }

  const entropy = deps.entropy ?? defaultEntropy();
  const mech = plan.mechanism;
  const acc = mech.accuracy();
  const ci = acc.ci95;
  const makeCell = (key: readonly string[], raw: number, selected: boolean, impact: AggregateCell['impact']): AggregateCell => {
    const cell: AggregateCell = {
      ...NO_KEY,
      value: Math.max(0, raw),
      rawValue: raw,
      stdDev: acc.stdDev,
      low: Math.max(0, raw - ci),
      high: Math.max(0, raw + ci),
      selected,
      impact,
    };
    domain.groupBy.forEach((d, j) => {
      cell[CELL_FIELD[d]] = key[j]!;
    });
    return cell;
  };

  const noisy = mech.releaseVector(totals, entropy);
  const noisySums = sums ? plan.impact!.sum.releaseVector(sums, entropy) : null;
  const noisyDisrupted = disrupted ? plan.impact!.disrupted.releaseVector(disrupted, entropy) : null;
  const cells: AggregateCell[] = domain.keys.map((key, i) =>
    makeCell(key, noisy[i]!, false, noisySums ? { rawSum: noisySums[i]!, rawDisrupted: noisyDisrupted![i]! } : null),
  );

  let selection: AggregateAnswer['selection'] = null;
  if (plan.selection) {
    // Noise every node-data key the nodes reported, keep those at or above τ (in random order), then
    // sort the survivors by key for a stable presentation (post-processing of the released set).
    const candidates = [...openTotals.entries()].map(([key, t]) => ({ key, t, noisy: mech.release(t.count, entropy) }));
    const kept = selectPartitions(candidates, plan.selection.threshold, entropy).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const c of kept) {
      const impact = plan.impact ? { rawSum: plan.impact.sum.release(c.t.sum, entropy), rawDisrupted: plan.impact.disrupted.release(c.t.disrupted, entropy) } : null;
      cells.push(makeCell(splitKey(c.key), c.noisy, true, impact));
    }
    selection = { method: SELECTION_METHOD, threshold: plan.selection.threshold, delta: plan.selection.delta, released: kept.length };
  }
  const view = (m: NoiseMechanism): ReleaseAccuracy => {
    const a = m.accuracy();
    return { mechanism: m.kind, scale: m.scale, stdDev: a.stdDev, ci95: a.ci95, confidence: a.confidence };
  };
  return {
    queryId: plan.queryId,
    question: plan.query.question,
    measure: plan.query.measure,
    groupBy: [...plan.query.groupBy],
    cells,
    accuracy: view(mech),
    impact: plan.impact ? { sum: view(plan.impact.sum), disrupted: view(plan.impact.disrupted), split: { ...plan.impact.split } } : null,
    selection,
    charge: plan.charge,
    coverage: { asked: [...asked], answered, missing, complete: missing.length === 0, excluded: [] },
    cached: false,
    remainingBudget: [],
  };
}

/**
 * Plans, admits (through the gate, when there is one), scatters and gathers. Without a gate every
 * admitted node is asked. Throws what {@link planAggregate}, the gate and {@link gatherAggregate} throw,
 * plus NO_NODES when no node is admitted and NODE_UNKNOWN for a named node that is not admitted
 * (nothing is sent then).
 */
export async function answerAggregate(args: AggregateArgs, deps: AggregateDeps, context?: unknown): Promise<AggregateAnswer> {
  const admitted = deps.scatter.members();
  const named = canonicalNodes(args.nodes, admitted);
  const candidates = named ?? admitted;
  if (candidates.length === 0) throw new AccordError('NO_NODES', 'No node is admitted to the federation; ask platform staff to register or fix a node.');
  let plan: AggregatePlan;
  let asked: string[];
  let scatterContext: unknown = context;
  let admission: Extract<Admission, { kind: 'fresh' }> | undefined;
  if (deps.gate) {
    const a = await deps.gate.admit({ args, candidates, explicit: named !== undefined, context, plan: (o) => planAggregate(args, deps, o) });
    if (a.kind === 'cached') return a.answer;
    admission = a;
    plan = a.plan;
    asked = a.nodes;
    scatterContext = a.scatterContext;
  } else {
    plan = planAggregate(args, deps);
    asked = [...candidates];
  }
  const started = performance.now();
  let answer: AggregateAnswer;
  try {
    const outcomes = await deps.scatter.scatter(asked, plan.request, scatterContext);
    answer = gatherAggregate(plan, asked, outcomes, deps);
  } catch (e) {
    if (admission) await admission.failed(e);
    throw e;
  }
  if (admission) answer = await admission.answered(answer);
  deps.logger.info(
    {
      event: 'pattern',
      queryId: plan.queryId,
      quorum: plan.query.quorum,
      asked: asked.length,
      answered: answer.coverage.answered.length,
      cells: answer.cells.length,
      rho: plan.charge.rho,
      ms: Math.round(performance.now() - started),
    },
    'pattern answered',
  );
  return answer;
}
