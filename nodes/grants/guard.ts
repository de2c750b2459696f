/**
 * The node's admission guard for contribution requests (DESIGN §2.3): the node does not take the
 * gateway's word for anything it can check itself. In this order, before any SQL over incident data:
 *
 * 1. the grant (GRANT_HEADER) verifies: EdDSA signature by a gateway key, `typ`, issuer, audience
 *    = this node, unexpired, lifetime ≤ MAX_GRANT_TTL_SECONDS (`verify.ts`);
 * 2. its fingerprint `fp` is the fingerprint of the request actually received;
 * 3. its reservation time `per` lies within the grant's possible lifetime (not after now, not
 *    earlier than `iat` minus the longest grant lifetime, with clock tolerance);
 * 4. the operator's sharing rules allow the member (`rules.ts`);
 * 5. in one transaction: the grant id was never used, and the charge fits the member's cap and
 *    the node's cap over the horizon ending now (`store.ts`); the charge is dated by this node's
 *    clock, never before the gateway's reservation, so it leaves the node's window no sooner.
 *
 * Refusals: GRANT_INVALID (1–3, and a reused id), POLICY_DENIED naming the rule (4),
 * NODE_BUDGET_EXHAUSTED (5). No refusal message carries a count or another member's spending.
 */
import type { JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import { contributionFingerprint, MAX_GRANT_TTL_SECONDS, type GrantClaims } from '../../schema/contract/grant.js';
import { AccordError, isAccordError } from '../../schema/errors.js';
import { deltaChargeUnits, rhoCapUnits, rhoChargeUnits, rhoFromUnits } from '../../schema/privacy/units.js';
import type { ContributionContext, ContributionGuard } from '../contribution/guard.js';
import type { ValidatedRequest } from '../contribution/validate.js';
import type { NodeOrm } from '../db/orm.js';
import { applySharingRules, memberCapRho, type SharingRules } from './rules.js';
import { consumeGrantAndCharge, ledgerReport, purgeUsedGrants, type LedgerReport } from './store.js';
import { DEFAULT_HORIZON_DAYS } from './config.js';
import { GRANT_CLOCK_TOLERANCE_SECONDS, grantInvalid, verifyGrant } from './verify.js';

/** How often used grant ids past their expiry are deleted (opportunistically, on a request). */
const PURGE_INTERVAL_MS = 60_000;
/**
 * Ids are kept this long past expiry (plus tolerance) before a purge: a request admitted at time t
 * checks expiry again inside its transaction, so only a stall longer than this between that check
 * and its insert could meet a purge of the same id.
 */
const PURGE_MARGIN_SECONDS = 600;

export interface GrantGuardOptions {
  orm: NodeOrm;
  nodeId: string;
  /** Gateway public keys. */
  keys: JWTVerifyGetKey;
  /** Accepted grant issuer. */
  issuer: string;
  rules: SharingRules;
  /** Default ρ cap per member over the horizon. */
  memberCapRho: number;
  /** ρ cap for the whole node over the horizon (none when undefined). */
  nodeCapRho?: number;
  /** The privacy horizon in days (default 365). */
  horizonDays?: number;
  clockToleranceSeconds?: number;
  logger?: Logger;
  /** Current time (tests). */
  now?: () => Date;
}

/** A ContributionGuard enforcing grants, sharing rules, single use and the node's own ledger. */
export class GrantGuard implements ContributionGuard {
  private readonly o: GrantGuardOptions;
  private readonly tolerance: number;
  private readonly memberCapUnits: number;
  private readonly nodeCapUnits: number | undefined;
  private readonly now: () => Date;
  private readonly horizonDays: number;
  private lastPurge = 0;

  constructor(o: GrantGuardOptions) {
    this.o = o;
    this.tolerance = o.clockToleranceSeconds ?? GRANT_CLOCK_TOLERANCE_SECONDS;
    this.memberCapUnits = rhoCapUnits(o.memberCapRho);
    this.nodeCapUnits = o.nodeCapRho === undefined ? undefined : rhoCapUnits(o.nodeCapRho);
    this.now = o.now ?? (() => new Date());
    this.horizonDays = o.horizonDays ?? DEFAULT_HORIZON_DAYS;
  }

  /** The member's ρ cap over the horizon in ledger units. */
  capUnitsOf(member: string): number {
    return Object.hasOwn(this.o.rules.memberCaps, member) ? rhoCapUnits(memberCapRho(this.o.rules, member, this.o.memberCapRho)) : this.memberCapUnits;
  }

  /** The node's own ledger (operator API). */
  ledger(): Promise<LedgerReport> {
    return ledgerReport(this.o.orm, { memberCapUnits: (m) => this.capUnitsOf(m), nodeCapUnits: this.nodeCapUnits, horizonDays: this.horizonDays }, this.now());
  }

  /** See the module comment for the order of checks and the refusal codes. */
  async admit(request: ValidatedRequest, ctx: ContributionContext): Promise<void> {
    let claims: GrantClaims | undefined;
    try {
      const now = this.now();
      claims = await verifyGrant(ctx.grant, { keys: this.o.keys, nodeId: this.o.nodeId, issuer: this.o.issuer, clockToleranceSeconds: this.tolerance, now });
      if (claims.fp !== contributionFingerprint(ctx.raw)) throw grantInvalid('fingerprint', 'The grant was issued for a different request.');
      const reservedAt = Date.parse(claims.per);
      if (reservedAt > now.getTime() + this.tolerance * 1000 || reservedAt < (claims.iat - MAX_GRANT_TTL_SECONDS - this.tolerance) * 1000) {
        throw grantInvalid('reserved-at', "The grant's reservation time `per` lies outside the grant's lifetime.");
      }
      applySharingRules(this.o.rules, claims.sub, claims.grp, request);
      await this.purgeNow(now);
      const capUnits = this.capUnitsOf(claims.sub);
      const result = await consumeGrantAndCharge(this.o.orm, {
        requestId: ctx.requestId,
        jti: claims.jti,
        exp: claims.exp,
        expiredFrom: claims.exp + this.tolerance,
        clock: () => this.now().getTime() / 1000,
        member: claims.sub,
        horizonDays: this.horizonDays,
        rhoUnits: rhoChargeUnits(claims.rho),
        deltaUnits: deltaChargeUnits(claims.delta),
        memberCapUnits: capUnits,
        nodeCapUnits: this.nodeCapUnits,
        at: now.toISOString(),
      });
      if (result.ok) {
        this.o.logger?.info({ event: 'grant-charged', requestId: ctx.requestId, member: claims.sub, reservedAt: claims.per, rho: claims.rho, delta: claims.delta, jti: claims.jti }, 'grant accepted and charged');
        return;
      }
      if (result.reason === 'expired') throw grantInvalid('expired', 'The grant has expired; the gateway must issue a new one.');
      if (result.reason === 'replay') throw grantInvalid('replay', 'The grant was already used; every grant admits one request.');
      if (result.reason === 'member-cap') {
        const remaining = rhoFromUnits(result.memberRemainingUnits);
        throw new AccordError('NODE_BUDGET_EXHAUSTED', `This node's privacy cap for this member over its ${this.horizonDays}-day horizon does not cover the charge; ρ remaining for this member here: ${remaining}.`, {
          scope: 'member',
          horizonDays: this.horizonDays,
          remainingRho: remaining,
        });
      }
      throw new AccordError('NODE_BUDGET_EXHAUSTED', `This node's own privacy cap over its ${this.horizonDays}-day horizon does not cover the charge; its operator sets that cap, whatever the gateway allocated.`, {
        scope: 'node',
        horizonDays: this.horizonDays,
      });
    } catch (e) {
      if (isAccordError(e)) {
        const cause = (e as Error).cause;
        this.o.logger?.warn(
          { event: 'grant-refused', requestId: ctx.requestId, code: e.code, ...e.details, ...(claims ? { member: claims.sub, jti: claims.jti } : {}), ...(cause !== undefined ? { err: cause } : {}) },
          e.message,
        );
      }
      throw e;
    }
  }

  private async purgeNow(now: Date): Promise<void> {
    if (now.getTime() - this.lastPurge < PURGE_INTERVAL_MS) return;
    this.lastPurge = now.getTime();
    try {
      await purgeUsedGrants(this.o.orm, now.getTime() / 1000 - this.tolerance - PURGE_MARGIN_SECONDS);
    } catch (e) {
      this.o.logger?.warn({ err: e }, 'could not purge expired grant ids');
    }
  }
}

/**
 * A guard that refuses every request with GRANT_INVALID: the posture of a node that was given no
 * gateway keys (it cannot tell the gateway from anyone else).
 */
export function refuseAllGuard(logger?: Logger): ContributionGuard {
  return {
    admit(_request, ctx): void {
      const e = grantInvalid('not-configured', 'This node has no gateway keys configured and answers no contribution request; its operator must set --gateway-jwks.');
      logger?.warn({ event: 'grant-refused', requestId: ctx.requestId, code: e.code, ...e.details }, e.message);
      throw e;
    },
  };
}
