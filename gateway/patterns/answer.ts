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
 * the injected {@link PatternGate}: a denial before the scatter costs nothing, and nothing is
 * scattered before the gate has reserved the charge.
 */
import type { Logger } from 'pino';
import { AccordError } from '../../schema/errors.js';
import type { ContributionBounds, ContributionRequest } from '../../schema/contract/index.js';
import {
  chargeToDp,
  countSensitivity,
  gaussianForRho,
  validateDelta,
  validateRho,
  type Entropy,
  type NoiseMechanism,
  type PrivacyCharge,
  type Sensitivity,
} from '../../schema/privacy/index.js';
import type { PrivacyDefaults, QuorumMode } from '../config.js';
import { keyDomain, type KeyDomain } from './domain.js';
import { boundsFor, canonicalNodes, canonicalQuery, contributionFilter, queryFingerprint, type PatternArgs, type PatternDimension, type PatternMeasure, type PatternQuery } from './query.js';
import { validateContribution } from './validate.js';

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
  | { kind: 'cached'; answer: PatternAnswer }
  | {
      kind: 'fresh';
      plan: PatternPlan;
      /** Nodes to ask (already charged). */
      nodes: string[];
      /** Handed to the scatter (grants are signed from it). */
      scatterContext: unknown;
      /** Records the gathered answer (cache, reservation) and returns what to release. */
      answered(answer: PatternAnswer): Promise<PatternAnswer>;
      /** Records that gathering failed after the scatter (the charge stays spent). */
      failed(error: unknown): Promise<void>;
    };

/**
 * Admission between plan and scatter: authentication is done; the gate plans for the member,
 * applies the access policy, serves the answer cache and reserves the budget. Throws AccordError:
 * POLICY_DENIED, BUDGET_EXHAUSTED, UNAUTHENTICATED, or what planning throws.
 */
export interface PatternGate {
  admit(input: {
    args: PatternArgs;
    /** Nodes the query may ask: the ones it names, or every admitted node. */
    candidates: readonly string[];
    /** True when the query named its nodes. */
    explicit: boolean;
    /** The incoming request's context (the caller). */
    context: unknown;
    plan(options: PlanOptions): PatternPlan;
  }): Promise<Admission>;
}

export interface PatternDeps {
  scatter: Scatter;
  /** Admission; absent: every admitted node is asked, nothing is charged or cached (tools, benchmarks). */
  gate?: PatternGate;
  privacy: PrivacyDefaults;
  defaultQuorum: QuorumMode;
  maxCells: number;
  logger: Logger;
  /** Noise source; the privacy core's process-wide CSPRNG when absent. */
  entropy?: Entropy;
}

export interface PatternPlan {
  query: PatternQuery;
  domain: KeyDomain;
  bounds: ContributionBounds;
  sensitivity: Sensitivity;
  mechanism: NoiseMechanism;
  /** The (ρ, δ) this query spends and its (ε, δ) statement. */
  charge: { rho: number; epsilon: number; delta: number };
  /** The approximate-zCDP charge per node (δ from partition selection only), what ledgers record. */
  zcdp: PrivacyCharge;
  queryId: string;
  request: ContributionRequest;
}

