/**
 * The ports of the aggregate core: the transport that reaches the nodes ({@link Scatter}) and the
 * admission between plan and scatter ({@link AdmissionPort}). The core depends on these shapes only;
 * `federation/scatter.ts` and `admission/gate.ts` implement them.
 */
import type { ContributionRequest } from '../../schema/contract/index.js';
import type { GatewayContext } from '../context.js';
import type { GrantContext } from '../grants/grant.js';
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
   * Sends `request` to each of `nodes` in parallel, each with its own grant signed from `grant`
   * (absent only where no admission runs: tools and benchmarks); resolves one outcome per node,
   * in order. Never rejects for a node's failure; rejects with an AccordError when a grant cannot
   * be signed, before anything is sent.
   */
  scatter(nodes: readonly string[], request: ContributionRequest, grant: GrantContext | undefined): Promise<NodeOutcome[]>;
}

/** What the gate decided for one query. */
export type Admission =
  | { kind: 'cached'; answer: AggregateAnswer }
  | {
      kind: 'fresh';
      plan: AggregatePlan;
      /** Nodes to ask (already charged). */
      nodes: string[];
      /** What every node's grant is signed from: the member, the charge, the reservation. */
      grant: GrantContext;
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
    /** The incoming request (its authenticated caller); absent: refused with UNAUTHENTICATED. */
    caller: GatewayContext | undefined;
    plan(options: PlanOptions): AggregatePlan;
  }): Promise<Admission>;
}

