/**
 * Opening the node's database through the shared opener (`runtime/orm.ts`): an embedded SQLite
 * file by default, PostgreSQL when given a `postgres://` / `postgresql://` URL. The schema is
 * brought up to date with the migrations in `./migrations/` (on PostgreSQL under the node's own
 * advisory lock) before the ORM is handed out.
 */
import { openOrm, type Orm } from '../../runtime/orm.js';
import { NODE_ENTITIES } from './entities.js';
import { NODE_MIGRATIONS } from './migrations/index.js';

export { dialectOf, isPostgresUrl, knexOf, type Dialect } from '../../runtime/orm.js';

export type NodeOrm = Orm;

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

/** Advisory lock key for the node's migrations (any fixed 64-bit number). */
const MIGRATION_LOCK = 4_715_200_012;

/**
 * Opens the database, applies pending migrations (unless `migrate: false`) and returns the ORM.
 * Creates the SQLite file's folder when missing. Throws AccordError('CONFIG_INVALID') for a
 * malformed PostgreSQL schema name; driver errors (unreachable server, unwritable file) propagate.
 */
export function openNodeOrm(options: DatabaseOptions): Promise<NodeOrm> {
  return openOrm({ ...options, entities: NODE_ENTITIES, migrations: NODE_MIGRATIONS, lockKey: MIGRATION_LOCK });
}
