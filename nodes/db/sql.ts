/** Parameterised raw SQL over knex, the same on SQLite and PostgreSQL. */
import type { Knex } from '@mikro-orm/better-sqlite';
import type { Dialect } from './orm.js';

/** A knex instance or an open transaction. */
export type Executor = Knex | Knex.Transaction;
export type SqlParam = string | number | boolean | null;

/**
 * Runs one statement with `?` placeholders bound to `params` (never interpolated) and returns its
 * rows (an empty array for statements that return none). Driver errors propagate.
 */
export async function queryRows<T = Record<string, unknown>>(ex: Executor, dialect: Dialect, sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
  const res: unknown = await ex.raw(sql, params as Knex.RawBinding[]);
  if (dialect === 'postgresql') return ((res as { rows?: T[] }).rows ?? []) as T[];
  return Array.isArray(res) ? (res as T[]) : [];
}

/** Runs one statement for its effect. */
export async function exec(ex: Executor, sql: string, params: readonly SqlParam[] = []): Promise<void> {
  await ex.raw(sql, params as Knex.RawBinding[]);
}
