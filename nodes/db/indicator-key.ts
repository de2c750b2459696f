/**
 * Which key the node's stored indicator hashes were made with.
 *
 * Indicator hashes match a federated indicator filter only when they were made under the
 * federation's indicator key. A node records the id of the key it hashed under (setting
 * `indicator_key_id`) at every import and seed; imports refuse to mix keys while indicators are
 * stored, and the contribution service compares the recorded id with its configured key before it
 * answers an indicator filter. Stores written before key ids were recorded hold hashes under the
 * node secret (the only key then), and are read that way.
 *
 * The key id is the first 16 hex digits of SHA-256 over a domain-separation label and the key: it
 * names a key without revealing it.
 */
import { createHash } from 'node:crypto';
import { AccordError } from '../../schema/errors.js';
import type { Dialect } from './orm.js';
import { exec, queryRows, type Executor, type SqlParam } from './sql.js';

/** The `node_setting` key holding the indicator key id. */
export const INDICATOR_KEY_SETTING = 'indicator_key_id';

/** The id of an indicator key (16 hex digits). */
export function indicatorKeyId(key: string | Buffer): string {
  return createHash('sha256').update('accord/indicator-key-id/v1\n').update(key).digest('hex').slice(0, 16);
}

/** The two statements this module needs, over a knex executor or an import's SqlRunner. */
export interface SqlAccess {
  all<T = Record<string, unknown>>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  run(sql: string, params?: readonly SqlParam[]): Promise<void>;
}

/** {@link SqlAccess} over a knex instance or transaction. */
export function knexAccess(ex: Executor, dialect: Dialect): SqlAccess {
  return {
    all: <T>(sql: string, params: readonly SqlParam[] = []) => queryRows<T>(ex, dialect, sql, params),
    run: (sql: string, params: readonly SqlParam[] = []) => exec(ex, sql, params),
  };
}

export interface StoredIndicatorKey {
  /** The recorded key id, null when none was recorded. */
  keyId: string | null;
  /** Whether the node stores any indicator hash (on incidents or in the import registry). */
  hasIndicators: boolean;
}

/** Reads the recorded key id and whether any indicator hash is stored. */
export async function readStoredIndicatorKey(db: SqlAccess): Promise<StoredIndicatorKey> {
  const rows = await db.all<{ value: string }>('select "value" from "node_setting" where "key" = ?', [INDICATOR_KEY_SETTING]);
  const onIncidents = await db.all('select 1 as "x" from "indicator" limit 1');
  const inRegistry = onIncidents.length > 0 ? onIncidents : await db.all('select 1 as "x" from "stix_indicator_value" limit 1');
  return { keyId: rows[0]?.value ?? null, hasIndicators: inRegistry.length > 0 };
}

/**
 * The id of the key the stored hashes were made with: the recorded id, or for a store written
 * before ids were recorded, the node secret's. Null when nothing is stored or nothing can be said.
 */
export function storedKeyId(stored: StoredIndicatorKey, nodeSecret: string | Buffer | undefined): string | null {
  if (!stored.hasIndicators) return null;
  return stored.keyId ?? (nodeSecret !== undefined ? indicatorKeyId(nodeSecret) : null);
}

/**
 * Inside a write transaction, before indicator hashes are written under `hashKey`: refuses when the
 * node already stores indicator hashes made under another key, and records `hashKey`'s id
 * otherwise. `nodeSecret` is the key of stores written before ids were recorded. Throws
 * AccordError('CONFIG_INVALID', field `indicatorKey`) on a mismatch.
 */
export async function claimIndicatorKey(db: SqlAccess, hashKey: string | Buffer, nodeSecret: string | Buffer): Promise<void> {
  const id = indicatorKeyId(hashKey);
  const stored = storedKeyId(await readStoredIndicatorKey(db), nodeSecret);
  if (stored !== null && stored !== id) {
    throw new AccordError(
      'CONFIG_INVALID',
      `The indicators this node stores were hashed under another key (key id ${stored}) than the one given now (key id ${id}); mixing keys would make indicator filters miss. ` +
        'Give the indicator key the store was built with (--indicator-key-file / ACCORD_INDICATOR_KEY, or none if it was built under the node secret), or import into a new database.',
      { field: 'indicatorKey', storedKeyId: stored, keyId: id },
    );
  }
  await db.run('insert into "node_setting" ("key", "value") values (?, ?) on conflict ("key") do update set "value" = excluded."value"', [INDICATOR_KEY_SETTING, id]);
}
