/**
 * The admission path of one query (DESIGN §4 steps 3–4), between planning and the scatter:
 *
 *   plan for the member (TLP ceiling) → access policy per (member, node) → answer cache →
 *   reserve the charge on every ledger touched (atomic, committed) → sign grants at the scatter.
 *
 * Policy is evaluated before anything is reserved, so a denial costs nothing. A query that names
 * no nodes runs over the nodes the member's policy allows (the others are listed in
 * `coverage.excluded`); a query that names its nodes needs all of them allowed. When no node is
 * allowed the query is refused with POLICY_DENIED naming the rules, never a count.
 *
 * The answer cache serves an identical canonical query (same fingerprint — question, bounds,
 * privacy parameters, TLP levels — same node set) to any member whose policy allows it, at no
 * charge, while the stored answer is younger than the ledger's answer lifetime. A STRICT query is
 * served only a complete cached answer. Identical queries that
 * arrive while the first is being answered wait for it (in this process) instead of paying again.
 */
import { AccordError } from '../../schema/errors.js';
import type { Logger } from 'pino';
import type { AggregateAnswer, PolicyExclusion } from '../aggregate/answer-types.js';
import { nodesToAsk } from '../aggregate/answer.js';
import type { AggregatePlan } from '../aggregate/plan.js';
import type { Admission, AdmissionInput, AdmissionPort, Scatter } from '../aggregate/ports.js';
import type { GatewayContext } from '../context.js';
import type { GrantContext } from '../grants/grant.js';
import { budgetView } from '../ledger/budget-view.js';
import { answerCacheKey, type MemberBudgetUnits, type ReservationResult, type ReserveRequest, type StoredAnswer } from '../ledger/ledger.js';
import { chargeUnits, fromUnits, type Units } from '../ledger/units.js';
import { tlpLevelsUpTo, type Member } from '../members.js';
import type { NodeDecision, PolicyContext, PolicyNode } from '../policy/engine.js';
import { policyContext } from './policy-context.js';

/** Decides per (member, node); the access control's engine in production. */
export interface PolicyPort {
  decide(member: Member, nodes: readonly PolicyNode[], context: PolicyContext): NodeDecision[];
}

/** The ledger operations admission needs (the durable Ledger in production). */
export interface LedgerPort {
  /** Reserves every request's charge in one transaction, all or nothing (BUDGET_EXHAUSTED otherwise). */
  reserveAll(reqs: readonly ReserveRequest[]): Promise<ReservationResult[]>;
  cached(cacheKey: string): Promise<StoredAnswer | null>;
  answered(reservationId: string, entry: { cacheKey: string; queryId: string; nodes: readonly string[]; answer: string }): Promise<void>;
  failed(reservationId: string): Promise<void>;
  budgetsOf(member: string, nodes: readonly string[], probe: Units): Promise<MemberBudgetUnits>;
}

export interface AdmissionGateOptions {
  policy: () => PolicyPort;
  ledger: LedgerPort;
  /** What policies know about a node (registry data). */
  nodeInfo: (id: string) => PolicyNode;
  logger: Logger;
  /** The deployment's δ: budgets state cumulative spending as (ε, δ) at this conversion δ. */
  delta: number;
  /** Largest ρ one request may reserve over all its fresh questions. */
  maxRequestRho: number;
}

type CachedAnswer = Omit<AggregateAnswer, 'cached' | 'remainingBudget'>;

/** One question of a request once planned and decided. */
interface Question {
  plan: AggregatePlan;
  /** Nodes the policy allows, in order: the nodes the question is put to (and its cache key's). */
  allowed: string[];
  /** Those of `allowed` not known to be down: sent the request and charged. */
  nodes: string[];
  excluded: PolicyExclusion[];
  cacheKey: string;
}

/** Settles the in-flight entry of a question with its stored answer, or null when there is none. */
type Land = (answer: CachedAnswer | null) => void;

export class AdmissionGate implements AdmissionPort {
  private readonly inflight = new Map<string, Promise<CachedAnswer | null>>();

  constructor(private readonly options: AdmissionGateOptions) {}

