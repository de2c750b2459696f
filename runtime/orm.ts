/**
 * Opening a MikroORM database, the one way both the gateway and a node do it.
 *
 * Promises:
 * - SQLite (better-sqlite3) for a file path or `:memory:`; the file's folder is created when
 *   missing, and a new database file is created readable and writable by its owner only (0600;
 *   SQLite's -wal and -shm files take its permissions). One connection, WAL for a
 *   file, `synchronous = NORMAL` (a committed transaction survives a crash of the process; surviving
 *   a power loss of the machine needs PostgreSQL or an OS that flushes on commit), foreign keys on,
 *   a page cache of `sqliteCacheMiB`, temporary tables in memory, memory-mapped reads and a busy
 *   timeout of {@link SQLITE_BUSY_TIMEOUT_MS} for a second process (the operator CLI) on the file.
 * - PostgreSQL for a `postgres://` / `postgresql://` URL, with a pool of at most `pgPoolMax`
 *   connections (at least 2 while migrating: the advisory lock holds one). An optional schema is
 *   created when missing and becomes the connection's `search_path`, so several services or tests
 *   can share one database. Schema creation and migrations run under a PostgreSQL advisory lock
 *   (`lockKey`), so that replicas starting together do not race.
 * - Pending migrations run before the ORM is handed out (unless `migrate: false`), all or nothing.
 *
 * Throws AccordError('CONFIG_INVALID') for a malformed schema name; driver and migration errors
 * (unreachable server, unwritable file) propagate, and nothing is left open when they do.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MikroORM, type EntitySchema, type MigrationObject, type Options } from '@mikro-orm/core';
import { BetterSqliteDriver, type AbstractSqlDriver, type Knex } from '@mikro-orm/better-sqlite';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { AccordError } from '../schema/errors.js';

export type Orm = MikroORM<AbstractSqlDriver>;
export type Dialect = 'sqlite' | 'postgresql';

export interface OrmOptions {
  /** A SQLite file path (`:memory:` allowed) or a PostgreSQL connection URL. */
  db: string;
  /** PostgreSQL only: schema holding the tables (created when missing; becomes the search_path). */
  pgSchema?: string;
  /** Entity schemas of the service. */
  entities: readonly EntitySchema<any>[];
  /** The service's migrations, in order (listed, never scanned from a folder). */
  migrations: MigrationObject[];
  /** Table recording applied migrations (default MikroORM's `mikro_orm_migrations`). */
  migrationsTable?: string;
  /** PostgreSQL advisory lock key held while creating the schema and migrating (default {@link DEFAULT_LOCK_KEY}). */
  lockKey?: number;
  /** Run pending migrations (default true). */
  migrate?: boolean;
  /** SQLite page cache in MiB (default 64). */
  sqliteCacheMiB?: number;
  /** Largest number of pooled PostgreSQL connections (default 10). */
  pgPoolMax?: number;
}

/** How long a SQLite statement waits for another connection's lock before failing with SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 10_000;
/** Advisory lock key used when a service names none (any fixed 64-bit number). */
export const DEFAULT_LOCK_KEY = 4_715_200_000;

const PG_URL = /^postgres(ql)?:\/\//i;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** True when `db` names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return PG_URL.test(db);
}

interface BetterSqliteConnection {
  pragma(source: string): unknown;
}

/** Opens the database and applies pending migrations; see the module comment for what it promises and throws. */
export async function openOrm(options: OrmOptions): Promise<Orm> {
  const common: Partial<Options> = {
    entities: [...options.entities],
    discovery: { warnWhenNoEntities: false },
    extensions: [Migrator],
    migrations: {
      ...(options.migrationsTable !== undefined ? { tableName: options.migrationsTable } : {}),
      migrationsList: options.migrations,
      snapshot: false,
      transactional: true,
      allOrNothing: true,
      disableForeignKeys: false,
      silent: true,
    },
    allowGlobalContext: false,
    debug: false,
  };
  const orm = isPostgresUrl(options.db) ? await initPostgres(options, common) : await initSqlite(options, common);
  try {
    if (isPostgresUrl(options.db)) await migratePostgres(orm, options);
    else if (options.migrate !== false) await orm.getMigrator().up();
  } catch (e) {
    await orm.close(true);
    throw e;
  }
  return orm;
}

async function initPostgres(options: OrmOptions, common: Partial<Options>): Promise<Orm> {
  const schema = options.pgSchema;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new AccordError('CONFIG_INVALID', 'The PostgreSQL schema name must be a lower-case SQL identifier.', { field: 'pgSchema' });
  }
  return (await MikroORM.init({
    ...common,
    driver: PostgreSqlDriver,
    clientUrl: options.db,
    pool: { min: 0, max: options.pgPoolMax ?? 10 },
    ...(schema ? { schema, driverOptions: { connection: { options: `-c search_path=${schema}` } } } : {}),
  } as Options)) as unknown as Orm;
}

/** Schema creation, then migrations, each in a transaction holding the advisory lock. */
async function migratePostgres(orm: Orm, options: OrmOptions): Promise<void> {
  const knex = knexOf(orm);
  const lockKey = options.lockKey ?? DEFAULT_LOCK_KEY;
  const schema = options.pgSchema;
  if (schema) {
    await knex.transaction(async (trx) => {
      await trx.raw('select pg_advisory_xact_lock(?)', [lockKey]);
      await trx.raw(`create schema if not exists "${schema}"`);
    });
  }
  if (options.migrate === false) return;
  await knex.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [lockKey]);
    await orm.getMigrator().up();
  });
}

async function initSqlite(options: OrmOptions, common: Partial<Options>): Promise<Orm> {
  const file = options.db === ':memory:' ? options.db : resolve(options.db);
  if (file !== ':memory:') {
    mkdirSync(dirname(file), { recursive: true });
    // raw incidents, indicators and ledgers: a new database file is readable by its owner only
    // (SQLite gives its -wal and -shm files the database file's permissions)
    closeSync(openSync(file, 'a', 0o600));
  }
  const cacheKiB = Math.round((options.sqliteCacheMiB ?? 64) * 1024);
  return (await MikroORM.init({
    ...common,
    driver: BetterSqliteDriver,
    dbName: file,
    pool: {
      min: 1,
      max: 1,
      afterCreate: (conn: BetterSqliteConnection, done: (err: Error | null, conn: unknown) => void) => {
        try {
          conn.pragma('foreign_keys = ON');
          if (file !== ':memory:') conn.pragma('journal_mode = WAL');
          conn.pragma('synchronous = NORMAL');
          conn.pragma(`cache_size = -${cacheKiB}`);
          conn.pragma('temp_store = MEMORY');
          conn.pragma('mmap_size = 268435456');
          conn.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
          done(null, conn);
        } catch (e) {
          done(e as Error, conn);
        }
      },
    },
  } as Options)) as unknown as Orm;
}

/** The SQL dialect behind an ORM opened with {@link openOrm}. */
export function dialectOf(orm: Orm): Dialect {
  return orm.config.get('driver') === PostgreSqlDriver ? 'postgresql' : 'sqlite';
}

/** The knex instance behind the ORM (for parameterised raw SQL). */
export function knexOf(orm: Orm): Knex {
  return orm.em.getConnection().getKnex();
}
