/**
 * The durable half of grant checking: single use of grant ids and the node's own ledger, in one
 * transaction per admitted request (SQLite or PostgreSQL).
 *
 * Concurrency: the grant id is inserted with `ON CONFLICT DO NOTHING RETURNING`; of two
 * transactions inserting the same id, the second waits for the first and inserts nothing if it
 * committed, so exactly one use passes. Each ledger row is charged with one conditional
 * `UPDATE … SET spent = spent + x WHERE spent + x <= cap RETURNING …`; PostgreSQL re-evaluates the
 * condition on the latest row version after waiting for the row lock (READ COMMITTED), and SQLite
 * runs transactions one at a time, so concurrent charges never exceed a cap. Rows are locked in one
 * order (grant id, member row, node row), so transactions cannot deadlock each other.
 */
import { dialectOf, knexOf, type Dialect, type NodeOrm } from '../db/orm.js';
import { exec, queryRows, type Executor } from '../db/sql.js';
import { deltaFromUnits, rhoFromUnits } from '../../schema/privacy/units.js';

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
  period: string;
  /** Charge in ledger units (rounded up). */
  rhoUnits: number;
  deltaUnits: number;
  /** The member's cap for the period, in ledger units (rounded down). */
  memberCapUnits: number;
  /** The node-wide cap for the period, in ledger units; undefined when the node has none. */
  nodeCapUnits?: number;
  /** ISO 8601 time of the charge. */
  at: string;
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

async function ensureRow(trx: Executor, table: string, keys: Record<string, string>): Promise<void> {
  const cols = Object.keys(keys);
  const quoted = cols.map((c) => `"${c}"`).join(', ');
  await exec(trx, `insert into "${table}" (${quoted}, "rho_spent", "delta_spent") values (${cols.map(() => '?').join(', ')}, 0, 0) on conflict (${quoted}) do nothing`, Object.values(keys));
}

async function chargeRow(trx: Executor, dialect: Dialect, table: string, keys: Record<string, string>, rho: number, delta: number, cap: number | undefined): Promise<boolean> {
  const where = Object.keys(keys).map((c) => `"${c}" = ?`).join(' and ');
  const capClause = cap === undefined ? '' : ' and "rho_spent" + ? <= ?';
  const params = [rho, delta, ...Object.values(keys), ...(cap === undefined ? [] : [rho, cap])];
  const rows = await queryRows(trx, dialect, `update "${table}" set "rho_spent" = "rho_spent" + ?, "delta_spent" = "delta_spent" + ? where ${where}${capClause} returning "rho_spent"`, params);
  return rows.length > 0;
}

/**
 * In one transaction: records the grant id as used, charges the member's and the node's ledger
 * rows for the period (creating them at zero when missing), and appends the charge record. When
 * the id was used before, or a cap would be exceeded, nothing is written and the reason is returned.
 * Driver errors propagate (nothing written).
 */
