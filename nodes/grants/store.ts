/**
 * The durable half of grant checking: single use of grant ids and the node's own ledger, in one
 * transaction per admitted request (SQLite or PostgreSQL).
 *
 * The ledger is the append-only charge record (`grant_charge`: member, ρ, δ, time). Caps apply to
 * the charges made over the trailing horizon: a charge made at t counts while now < t + horizon.
 * The member's and the node's spend over the window are indexed range sums ((member, at) and (at)).
 *
 * Concurrency: the grant id is inserted with `ON CONFLICT DO NOTHING RETURNING`; of two
 * transactions inserting the same id, the second waits for the first and inserts nothing if it
 * committed, so exactly one use passes. Every charging transaction then locks the node's one ledger
 * lock row (`SELECT … FOR UPDATE` on PostgreSQL; SQLite runs transactions one at a time), reads the
 * window sums, and appends the charge only if both caps hold, so concurrent charges never exceed a
 * cap. Locks are taken in one order (grant id, ledger lock), so transactions cannot deadlock.
 */
import { dialectOf, knexOf, type Dialect, type NodeOrm } from '../db/orm.js';
import { exec, queryRows, type Executor } from '../db/sql.js';
import { deltaFromUnits, rhoFromUnits } from '../../schema/privacy/units.js';

const DAY_MS = 86_400_000;

export interface ChargeInput {
  requestId: string;
  jti: string;
  /** Grant expiry (seconds since the epoch); the id is kept at least until then. */
  exp: number;
  /**
   * Seconds since the epoch from which the grant counts as expired (its `exp` plus the clock
   * tolerance); checked inside the transaction, so a grant cannot outlive a purge of its id.
   */
  expiredFrom: number;
  /** Current time in seconds since the epoch (default the system clock). */
  clock?: () => number;
  member: string;
  /** Charge in ledger units (rounded up). */
  rhoUnits: number;
  deltaUnits: number;
  /** The member's cap over the horizon, in ledger units (rounded down). */
  memberCapUnits: number;
  /** The node-wide cap over the horizon, in ledger units; undefined when the node has none. */
  nodeCapUnits?: number;
  /** ISO 8601 time of the charge (the node's own clock). */
  at: string;
  /** The privacy horizon in days: charges made within it before `at` count against the caps. */
  horizonDays: number;
}

export type ChargeResult =
  | { ok: true }
  | { ok: false; reason: 'replay' }
  | { ok: false; reason: 'expired' }
  | { ok: false; reason: 'member-cap'; memberRemainingUnits: number }
  | { ok: false; reason: 'node-cap' };

class Abort {
  constructor(readonly result: ChargeResult) {}
}

/** The first instant (ISO 8601, exclusive) of the window of `horizonDays` ending at `at`. */
export function windowStart(at: string, horizonDays: number): string {
  return new Date(Date.parse(at) - horizonDays * DAY_MS).toISOString();
}

interface Spend {
  rho: number;
  delta: number;
}

/** The node's and each member's spend over the window starting after `since` (one indexed range each). */
async function spendSince(ex: Executor, dialect: Dialect, since: string, member?: string): Promise<{ node: Spend; members: Map<string, Spend & { charges: number }> }> {
  const node = await queryRows<{ r: unknown; d: unknown }>(ex, dialect, 'select coalesce(sum("rho"), 0) as "r", coalesce(sum("delta"), 0) as "d" from "grant_charge" where "at" > ?', [since]);
  const rows = await queryRows<{ member: string; r: unknown; d: unknown; n: unknown }>(
    ex,
    dialect,
    `select "member", sum("rho") as "r", sum("delta") as "d", count(*) as "n" from "grant_charge" where ${member === undefined ? '' : '"member" = ? and '}"at" > ? group by "member" order by "member"`,
    member === undefined ? [since] : [member, since],
  );
  return {
    node: { rho: Number(node[0]?.r ?? 0), delta: Number(node[0]?.d ?? 0) },
    members: new Map(rows.map((r) => [r.member, { rho: Number(r.r), delta: Number(r.d), charges: Number(r.n) }])),
  };
}

/**
 * In one transaction: records the grant id as used, checks the member's and the node's spend over
 * the horizon ending at `at` plus this charge against their caps, and appends the charge record.
 * When the id was used before, or a cap would be exceeded, nothing is written and the reason is
 * returned. Driver errors propagate (nothing written).
 */
