/**
 * Opening the node's database: an embedded SQLite file (better-sqlite3, WAL) by default, PostgreSQL
 * when given a `postgres://` / `postgresql://` URL. The schema is brought up to date with the
 * migrations in `./migrations/` before the ORM is handed out.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MikroORM, type Options } from '@mikro-orm/core';
import { BetterSqliteDriver, type AbstractSqlDriver, type Knex } from '@mikro-orm/better-sqlite';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { AccordError } from '../../schema/errors.js';
import { NODE_ENTITIES } from './entities.js';
import { NODE_MIGRATIONS } from './migrations/index.js';

export type NodeOrm = MikroORM<AbstractSqlDriver>;
export type Dialect = 'sqlite' | 'postgresql';

export interface DatabaseOptions {
  /** A SQLite file path (`:memory:` allowed) or a PostgreSQL connection URL. */
  db: string;
  /**
   * PostgreSQL only: a schema to hold the node's tables (created when missing; it becomes the
   * connection's `search_path`). Lets several nodes, or tests, share one database.
   */
  pgSchema?: string;
  /** Run pending migrations (default true). */
  migrate?: boolean;
  /** SQLite page cache in MiB (default 64). */
  sqliteCacheMiB?: number;
}

const PG_URL = /^postgres(ql)?:\/\//i;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** True when `db` names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return PG_URL.test(db);
}

interface BetterSqliteConnection {
  pragma(source: string): unknown;
}

/**
 * Opens the database, applies pending migrations (unless `migrate: false`) and returns the ORM.
 * Creates the SQLite file's folder when missing. Throws AccordError('CONFIG_INVALID') for a
 * malformed PostgreSQL schema name; driver errors (unreachable server, unwritable file) propagate.
 */
export async function openNodeOrm(options: DatabaseOptions): Promise<NodeOrm> {
  const common: Partial<Options> = {
    entities: [...NODE_ENTITIES],
    discovery: { warnWhenNoEntities: false },
    extensions: [Migrator],
    migrations: {
      migrationsList: NODE_MIGRATIONS,
      snapshot: false,
      transactional: true,
      allOrNothing: true,
      disableForeignKeys: false,
      silent: true,
    },
    allowGlobalContext: false,
    debug: false,
  };

  let orm: NodeOrm;
  if (isPostgresUrl(options.db)) {
    const schema = options.pgSchema;
    if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
      throw new AccordError('CONFIG_INVALID', 'The PostgreSQL schema name must be a lower-case SQL identifier.', { field: 'pgSchema' });
    }
    orm = (await MikroORM.init({
      ...common,
      driver: PostgreSqlDriver,
      clientUrl: options.db,
      ...(schema ? { schema, driverOptions: { connection: { options: `-c search_path=${schema}` } } } : {}),
    } as Options)) as unknown as NodeOrm;
    if (schema) await knexOf(orm).raw(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } else {
    const file = options.db === ':memory:' ? options.db : resolve(options.db);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const cacheKiB = Math.round((options.sqliteCacheMiB ?? 64) * 1024);
    orm = (await MikroORM.init({
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
            conn.pragma('busy_timeout = 5000');
            done(null, conn);
          } catch (e) {
            done(e as Error, conn);
          }
        },
      },
    } as Options)) as unknown as NodeOrm;
  }
  if (options.migrate !== false) {
    try {
      await orm.getMigrator().up();
    } catch (e) {
      await orm.close(true);
      throw e;
    }
  }
  return orm;
}

/** The SQL dialect behind an ORM opened with {@link openNodeOrm}. */
export function dialectOf(orm: NodeOrm): Dialect {
  return orm.config.get('driver') === PostgreSqlDriver ? 'postgresql' : 'sqlite';
}

/** The knex instance behind the ORM (for parameterised raw SQL). */
export function knexOf(orm: NodeOrm): Knex {
  return orm.em.getConnection().getKnex();
}
