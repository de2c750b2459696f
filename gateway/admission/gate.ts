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
 * charge, while the stored answer is younger than the ledger's answer lifetime. A STRICT query is served only a complete cached answer. Identical queries that
 * arrive while the first is being answered wait for it (in this process) instead of paying again.
 */
import { AccordError } from '../../schema/errors.js';
import type { Logger } from 'pino';
import type { AggregateAnswer, PolicyExclusion } from '../aggregate/answer-types.js';
import type { AggregatePlan } from '../aggregate/plan.js';
import type { Admission, AdmissionPort } from '../aggregate/ports.js';
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
  reserve(req: ReserveRequest): Promise<ReservationResult>;
  /** Several reservations in one transaction, all or nothing (`Ledger.reserveAll`). */
  reserveAll(requests: readonly ReserveRequest[]): Promise<ReservationResult[]>;
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
}

type CachedAnswer = Omit<AggregateAnswer, 'cached' | 'remainingBudget'>;

export class AdmissionGate implements AdmissionPort {
  private readonly inflight = new Map<string, Promise<CachedAnswer | null>>();

  constructor(private readonly options: AdmissionGateOptions) {}

  async admit(input: Parameters<AdmissionPort['admit']>[0]): Promise<Admission> {
    const principal = input.caller?.principal;
    if (!principal) throw new AccordError('UNAUTHENTICATED', 'Send a member token: "Authorization: Bearer <JWT>".');
    const { member } = principal;
    const tlp = tlpLevelsUpTo(member.tlpCeiling);
    const plan = input.plan(member.tlpCeiling === 'AMBER' ? {} : { tlp });

    // 1. access policy, before anything is reserved
    const decisions = this.options.policy().decide(member, input.candidates.map(this.options.nodeInfo), policyContext(plan, tlp, input.explicit));
    const denied = decisions.filter((d) => !d.allowed);
    const allowed = decisions.filter((d) => d.allowed).map((d) => d.node);
    if (allowed.length === 0 || (input.explicit && denied.length > 0)) throw policyDenied(denied, input.explicit);
    const excluded: PolicyExclusion[] = denied.map((d) => ({ node: d.node, reason: d.reason!, rules: d.rules }));

    // 2. answer cache (and identical queries in flight)
    const cacheKey = answerCacheKey(plan.queryId, allowed);
    const reusable = (a: CachedAnswer | null): a is CachedAnswer => a !== null && (plan.query.quorum === 'BEST_EFFORT' || a.coverage.complete);
    /** Waits for identical queries in flight; the first reusable answer, or null once none is in flight. */
    const awaitFlights = async (): Promise<CachedAnswer | null> => {
      for (let p = this.inflight.get(cacheKey); p; p = this.inflight.get(cacheKey)) {
        const a = await p.catch(() => null);
        if (reusable(a)) return a;
        if (this.inflight.get(cacheKey) === p) break;
      }
      return null;
    };
    for (let checkedStore = false; ; ) {
      const flown = await awaitFlights();
      if (flown) return this.cachedAnswer(flown, member, allowed, excluded, plan);
      if (!checkedStore) {
        checkedStore = true;
        const stored = await this.options.ledger.cached(cacheKey);
        const fromStore = stored ? (JSON.parse(stored.answer) as CachedAnswer) : null;
        if (reusable(fromStore)) return this.cachedAnswer(fromStore, member, allowed, excluded, plan);
        continue;
      }
      if (!this.inflight.has(cacheKey)) break; // checked in the same tick as the registration below
    }

    // 3. reserve on every ledger touched, committed before any request leaves
    const charge = chargeUnits(plan.zcdp);
    let settle!: (a: CachedAnswer | null) => void;
    const flight = new Promise<CachedAnswer | null>((res) => (settle = res));
    this.inflight.set(cacheKey, flight);
    const done = (a: CachedAnswer | null) => {
      settle(a);
      if (this.inflight.get(cacheKey) === flight) this.inflight.delete(cacheKey);
    };
    let reservation: ReservationResult;
    try {
      reservation = await this.options.ledger.reserve({ member: member.id, nodes: allowed, charge, queryId: plan.queryId, cacheKey });
    } catch (e) {
      done(null);
      throw e;
    }
    const charged = fromUnits(charge);
    const grant: GrantContext = { member: member.id, groups: member.groups, rho: charged.rho, delta: charged.delta, reservedAt: reservation.reservedAt, reservationId: reservation.reservationId };
    const ledger = this.options.ledger;
    const logger = this.options.logger;
    return {
      kind: 'fresh',
      plan,
      nodes: allowed,
      grant,
      answered: async (answer) => {
        const { cached: _c, remainingBudget: _r, ...rest } = answer;
        const storedAnswer: CachedAnswer = { ...rest, coverage: { ...rest.coverage, excluded: [] } };
        try {
          await ledger.answered(reservation.reservationId, { cacheKey, queryId: plan.queryId, nodes: allowed, answer: JSON.stringify(storedAnswer) });
          done(storedAnswer);
        } catch (e) {
          done(null);
          logger.error({ err: e, reservation: reservation.reservationId }, 'could not store an answer; it is released uncached');
        }
        return { ...answer, coverage: { ...answer.coverage, excluded }, cached: false, remainingBudget: reservation.nodes.map((b) => budgetView(b, this.options.delta)) };
      },
      failed: async (error) => {
        done(null);
        try {
          await ledger.failed(reservation.reservationId);
        } catch (e) {
          logger.error({ err: e, reservation: reservation.reservationId, cause: String(error) }, 'could not mark a reservation failed');
        }
      },
    };
  }

  private cachedAnswer(a: CachedAnswer, member: Member, nodes: string[], excluded: PolicyExclusion[], plan: AggregatePlan): Admission {
    const { ledger, delta } = this.options;
    this.options.logger.debug({ event: 'answer-cached', queryId: plan.queryId, member: member.id }, 'answer served from the cache');
    return {
      kind: 'cached',
      answer: {
        ...a,
        coverage: { ...a.coverage, excluded },
        cached: true,
        remainingBudget: async () => (await ledger.budgetsOf(member.id, nodes, chargeUnits(plan.zcdp))).nodes.map((b) => budgetView(b, delta)),
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