export async function consumeGrantAndCharge(orm: NodeOrm, c: ChargeInput): Promise<ChargeResult> {
  const dialect = dialectOf(orm);
  try {
    await knexOf(orm).transaction(async (trx) => {
      if ((c.clock ?? (() => Date.now() / 1000))() >= c.expiredFrom) throw new Abort({ ok: false, reason: 'expired' });
      const used = await queryRows(trx, dialect, 'insert into "grant_jti" ("jti", "exp") values (?, ?) on conflict ("jti") do nothing returning "jti"', [c.jti, c.exp]);
      if (used.length === 0) throw new Abort({ ok: false, reason: 'replay' });

      const member = { member: c.member, period: c.period };
      await ensureRow(trx, 'grant_member_ledger', member);
      if (!(await chargeRow(trx, dialect, 'grant_member_ledger', member, c.rhoUnits, c.deltaUnits, c.memberCapUnits))) {
        const spent = await queryRows<{ s: unknown }>(trx, dialect, 'select "rho_spent" as "s" from "grant_member_ledger" where "member" = ? and "period" = ?', [c.member, c.period]);
        throw new Abort({ ok: false, reason: 'member-cap', memberRemainingUnits: Math.max(0, c.memberCapUnits - Number(spent[0]?.s ?? 0)) });
      }

      const node = { period: c.period };
      await ensureRow(trx, 'grant_node_ledger', node);
      if (!(await chargeRow(trx, dialect, 'grant_node_ledger', node, c.rhoUnits, c.deltaUnits, c.nodeCapUnits))) throw new Abort({ ok: false, reason: 'node-cap' });

      await exec(trx, 'insert into "grant_charge" ("request_id", "jti", "member", "period", "rho", "delta", "at") values (?, ?, ?, ?, ?, ?, ?)', [
        c.requestId.slice(0, 64),
        c.jti,
        c.member,
        c.period,
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
  /** Charges recorded for this member in the period. */
  charges: number;
}

export interface PeriodLedger {
  period: string;
  node: { rhoSpent: number; deltaSpent: number; capRho: number | null; remainingRho: number | null };
  members: MemberLedgerEntry[];
}

export interface LedgerReport {
  /** Newest period first. */
  periods: PeriodLedger[];
}

export interface LedgerCaps {
  /** The member's cap in ledger units. */
  memberCapUnits(member: string): number;
  /** The node-wide cap in ledger units, or undefined. */
  nodeCapUnits?: number;
}

/**
 * The node's own ledger for the operator: per period, the node total and every member's spend,
 * cap and remaining ρ (in ρ, from exact ledger units). `period` limits it to one period.
 */
export async function ledgerReport(orm: NodeOrm, caps: LedgerCaps, period?: string): Promise<LedgerReport> {
  const knex = knexOf(orm);
  const dialect = dialectOf(orm);
  const where = period === undefined ? '' : ' where "period" = ?';
  const params = period === undefined ? [] : [period];
  const nodes = await queryRows<{ period: string; rho_spent: unknown; delta_spent: unknown }>(knex, dialect, `select "period", "rho_spent", "delta_spent" from "grant_node_ledger"${where} order by "period" desc`, params);
  const members = await queryRows<{ member: string; period: string; rho_spent: unknown; delta_spent: unknown }>(
    knex,
    dialect,
    `select "member", "period", "rho_spent", "delta_spent" from "grant_member_ledger"${where} order by "period" desc, "member"`,
    params,
  );
  const counts = await queryRows<{ member: string; period: string; n: unknown }>(knex, dialect, `select "member", "period", count(*) as "n" from "grant_charge"${where} group by "member", "period"`, params);
  const countOf = new Map(counts.map((r) => [`${r.period}\u0000${r.member}`, Number(r.n)]));
  const byPeriod = new Map<string, PeriodLedger>();
  for (const n of nodes) {
    const spent = Number(n.rho_spent);
    byPeriod.set(n.period, {
      period: n.period,
      node: {
        rhoSpent: rhoFromUnits(spent),
        deltaSpent: deltaFromUnits(Number(n.delta_spent)),
        capRho: caps.nodeCapUnits === undefined ? null : rhoFromUnits(caps.nodeCapUnits),
        remainingRho: caps.nodeCapUnits === undefined ? null : rhoFromUnits(Math.max(0, caps.nodeCapUnits - spent)),
      },
      members: [],
    });
  }
  for (const m of members) {
    const p = byPeriod.get(m.period);
    if (!p) continue;
    const spent = Number(m.rho_spent);
    const cap = caps.memberCapUnits(m.member);
    p.members.push({
      member: m.member,
      rhoSpent: rhoFromUnits(spent),
      deltaSpent: deltaFromUnits(Number(m.delta_spent)),
      capRho: rhoFromUnits(cap),
      remainingRho: rhoFromUnits(Math.max(0, cap - spent)),
      charges: countOf.get(`${m.period}\u0000${m.member}`) ?? 0,
    });
  }
  return { periods: [...byPeriod.values()] };
}