  async admitAll(inputs: readonly AdmissionInput[], caller: GatewayContext | undefined, availability: Scatter['availability']): Promise<Admission[]> {
    const principal = caller?.principal;
    if (!principal) throw new AccordError('UNAUTHENTICATED', 'Send a member token: "Authorization: Bearer <JWT>".');
    const { member } = principal;
    const tlp = tlpLevelsUpTo(member.tlpCeiling);

    // 1. plan and decide every question before anything else: one refusal refuses the request
    const decided = inputs.map((input) => {
      const plan = input.plan(member.tlpCeiling === 'AMBER' ? {} : { tlp });
      const decisions = this.options.policy().decide(member, input.candidates.map(this.options.nodeInfo), policyContext(plan, tlp, input.explicit));
      const denied = decisions.filter((d) => !d.allowed);
      const allowed = decisions.filter((d) => d.allowed).map((d) => d.node);
      if (allowed.length === 0 || (input.explicit && denied.length > 0)) throw policyDenied(denied, input.explicit);
      const excluded: PolicyExclusion[] = denied.map((d) => ({ node: d.node, reason: d.reason!, rules: d.rules }));
      return { plan, allowed, excluded };
    });

    // 2. nodes known to be down are left out before anything is reserved
    const down = new Set((await availability([...new Set(decided.flatMap((d) => d.allowed))])).down);
    const questions: Question[] = decided.map((d) => {
      const nodes = nodesToAsk(d.plan, d.allowed, down);
      return { ...d, nodes, cacheKey: answerCacheKey(d.plan.queryId, d.allowed) };
    });

    // 3. identical questions in this request are answered once; the others go to the answer cache
    const admissions: Admission[] = new Array(questions.length);
    const first = new Map<string, number>();
    let pending: number[] = [];
    questions.forEach((q, i) => {
      const key = `${q.cacheKey}|${q.plan.query.quorum}`;
      const same = first.get(key);
      if (same !== undefined) admissions[i] = { kind: 'same', as: same };
      else {
        first.set(key, i);
        pending.push(i);
      }
    });
    const lands = new Map<number, Land>();
    for (let checkStore = true; pending.length > 0; checkStore = false) {
      const hits = await Promise.all(pending.map((i) => this.lookup(questions[i]!, checkStore)));
      pending.forEach((i, k) => {
        if (hits[k]) admissions[i] = this.cachedAnswer(hits[k]!, member, questions[i]!);
      });
      pending = pending.filter((_, k) => !hits[k]);
      // checked in the same tick as the registration: a question now in flight elsewhere waits for it
      if (pending.some((i) => this.inflight.has(questions[i]!.cacheKey))) continue;
      for (const i of pending) lands.set(i, this.fly(questions[i]!.cacheKey));
      break;
    }

    // 4. one reservation for every fresh question, under the per-request cap, committed before any request leaves
    const fresh = [...lands.keys()];
    if (fresh.length === 0) return admissions;
    const charges = fresh.map((i) => chargeUnits(questions[i]!.plan.zcdp));
    let reservations: ReservationResult[];
    try {
      const total = fromUnits(charges.reduce((t, c) => ({ rho: t.rho + c.rho, delta: t.delta + c.delta }), { rho: 0, delta: 0 }));
      if (total.rho > this.options.maxRequestRho) {
        throw new AccordError(
          'REQUEST_CHARGE_EXCEEDED',
          'The fresh questions of this request would reserve more than one request may (details: questions, charge, cap); nothing was reserved. Ask fewer questions per request.',
          { questions: fresh.length, charge: total, cap: { rho: this.options.maxRequestRho } },
        );
      }
      reservations = await this.options.ledger.reserveAll(
        fresh.map((i, k) => {
          const q = questions[i]!;
          return { member: member.id, nodes: q.nodes, charge: charges[k]!, queryId: q.plan.queryId, cacheKey: q.cacheKey };
        }),
      );
    } catch (e) {
      for (const land of lands.values()) land(null);
      throw e;
    }
    fresh.forEach((i, k) => {
      admissions[i] = this.freshAdmission(questions[i]!, member, charges[k]!, reservations[k]!, lands.get(i)!);
    });
    return admissions;
  }

  /**
   * The answer an identical question already has: one in flight (awaited), else — when `checkStore`
   * — the stored one; null when there is none this question may reuse (a STRICT question takes a
   * complete answer only).
   */
  private async lookup(q: Question, checkStore: boolean): Promise<CachedAnswer | null> {
    const reusable = (a: CachedAnswer | null): a is CachedAnswer => a !== null && (q.plan.query.quorum === 'BEST_EFFORT' || a.coverage.complete);
    for (let p = this.inflight.get(q.cacheKey); p; p = this.inflight.get(q.cacheKey)) {
      const a = await p.catch(() => null);
      if (reusable(a)) return a;
      if (this.inflight.get(q.cacheKey) === p) break;
    }
    if (!checkStore) return null;
    const stored = await this.options.ledger.cached(q.cacheKey);
    const fromStore = stored ? (JSON.parse(stored.answer) as CachedAnswer) : null;
    return reusable(fromStore) ? fromStore : null;
  }

