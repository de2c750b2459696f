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
import type { AggregateAnswer } from './answer-types.js';
import { gatherAggregate, type GatherDeps } from './gather.js';
import { planAggregate, type AggregatePlan, type PlanDeps } from './plan.js';
import type { Admission, AdmissionInput, AdmissionPort, NodeOutcome, Scatter } from './ports.js';
import { canonicalNodes, type AggregateArgs } from './query.js';

/** Everything one answer needs: planning and gathering parameters, the transport and admission. */
export interface AggregateDeps extends PlanDeps, GatherDeps {
  scatter: Scatter;
  /** Admission; absent: every admitted node is asked, nothing is charged or cached (tools, benchmarks). */
  gate?: AdmissionPort;
}

/** A fresh question, ready to scatter. */
type Fresh = Extract<Admission, { kind: 'fresh' }>;

/**
 * Admits every question of one request together, then starts answering them. Resolves (once
 * admission is done) to one answer promise per question, in order; rejects — with nothing
 * reserved and nothing sent — when any question is refused: what {@link planAggregate} and the
 * gate throw, NO_NODES when no node is admitted, NODE_UNKNOWN for a named node that is not
 * admitted. A question's own promise rejects with what {@link gatherAggregate} throws (its charge
 * stays spent). Without a gate every admitted node that is not known to be down is asked and
 * nothing is charged or cached (tools, benchmarks).
 */
export async function answerAll(questions: readonly AggregateArgs[], deps: AggregateDeps, caller?: GatewayContext): Promise<Array<Promise<AggregateAnswer>>> {
  const admitted = deps.scatter.admittedNodes();
  const inputs: AdmissionInput[] = questions.map((args) => {
    const named = canonicalNodes(args.nodes, admitted);
    const candidates = named ?? admitted;
    if (candidates.length === 0) throw new AccordError('NO_NODES', 'No node is admitted to the federation; ask platform staff to register or fix a node.');
    return { args, candidates, explicit: named !== undefined, plan: (o) => planAggregate(args, deps, o) };
  });
  const availability = (nodes: readonly string[]) => deps.scatter.availability(nodes);
  const admissions = deps.gate ? await deps.gate.admitAll(inputs, caller, availability) : await Promise.all(inputs.map((input) => ungated(input, availability)));
  const answers: Array<Promise<AggregateAnswer>> = [];
  for (const a of admissions) {
    if (a.kind === 'cached') answers.push(Promise.resolve(a.answer));
    else if (a.kind === 'same') answers.push(answers[a.as]!.then((answer) => ({ ...answer, cached: true })));
    else answers.push(run(a, deps));
  }
  for (const p of answers) p.catch(() => undefined); // each is awaited by its field; none may go unhandled meanwhile
  return answers;
}

/** One question alone: {@link answerAll} of one. */
export async function answerAggregate(args: AggregateArgs, deps: AggregateDeps, caller?: GatewayContext): Promise<AggregateAnswer> {
  return (await answerAll([args], deps, caller))[0]!;
}

/**
 * The nodes of `asked` a question sends its request to: those not known to be `down`. Throws
 * AccordError NODE_UNAVAILABLE when a STRICT question needs a node that is down, NO_NODES when none
 * is left — before anything is reserved or sent.
 */
export function nodesToAsk(plan: AggregatePlan, asked: readonly string[], down: ReadonlySet<string>): string[] {
  const missing = asked.filter((n) => down.has(n)).map((node) => ({ node, reason: 'UNREACHABLE' }));
  if (missing.length > 0 && plan.query.quorum === 'STRICT') {
    throw new AccordError(
      'NODE_UNAVAILABLE',
      'A node this strict-quorum question needs is known to be down, so nothing was asked or charged; retry later or with quorum BEST_EFFORT.',
      { missing },
    );
  }
  const nodes = asked.filter((n) => !down.has(n));
  if (nodes.length === 0) throw new AccordError('NO_NODES', 'Every node this question may ask is known to be down; nothing was asked or charged. Retry later.', { missing });
  return nodes;
}

/** A question admitted without a gate: planned, nodes known to be down left out, nothing charged. */
async function ungated(input: AdmissionInput, availability: Scatter['availability']): Promise<Fresh> {
  const plan = input.plan({});
  const asked = [...input.candidates];
  const nodes = nodesToAsk(plan, asked, new Set((await availability(asked)).down));
  return { kind: 'fresh', plan, asked, nodes, grant: undefined, answered: async (answer) => answer, failed: async () => undefined };
}

/** Scatters a fresh question to its nodes and gathers; nodes left out as down are missing (UNREACHABLE). */
async function run(a: Fresh, deps: AggregateDeps): Promise<AggregateAnswer> {
  const { plan } = a;
  const started = performance.now();
  let answer: AggregateAnswer;
  try {
    const sent = new Map((await deps.scatter.scatter(a.nodes, plan.request, a.grant)).map((o) => [o.node, o]));
    const outcomes: NodeOutcome[] = a.asked.map((node) => sent.get(node) ?? { node, ok: false, reason: 'UNREACHABLE' });
    answer = gatherAggregate(plan, a.asked, outcomes, deps);
  } catch (e) {
    await a.failed(e);
    throw e;
  }
  answer = await a.answered(answer);
  deps.logger.info(
    {
      event: 'answer',
      question: plan.query.question,
      queryId: plan.queryId,
      quorum: plan.query.quorum,
      asked: a.asked.length,
      answered: answer.coverage.answered.length,
      cells: answer.cells.length,
      rho: plan.charge.rho,
      ms: Math.round(performance.now() - started),
    },
    'aggregate answered',
  );
  return answer;
}