export interface PatternCell {
  country: string | null;
  region: string | null;
  subregion: string | null;
  sector: string | null;
  week: string | null;
  month: string | null;
  /** Noised count post-processed to max(0, rawValue). */
  value: number;
  /** Noised count (may be negative). */
  rawValue: number;
  /** 95% interval for the true count, clipped at 0. */
  low: number;
  high: number;
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

export interface PatternAnswer {
  queryId: string;
  measure: PatternMeasure;
  groupBy: PatternDimension[];
  cells: PatternCell[];
  accuracy: { mechanism: string; scale: number; stdDev: number; ci95: number; confidence: number };
  charge: { rho: number; epsilon: number; delta: number };
  coverage: { asked: string[]; answered: string[]; missing: MissingNode[]; complete: boolean; excluded: PolicyExclusion[] };
  /** True when served from the answer cache (nothing was charged). */
  cached: boolean;
  /** The member's budget on every node asked, after this answer (a thunk when read lazily). */
  remainingBudget: NodeBudget[] | (() => Promise<NodeBudget[]>);
}

const CELL_FIELD: Record<PatternDimension, keyof PatternCell> = {
  COUNTRY: 'country',
  REGION: 'region',
  SUBREGION: 'subregion',
  SECTOR: 'sector',
  WEEK: 'week',
  MONTH: 'month',
};

/**
 * Validates the question and fixes everything the answer's privacy depends on, from public
 * parameters only. Throws AccordError: INVALID_QUERY (malformed question, too many cells),
 * INVALID_RHO / INVALID_DELTA / INVALID_BOUNDS (deployment parameters the core refuses).
 */
export function planPattern(args: PatternArgs, deps: Pick<PatternDeps, 'privacy' | 'defaultQuorum' | 'maxCells'>, options: PlanOptions = {}): PatternPlan {
  const query = canonicalQuery(args, deps.defaultQuorum);
  if (options.tlp) query.filter.tlp = [...new Set(options.tlp)].sort();
  const domain = keyDomain(query, deps.maxCells);
  const { privacy } = deps;
  validateRho(privacy.rho);
  validateDelta(privacy.delta);
  const bounds = boundsFor(query.measure, privacy);
  const sensitivity = countSensitivity({ ...bounds, multiplicity: privacy.multiplicity });
  const mechanism = gaussianForRho(privacy.rho, sensitivity);
  const spent = mechanism.charge(sensitivity);
  const dp = chargeToDp(spent, privacy.delta);
  const queryId = queryFingerprint(query, bounds, privacy);
  const request: ContributionRequest = {
    queryId,
    measure: query.measure,
    groupBy: [...query.groupBy],
    filter: contributionFilter(query.filter),
    bounds,
  };
  return { query, domain, bounds, sensitivity, mechanism, charge: { rho: spent.rho, epsilon: dp.epsilon, delta: dp.delta }, zcdp: spent, queryId, request };
}

/**
 * Validates the partials, applies the quorum rule, sums and noises once per cell.
 * Throws AccordError: CONTRIBUTION_INVALID (STRICT, a node's partial broke its bounds),
 * NODE_UNAVAILABLE (STRICT, a node did not answer), NO_NODES (nobody asked, or nobody answered).
 * Error details name nodes and reasons only, never numbers from partials.
 */
export function gatherPattern(plan: PatternPlan, asked: readonly string[], outcomes: readonly NodeOutcome[], deps: Pick<PatternDeps, 'logger' | 'entropy'>): PatternAnswer {
  const { domain } = plan;
  const totals = new Array<number>(domain.keys.length).fill(0);
  const answered: string[] = [];
  const missing: MissingNode[] = [];
  const valid: Array<Array<[number, number]>> = [];
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
    valid.push(v.cells);
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
  for (const cells of valid) for (const [pos, count] of cells) totals[pos]! += count;

  const noisy = plan.mechanism.releaseVector(totals, deps.entropy);
  const acc = plan.mechanism.accuracy();
  const ci = acc.ci95;
  const cells: PatternCell[] = domain.keys.map((key, i) => {
    const raw = noisy[i]!;
    const cell: PatternCell = {
      country: null,
      region: null,
      subregion: null,
      sector: null,
      week: null,
      month: null,
      value: Math.max(0, raw),
      rawValue: raw,
      low: Math.max(0, raw - ci),
      high: Math.max(0, raw + ci),
    };
    domain.groupBy.forEach((d, j) => {
      (cell as unknown as Record<string, string>)[CELL_FIELD[d]] = key[j]!;
    });
    return cell;
  });
  return {
    queryId: plan.queryId,
    measure: plan.query.measure,
    groupBy: [...plan.query.groupBy],
    cells,
    accuracy: { mechanism: plan.mechanism.kind, scale: plan.mechanism.scale, stdDev: acc.stdDev, ci95: ci, confidence: acc.confidence },
    charge: plan.charge,
    coverage: { asked: [...asked], answered, missing, complete: missing.length === 0, excluded: [] },
    cached: false,
    remainingBudget: [],
  };
}

/**
 * Plans, admits (through the gate, when there is one), scatters and gathers. Without a gate every
 * admitted node is asked. Throws what {@link planPattern}, the gate and {@link gatherPattern} throw,
 * plus NO_NODES when no node is admitted and NODE_UNKNOWN for a named node that is not admitted
 * (nothing is sent then).
 */
export async function answerPattern(args: PatternArgs, deps: PatternDeps, context?: unknown): Promise<PatternAnswer> {
  const admitted = deps.scatter.members();
  const named = canonicalNodes(args.nodes, admitted);
  const candidates = named ?? admitted;
  if (candidates.length === 0) throw new AccordError('NO_NODES', 'No node is admitted to the federation; ask platform staff to register or fix a node.');
  let plan: PatternPlan;
  let asked: string[];
  let scatterContext: unknown = context;
  let admission: Extract<Admission, { kind: 'fresh' }> | undefined;
  if (deps.gate) {
    const a = await deps.gate.admit({ args, candidates, explicit: named !== undefined, context, plan: (o) => planPattern(args, deps, o) });
    if (a.kind === 'cached') return a.answer;
    admission = a;
    plan = a.plan;
    asked = a.nodes;
    scatterContext = a.scatterContext;
  } else {
    plan = planPattern(args, deps);
    asked = [...candidates];
  }
  const started = performance.now();
  let answer: PatternAnswer;
  try {
    const outcomes = await deps.scatter.scatter(asked, plan.request, scatterContext);
    answer = gatherPattern(plan, asked, outcomes, deps);
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
