/**
 * Storage of the node's grant checks and own privacy ledger as MikroORM entity schemas; the tables
 * are created by `migrations/Migration20250615000000_grants.ts`.
 *
 * - `grant_jti`: ids of grants already used, kept until they expire (the primary key makes a second
 *   use fail atomically, whatever the concurrency).
 * - `grant_member_ledger` / `grant_node_ledger`: ρ and δ spent per member per period and per period
 *   for the whole node, in integer ledger units: ρ in 10⁻¹², δ in 10⁻¹⁵ (`schema/privacy/units.ts`;
 *   δ was in 10⁻¹² before `migrations/Migration20250701000000_delta_femto.ts`).
 * - `grant_charge`: one row per charge (append-only), for the operator's audit.
 *
 * Ledger amounts are BIGINT columns read as strings (exact); they stay below 2⁵³ by the cap limits.
 */
import { EntitySchema } from '@mikro-orm/core';

export interface UsedGrant {
  jti: string;
  /** Expiry of the grant, seconds since the epoch. */
  exp: string;
}

export interface MemberLedgerRow {
  member: string;
  /** `YYYY-MM`. */
  period: string;
  rhoSpent: string;
  deltaSpent: string;
}

export interface NodeLedgerRow {
  period: string;
  rhoSpent: string;
  deltaSpent: string;
}

export interface GrantCharge {
  id: number;
  requestId: string;
  jti: string;
  member: string;
  period: string;
  rho: string;
  delta: string;
  /** ISO 8601 (UTC). */
  at: string;
}

export const UsedGrantSchema = new EntitySchema<UsedGrant>({
  name: 'UsedGrant',
  tableName: 'grant_jti',
  indexes: [{ name: 'grant_jti_exp_index', properties: ['exp'] }],
  properties: {
    jti: { type: 'string', length: 255, primary: true },
    exp: { type: 'bigint' },
  },
});

export const MemberLedgerSchema = new EntitySchema<MemberLedgerRow>({
  name: 'MemberLedgerRow',
  tableName: 'grant_member_ledger',
  properties: {
    member: { type: 'string', length: 255, primary: true },
    period: { type: 'string', length: 7, primary: true },
    rhoSpent: { type: 'bigint' },
    deltaSpent: { type: 'bigint' },
  },
});

export const NodeLedgerSchema = new EntitySchema<NodeLedgerRow>({
  name: 'NodeLedgerRow',
  tableName: 'grant_node_ledger',
  properties: {
    period: { type: 'string', length: 7, primary: true },
    rhoSpent: { type: 'bigint' },
    deltaSpent: { type: 'bigint' },
  },
});

export const GrantChargeSchema = new EntitySchema<GrantCharge>({
  name: 'GrantCharge',
  tableName: 'grant_charge',
  indexes: [
    { name: 'grant_charge_member_period_index', properties: ['member', 'period'] },
    { name: 'grant_charge_member_at_index', properties: ['member', 'at'] },
    { name: 'grant_charge_at_index', properties: ['at'] },
  ],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    requestId: { type: 'string', length: 64 },
    jti: { type: 'string', length: 255 },
    member: { type: 'string', length: 255 },
    period: { type: 'string', length: 7 },
    rho: { type: 'bigint' },
    delta: { type: 'bigint' },
    at: { type: 'string', length: 32 },
  },
});

/** The one row every charging transaction locks on PostgreSQL, so caps over the window are checked one at a time. */
export interface LedgerLock {
  id: number;
}

export const LedgerLockSchema = new EntitySchema<LedgerLock>({
  name: 'LedgerLock',
  tableName: 'grant_ledger_lock',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: false },
  },
});

/** The grant and ledger entities. */
export const GRANT_ENTITIES = [UsedGrantSchema, MemberLedgerSchema, NodeLedgerSchema, GrantChargeSchema, LedgerLockSchema] as const;