export async function consumeGrantAndCharge(orm: NodeOrm, c: ChargeInput): Promise<ChargeResult> {
  const dialect = dialectOf(orm);
  try {
    await knexOf(orm).transaction(async (trx) => {
      if ((c.clock ?? (() => Date.now() / 1000))() >= c.expiredFrom) throw new Abort({ ok: false, reason: 'expired' });
      const used = await queryRows(trx, dialect, 'insert into "grant_jti" ("jti", "exp") values (?, ?) on conflict ("jti") do nothing returning "jti"', [c.jti, c.exp]);
      if (used.length === 0) throw new Abort({ ok: false, reason: 'replay' });
      if (dialect === 'postgresql') await exec(trx, 'select "id" from "grant_ledger_lock" where "id" = 1 for update', []);

      const spend = await spendSince(trx, dialect, windowStart(c.at, c.horizonDays), c.member);
      const mine = spend.members.get(c.member)?.rho ?? 0;
      if (mine + c.rhoUnits > c.memberCapUnits) throw new Abort({ ok: false, reason: 'member-cap', memberRemainingUnits: Math.max(0, c.memberCapUnits - mine) });
      if (c.nodeCapUnits !== undefined && spend.node.rho + c.rhoUnits > c.nodeCapUnits) throw new Abort({ ok: false, reason: 'node-cap' });

      await exec(trx, 'insert into "grant_charge" ("request_id", "jti", "member", "period", "rho", "delta", "at") values (?, ?, ?, ?, ?, ?, ?)', [
        c.requestId.slice(0, 64),
        c.jti,
        c.member,
        c.at.slice(0, 7),
        c.rhoUnits,
        c.deltaUnits,
        c.at,
      ]);
    });
    return { ok: true };
  } catch (e) {
    if (e instanceof Abort) return e.result;
    throw e;
  }
}

/**
 * Forgets grant ids that expired before `beforeSeconds`. Callers pass a time well before any grant
 * still being admitted could expire (a grant past its expiry is refused, also inside the charging
 * transaction), so a purge never reopens an id. Driver errors propagate.
 */
export async function purgeUsedGrants(orm: NodeOrm, beforeSeconds: number): Promise<void> {
  await exec(knexOf(orm), 'delete from "grant_jti" where "exp" < ?', [Math.floor(beforeSeconds)]);
}

export interface MemberLedgerEntry {
  member: string;
  rhoSpent: number;
  deltaSpent: number;
  capRho: number;
  remainingRho: number;
  /** Charges recorded for this member within the horizon. */
  charges: number;
}

/** The node's own ledger over the horizon ending now. */
export interface LedgerReport {
  horizonDays: number;
  /** Charges made after this instant (ISO 8601) count. */
  since: string;
  node: { rhoSpent: number; deltaSpent: number; capRho: number | null; remainingRho: number | null };
  members: MemberLedgerEntry[];
}

export interface LedgerCaps {
  /** The member's cap in ledger units. */
  memberCapUnits(member: string): number;
  /** The node-wide cap in ledger units, or undefined. */
  nodeCapUnits?: number;
  horizonDays: number;
}

/**
 * The node's own ledger for the operator: over the horizon ending at `at`, the node total and every
 * member's spend, cap and remaining ρ (in ρ, from exact ledger units).
 */
export async function ledgerReport(orm: NodeOrm, caps: LedgerCaps, at: Date = new Date()): Promise<LedgerReport> {
  const since = windowStart(at.toISOString(), caps.horizonDays);
  const spend = await spendSince(knexOf(orm), dialectOf(orm), since);
  const cap = caps.nodeCapUnits;
  return {
    horizonDays: caps.horizonDays,
    since,
    node: {
      rhoSpent: rhoFromUnits(spend.node.rho),
      deltaSpent: deltaFromUnits(spend.node.delta),
      capRho: cap === undefined ? null : rhoFromUnits(cap),
      remainingRho: cap === undefined ? null : rhoFromUnits(Math.max(0, cap - spend.node.rho)),
    },
    members: [...spend.members].map(([member, s]) => {
      const c = caps.memberCapUnits(member);
      return { member, rhoSpent: rhoFromUnits(s.rho), deltaSpent: deltaFromUnits(s.delta), capRho: rhoFromUnits(c), remainingRho: rhoFromUnits(Math.max(0, c - s.rho)), charges: s.charges };
    }),
  };
}
