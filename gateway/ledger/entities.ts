/**
 * The gateway's storage model as MikroORM entity schemas (plain definitions, every type explicit):
 * privacy ledgers, reservations and the answer cache. Entities are storage, not contract; the
 * GraphQL types in `federation/subgraphs` are built from them by hand. The tables are created by
 * the migrations in `./migrations/` (same DDL on SQLite and PostgreSQL); amounts are BIGINT ledger
 * units (see `units.ts`), times are ISO 8601 strings (UTC) but a charge's `at` (epoch ms), lists are JSON text.
 */
import { EntitySchema } from '@mikro-orm/core';

/** The monthly ledgers before the horizon (kept for audit, no longer written). */
export type LedgerKind = 'NODE' | 'MEMBER';

/** A ledger: a node's cap, a member's allocation on a node, the federation cap, a member's federation allocation. */
export type AccountKind = 'NODE' | 'MEMBER' | 'FEDERATION' | 'MEMBER_FEDERATION';

/** One ledger account; its row is what a reservation locks. Caps come from the budgets configuration. */
export interface Account {
  /** `NODE|<node>`, `MEMBER|<node>|<member>`, `FEDERATION` or `MEMBER_FEDERATION|<member>`. */
  id: string;
  kind: AccountKind;
  node: string | null;
  member: string | null;
}

/** One charge to one account; it counts against the account's cap for the horizon after `at`. */
export interface Charge {
  accountId: string;
  /** The reservation that made it (`period:<YYYY-MM>` for monthly spending carried over by the migration). */
  reservationId: string;
  /** Epoch milliseconds. */
  at: string;
  /** pico-ρ, femto-δ. */
  rho: string;
  delta: string;
}

/** A monthly ledger row (before the horizon). */
export interface LedgerAccount {
  /** `NODE|<period>|<node>` or `MEMBER|<period>|<node>|<member>`. */
  id: string;
  kind: LedgerKind;
  period: string;
  node: string;
  /** Null for NODE accounts. */
  member: string | null;
  /** The cap in force at the last charge (pico-ρ, femto-δ). */
  capRho: string;
  capDelta: string;
  /** Spent so far this period (pico-ρ, femto-δ). */
  spentRho: string;
  spentDelta: string;
}

/** `RESERVED` until the answer is gathered; `ANSWERED` or `FAILED` after. Never refunded either way. */
export type ReservationStatus = 'RESERVED' | 'ANSWERED' | 'FAILED';

export interface Reservation {
  /** Random UUID. */
  id: string;
  member: string;
  /** Fingerprint of the canonical query (AggregateAnswer.queryId). */
  queryId: string;
  /** The answer-cache key the answer is stored under. */
  cacheKey: string;
  /** JSON array of the node ids asked. */
  nodes: string;
  /** Charge per node (pico-ρ, femto-δ). */
  rho: string;
  delta: string;
  period: string;
  createdAt: string;
  status: ReservationStatus;
  finishedAt: string | null;
}

export interface CachedAnswer {
  /** SHA-256 (hex) of queryId and node set. */
  cacheKey: string;
  queryId: string;
  /** Month of the answer (audit). */
  period: string;
  /** JSON array of the node ids asked. */
  nodes: string;
  /** The released answer as JSON (noised cells, accuracy, charge, coverage). */
  answer: string;
  /** The reservation that paid for it. */
  reservationId: string;
  createdAt: string;
}

export const LedgerAccountSchema = new EntitySchema<LedgerAccount>({
  name: 'LedgerAccount',
  tableName: 'accord_ledger',
  indexes: [{ name: 'accord_ledger_member_period_index', properties: ['member', 'period'] }],
  properties: {
    id: { type: 'string', primary: true, length: 255 },
    kind: { type: 'string', length: 8 },
    period: { type: 'string', length: 7 },
    node: { type: 'string', length: 64 },
    member: { type: 'string', length: 128, nullable: true },
    capRho: { type: 'bigint', fieldName: 'cap_rho' },
    capDelta: { type: 'bigint', fieldName: 'cap_delta' },
    spentRho: { type: 'bigint', fieldName: 'spent_rho', default: 0 },
    spentDelta: { type: 'bigint', fieldName: 'spent_delta', default: 0 },
  },
});

export const ReservationSchema = new EntitySchema<Reservation>({
  name: 'Reservation',
  tableName: 'accord_reservation',
  indexes: [
    { name: 'accord_reservation_member_period_index', properties: ['member', 'period'] },
    { name: 'accord_reservation_created_index', properties: ['createdAt'] },
  ],
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    member: { type: 'string', length: 128 },
    queryId: { type: 'string', length: 64, fieldName: 'query_id' },
    cacheKey: { type: 'string', length: 64, fieldName: 'cache_key' },
    nodes: { type: 'text' },
    rho: { type: 'bigint' },
    delta: { type: 'bigint' },
    period: { type: 'string', length: 7 },
    createdAt: { type: 'string', length: 32, fieldName: 'created_at' },
    status: { type: 'string', length: 16 },
    finishedAt: { type: 'string', length: 32, nullable: true, fieldName: 'finished_at' },
  },
});

export const CachedAnswerSchema = new EntitySchema<CachedAnswer>({
  name: 'CachedAnswer',
  tableName: 'accord_answer_cache',
  properties: {
    cacheKey: { type: 'string', primary: true, length: 64, fieldName: 'cache_key' },
    queryId: { type: 'string', length: 64, fieldName: 'query_id' },
    period: { type: 'string', length: 7 },
    nodes: { type: 'text' },
    answer: { type: 'text' },
    reservationId: { type: 'string', length: 36, fieldName: 'reservation_id' },
    createdAt: { type: 'string', length: 32, fieldName: 'created_at' },
  },
});

export const AccountSchema = new EntitySchema<Account>({
  name: 'Account',
  tableName: 'accord_account',
  properties: {
    id: { type: 'string', primary: true, length: 255 },
    kind: { type: 'string', length: 24 },
    node: { type: 'string', length: 64, nullable: true },
    member: { type: 'string', length: 128, nullable: true },
  },
});

export const ChargeSchema = new EntitySchema<Charge>({
  name: 'Charge',
  tableName: 'accord_charge',
  indexes: [{ name: 'accord_charge_account_at_index', properties: ['accountId', 'at'] }],
  properties: {
    accountId: { type: 'string', primary: true, length: 255, fieldName: 'account_id' },
    reservationId: { type: 'string', primary: true, length: 64, fieldName: 'reservation_id' },
    at: { type: 'bigint' },
    rho: { type: 'bigint' },
    delta: { type: 'bigint' },
  },
});

export const GATEWAY_ENTITIES = [LedgerAccountSchema, ReservationSchema, CachedAnswerSchema, AccountSchema, ChargeSchema] as const;
