/**
 * Opening the gateway's database through the shared opener (`runtime/orm.ts`): an embedded SQLite
 * file by default, PostgreSQL when given a `postgres://` URL (the production setting, shared by
 * gateway replicas). The ledger's migrations (`./migrations/`) run at open, on PostgreSQL under the
 * gateway's own advisory lock so that replicas starting together do not race.
 *
 * SQLite durability: a committed reservation survives a crash of the gateway process (what the
 * ledger promises); surviving a power loss of the machine needs PostgreSQL.
 */
import { openOrm, type Orm } from '../../runtime/orm.js';
import { GATEWAY_ENTITIES } from './entities.js';
import { GATEWAY_MIGRATIONS } from './migrations/index.js';

export { dialectOf, isPostgresUrl, knexOf, type Dialect } from '../../runtime/orm.js';

export type GatewayOrm = Orm;

export interface GatewayDbOptions {
  /** SQLite file path (`:memory:` allowed) or PostgreSQL URL. */
  db: string;
  /** PostgreSQL only: schema holding the gateway's tables (created when missing; becomes the search_path). */
  pgSchema?: string;
  /** Largest number of pooled PostgreSQL connections (default 10). */
  pgPoolMax?: number;
}

/** Advisory lock key for the gateway's migrations (any fixed 64-bit number). */
const MIGRATION_LOCK = 4_715_200_011;

/**
 * Opens the database and applies pending migrations. Creates the SQLite file's folder when missing.
 * Throws AccordError('CONFIG_INVALID') for a malformed schema name; driver errors propagate.
 */
export function openGatewayOrm(options: GatewayDbOptions): Promise<GatewayOrm> {
  return openOrm({
    ...options,
    entities: GATEWAY_ENTITIES,
    migrations: GATEWAY_MIGRATIONS,
    migrationsTable: 'accord_gateway_migrations',
    lockKey: MIGRATION_LOCK,
  });
}