  /** Registers a question in flight; returns how to settle it. */
  private fly(cacheKey: string): Land {
    let settle!: Land;
    const flight = new Promise<CachedAnswer | null>((res) => (settle = res));
    this.inflight.set(cacheKey, flight);
    return (a) => {
      settle(a);
      if (this.inflight.get(cacheKey) === flight) this.inflight.delete(cacheKey);
    };
  }

  private freshAdmission(q: Question, member: Member, charge: Units, reservation: ReservationResult, land: Land): Admission {
    const charged = fromUnits(charge);
    const grant: GrantContext = { member: member.id, groups: member.groups, rho: charged.rho, delta: charged.delta, reservedAt: reservation.reservedAt, reservationId: reservation.reservationId };
    const { ledger, logger, delta } = this.options;
    return {
      kind: 'fresh',
      plan: q.plan,
      asked: q.allowed,
      nodes: q.nodes,
      grant,
      answered: async (answer) => {
        const { cached: _c, remainingBudget: _r, ...rest } = answer;
        const storedAnswer: CachedAnswer = { ...rest, coverage: { ...rest.coverage, excluded: [] } };
        try {
          await ledger.answered(reservation.reservationId, { cacheKey: q.cacheKey, queryId: q.plan.queryId, nodes: q.allowed, answer: JSON.stringify(storedAnswer) });
          land(storedAnswer);
        } catch (e) {
          land(null);
          logger.error({ err: e, reservation: reservation.reservationId }, 'could not store an answer; it is released uncached');
        }
        return { ...answer, coverage: { ...answer.coverage, excluded: q.excluded }, cached: false, remainingBudget: reservation.nodes.map((b) => budgetView(b, delta)) };
      },
      failed: async (error) => {
        land(null);
        try {
          await ledger.failed(reservation.reservationId);
        } catch (e) {
          logger.error({ err: e, reservation: reservation.reservationId, cause: String(error) }, 'could not mark a reservation failed');
        }
      },
    };
  }

  private cachedAnswer(a: CachedAnswer, member: Member, q: Question): Admission {
    const { ledger, delta } = this.options;
    this.options.logger.debug({ event: 'answer-cached', queryId: q.plan.queryId, member: member.id }, 'answer served from the cache');
    return {
      kind: 'cached',
      answer: {
        ...a,
        coverage: { ...a.coverage, excluded: q.excluded },
        cached: true,
        remainingBudget: async () => (await ledger.budgetsOf(member.id, q.allowed, chargeUnits(q.plan.zcdp))).nodes.map((b) => budgetView(b, delta)),
      },
    };
  }
}

/**
 * POLICY_DENIED naming the deciding rules (never a count). `rule` is the rule that denied the most
 * nodes (ties: the first by id); null when no permit matched anywhere.
 */
function policyDenied(denied: readonly NodeDecision[], explicit: boolean): AccordError {
  const tally = new Map<string, number>();
  for (const d of denied) for (const r of d.rules) tally.set(r, (tally.get(r) ?? 0) + 1);
  const rules = [...tally.keys()].sort();
  const main = rules.reduce<string | null>((best, r) => (best === null || tally.get(r)! > tally.get(best)! ? r : best), null);
  const noPermit = denied.some((d) => d.reason === 'NO_PERMIT');
  const what = rules.length > 0 ? `rule${rules.length > 1 ? 's' : ''} ${rules.map((r) => `"${r}"`).join(', ')}` : 'no rule permits it';
  const message = explicit
    ? `Your access policy does not allow this query on every node it names (${what}${rules.length > 0 && noPermit ? '; for some nodes no rule permits it' : ''}); leave those nodes out or ask platform staff.`
    : `Your access policy does not allow this query on any node (${what}${rules.length > 0 && noPermit ? '; for some nodes no rule permits it' : ''}); change the grouping or filter, or ask platform staff.`;
  return new AccordError('POLICY_DENIED', message, {
    rule: main,
    rules,
    denials: denied.map((d) => ({ node: d.node, reason: d.reason, rules: d.rules })),
  });
}
