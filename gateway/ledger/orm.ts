/**
 * Opening the gateway's database: an embedded SQLite file (better-sqlite3, WAL) by default,
 * PostgreSQL when given a `postgres://` URL (the production setting, shared by gateway replicas).
 * Migrations in `./migrations/` run at open; on PostgreSQL they run under an advisory lock so that
 * replicas starting together do not race.
 *
 * SQLite durability: WAL with `synchronous = NORMAL` — a committed reservation survives a crash of
 * the gateway process (what the ledger promises); surviving a power loss of the machine needs
 * PostgreSQL (or an OS that flushes on commit).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MikroORM, type Options } from '@mikro-orm/core';
import { BetterSqliteDriver, type AbstractSqlDriver, type Knex } from '@mikro-orm/better-sqlite';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { AccordError } from '../../schema/errors.js';
import { GATEWAY_ENTITIES } from './entities.js';
import { GATEWAY_MIGRATIONS } from './migrations/index.js';

export type GatewayOrm = MikroORM<AbstractSqlDriver>;
export type Dialect = 'sqlite' | 'postgresql';

export interface GatewayDbOptions {
  /** SQLite file path (`:memory:` allowed) or PostgreSQL URL. */
  db: string;
  /** PostgreSQL only: schema holding the gateway's tables (created when missing; becomes the search_path). */
  pgSchema?: string;
  /** Largest number of pooled PostgreSQL connections (default 10). */
  pgPoolMax?: number;
}

const PG_URL = /^postgres(ql)?:\/\//i;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** Advisory lock key for migrations (any fixed 64-bit number). */
const MIGRATION_LOCK = 4_715_200_011;

export function isPostgresUrl(db: string): boolean {
  return PG_URL.test(db);
}

interface BetterSqliteConnection {
  pragma(source: string): unknown;
}

/**
 * Opens the database and applies pending migrations. Creates the SQLite file's folder when missing.
 * Throws AccordError('CONFIG_INVALID') for a malformed schema name; driver errors propagate.
 */
export async function openGatewayOrm(options: GatewayDbOptions): Promise<GatewayOrm> {
  const common: Partial<Options> = {
    entities: [...GATEWAY_ENTITIES],
    discovery: { warnWhenNoEntities: false },
    extensions: [Migrator],
    migrations: {
      tableName: 'accord_gateway_migrations',
      migrationsList: GATEWAY_MIGRATIONS,
      snapshot: false,
      transactional: true,
      allOrNothing: true,
      disableForeignKeys: false,
      silent: true,
    },
    allowGlobalContext: false,
    debug: false,
  };
  let orm: GatewayOrm;
  if (isPostgresUrl(options.db)) {
    const schema = options.pgSchema;
    if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
      throw new AccordError('CONFIG_INVALID', 'The PostgreSQL schema name must be a lower-case SQL identifier.', { field: 'pgSchema' });
    }
    orm = (await MikroORM.init({
      ...common,
      driver: PostgreSqlDriver,
      clientUrl: options.db,
      pool: { min: 0, max: options.pgPoolMax ?? 10 },
      ...(schema ? { schema, driverOptions: { connection: { options: `-c search_path=${schema}` } } } : {}),
    } as Options)) as unknown as GatewayOrm;
    const knex = knexOf(orm);
    try {
      await knex.transaction(async (trx) => {
        await trx.raw('select pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
        if (schema) await trx.raw(`create schema if not exists "${schema}"`);
      });
      await knex.transaction(async (trx) => {
        await trx.raw('select pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
        await orm.getMigrator().up();
      });
    } catch (e) {
      await orm.close(true);
      throw e;
    }
    return orm;
  }
  const file = options.db === ':memory:' ? options.db : resolve(options.db);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  orm = (await MikroORM.init({
    ...common,
    driver: BetterSqliteDriver,
    dbName: file,
    pool: {
      min: 1,
      max: 1,
      afterCreate: (conn: BetterSqliteConnection, done: (err: Error | null, conn: unknown) => void) => {
        try {
          if (file !== ':memory:') conn.pragma('journal_mode = WAL');
          conn.pragma('synchronous = NORMAL');
          conn.pragma('busy_timeout = 10000');
          done(null, conn);
        } catch (e) {
          done(e as Error, conn);
        }
      },
    },
  } as Options)) as unknown as GatewayOrm;
  try {
    await orm.getMigrator().up();
  } catch (e) {
    await orm.close(true);
    throw e;
  }
  return orm;
}

export function dialectOf(orm: GatewayOrm): Dialect {
  return orm.config.get('driver') === PostgreSqlDriver ? 'postgresql' : 'sqlite';
}

/** The knex instance behind the ORM (parameterised SQL for the ledger's conditional updates). */
export function knexOf(orm: GatewayOrm): Knex {
  return orm.em.getConnection().getKnex();
}
