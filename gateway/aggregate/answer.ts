/**
 * One aggregate, end to end, independent of transport (every analyst question is one aggregate):
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
 *
 * Read in this order: query.ts (canonical question) → domain.ts (public keys) → plan.ts →
 * ports.ts (scatter and admission) → validate.ts → gather.ts → answer-types.ts → questions.ts
 * (each question's arguments and the post-processing that shapes its answer).
 */
import { AccordError } from '../../schema/errors.js';
import type { GatewayContext } from '../context.js';
import type { GrantContext } from '../grants/grant.js';
import type { AggregateAnswer } from './answer-types.js';
import { gatherAggregate, type GatherDeps } from './gather.js';
import { planAggregate, type AggregatePlan, type PlanDeps } from './plan.js';
import type { Admission, AdmissionPort, Scatter } from './ports.js';
import { canonicalNodes, type AggregateArgs } from './query.js';

/** Everything one answer needs: planning and gathering parameters, the transport and admission. */
export interface AggregateDeps extends PlanDeps, GatherDeps {
  scatter: Scatter;
  /** Admission; absent: every admitted node is asked, nothing is charged or cached (tools, benchmarks). */
  gate?: AdmissionPort;
}

/**
 * Plans, admits (through the gate, when there is one), scatters and gathers. Without a gate every
 * admitted node is asked. Throws what {@link planAggregate}, the gate and {@link gatherAggregate}
 * throw, plus NO_NODES when no node is admitted and NODE_UNKNOWN for a named node that is not
 * admitted (nothing is sent then).
 */
export async function answerAggregate(args: AggregateArgs, deps: AggregateDeps, caller?: GatewayContext): Promise<AggregateAnswer> {
  const admitted = deps.scatter.admittedNodes();
  const named = canonicalNodes(args.nodes, admitted);
  const candidates = named ?? admitted;
  if (candidates.length === 0) throw new AccordError('NO_NODES', 'No node is admitted to the federation; ask platform staff to register or fix a node.');
  let plan: AggregatePlan;
  let asked: string[];
  let grant: GrantContext | undefined;
  let admission: Extract<Admission, { kind: 'fresh' }> | undefined;
  if (deps.gate) {
    const a = await deps.gate.admit({ args, candidates, explicit: named !== undefined, caller, plan: (o) => planAggregate(args, deps, o) });
    if (a.kind === 'cached') return a.answer;
    admission = a;
    ({ plan, nodes: asked, grant } = a);
  } else {
    plan = planAggregate(args, deps);
    asked = [...candidates];
  }
  const started = performance.now();
  let answer: AggregateAnswer;
  try {
    const outcomes = await deps.scatter.scatter(asked, plan.request, grant);
    answer = gatherAggregate(plan, asked, outcomes, deps);
  } catch (e) {
    if (admission) await admission.failed(e);
    throw e;
  }
  if (admission) answer = await admission.answered(answer);
  deps.logger.info(
    {
      event: 'answer',
      question: plan.query.question,
      queryId: plan.queryId,
      quorum: plan.query.quorum,
      asked: asked.length,
      answered: answer.coverage.answered.length,
      cells: answer.cells.length,
      rho: plan.charge.rho,
      ms: Math.round(performance.now() - started),
    },
    'aggregate answered',
  );
  return answer;
}
