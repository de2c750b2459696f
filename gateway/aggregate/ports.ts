/**
 * The ports of the aggregate core: the transport that reaches the nodes ({@link Scatter}) and the
 * admission between plan and scatter ({@link AdmissionPort}). The core depends on these shapes only;
 * `federation/scatter.ts` and `admission/gate.ts` implement them.
 */
import type { ContributionRequest } from '../../schema/contract/index.js';
import type { GatewayContext } from '../context.js';
import type { GrantContext } from '../grants/grant.js';
import type { Availability } from '../registry/registry.js';

export type { Availability };
import type { AggregateAnswer, MissingReason } from './answer-types.js';
import type { AggregatePlan, PlanOptions } from './plan.js';
import type { AggregateArgs } from './query.js';

/** What came back from one node. `contribution` is the raw, unvalidated `data.contribution`. */
export type NodeOutcome =
  | { node: string; ok: true; contribution: unknown }
  | { node: string; ok: false; reason: Exclude<MissingReason, 'INVALID_CONTRIBUTION'>; /** catalog code the node gave, if any */ code?: string };

/** The transport that reaches the nodes. */
export interface Scatter {
  /** Ids of the nodes admitted to the federation now, in registry order: the nodes a query may ask. */
  admittedNodes(): string[];
  /**
   * Splits `nodes` into those that may be asked now and those known to be down (a circuit
   * breaker: availability depends on the node, not on any organisation's data). May probe a node
   * whose cooldown has passed, at no charge. Never rejects.
   */
  availability(nodes: readonly string[]): Promise<Availability>;
  /**
   * Sends `request` to each of `nodes` in parallel, each with its own grant signed from `grant`
   * (absent only where no admission runs: tools and benchmarks); resolves one outcome per node,
   * in order. Never rejects for a node's failure; rejects with an AccordError when a grant cannot
   * be signed, before anything is sent.
   */
  scatter(nodes: readonly string[], request: ContributionRequest, grant: GrantContext | undefined): Promise<NodeOutcome[]>;
}

/** One question of a request, ready for admission. */
export interface AdmissionInput {
  args: AggregateArgs;
  /** Nodes the question may ask: the ones it names, or every admitted node. */
  candidates: readonly string[];
  /** True when the question named its nodes. */
  explicit: boolean;
  /** Plans the question for the caller (member-specific options such as the TLP ceiling). */
  plan(options: PlanOptions): AggregatePlan;
}

/** What admission decided for one question of a request. */
export type Admission =
  | { kind: 'cached'; answer: AggregateAnswer }
  /** The same question as the request's question number `as`: answered once, at one charge. */
  | { kind: 'same'; as: number }
  | {
      kind: 'fresh';
      plan: AggregatePlan;
      /** The nodes the question was put to, in order (coverage.asked). */
      asked: string[];
      /** Those of `asked` that are sent the request, each charged; the others are known to be down. */
      nodes: string[];
      /** What every node's grant is signed from (absent without admission: tools, benchmarks). */
      grant: GrantContext | undefined;
      /** Records the gathered answer (cache, reservation) and returns what to release. */
      answered(answer: AggregateAnswer): Promise<AggregateAnswer>;
      /** Records that gathering failed after the scatter (the charge stays spent). */
      failed(error: unknown): Promise<void>;
    };

/**
 * Admission between plan and scatter, for every question of one request together: authentication
 * is done; the gate plans each question for the member, applies the access policy, leaves out nodes
 * known to be down, serves the answer cache, and reserves the charges of all fresh questions in one
 * all-or-nothing reservation under the per-request cap. Nothing is reserved unless every question
 * is admitted. Throws AccordError: UNAUTHENTICATED, what planning throws (INVALID_QUERY …),
 * POLICY_DENIED, NODE_UNAVAILABLE (a STRICT question needs a node known to be down), NO_NODES,
 * REQUEST_CHARGE_EXCEEDED, BUDGET_EXHAUSTED.
 */
export interface AdmissionPort {
  admitAll(inputs: readonly AdmissionInput[], caller: GatewayContext | undefined, availability: Scatter['availability']): Promise<Admission[]>;
}
