/**
 * Building a running node in-process: database (migrated), optional one-time seed, the federated
 * contribution endpoint and the separate operator API. `main.ts` only parses configuration and
 * calls {@link createNode}; tests call it directly on port 0.
 */
import { readFile } from 'node:fs/promises';
import { pino, type Logger } from 'pino';
import type { NodeDataset } from '../schema/contract/dataset.js';
import { AccordError } from '../schema/errors.js';
import { resolveNodeConfig, type NodeConfig, type ResolvedNodeConfig } from './config.js';
import { ContributionService } from './contribution/service.js';
import { indicatorKeyId } from './db/indicator-key.js';
import { dialectOf, knexOf, openNodeOrm, type NodeOrm } from './db/orm.js';
import { seedDataset } from './db/seed.js';
import { queryRows } from './db/sql.js';
import { startGraphqlServer } from './graphql/server.js';
import { startOperatorServer } from './operator/server.js';
import { setupGrants } from './grants/setup.js';

export interface RunningNode {
  id: string;
  /** URL of the federated endpoint (`…/graphql`). */
  url: string;
  /** Base URL of the operator API. */
  operatorUrl: string;
  orm: NodeOrm;
  config: ResolvedNodeConfig;
  logger: Logger;
  /** Stops both servers and closes the database. Idempotent. */
  close(): Promise<void>;
}

/** A pino logger writing JSON lines to stderr. */
export function defaultLogger(id: string, level = 'info'): Logger {
  return pino({ name: 'accord-node', level, base: { node: id } }, pino.destination({ fd: 2, sync: false }));
}

async function isEmpty(orm: NodeOrm): Promise<boolean> {
  const rows = await queryRows<{ n: unknown }>(knexOf(orm), dialectOf(orm), 'select (select count(*) from "incident") + (select count(*) from "organisation") as "n"');
  return Number(rows[0]?.n ?? 0) === 0;
}

async function seedOnce(orm: NodeOrm, cfg: ResolvedNodeConfig, c: NodeConfig, logger: Logger): Promise<void> {
  if (!cfg.seedFile) return;
  if (!(await isEmpty(orm))) {
    logger.info({ event: 'seed-skipped', file: cfg.seedFile }, 'database already holds data; seed file not loaded');
    return;
  }
  let dataset: NodeDataset;
  try {
    dataset = JSON.parse(await readFile(cfg.seedFile, 'utf8')) as NodeDataset;
  } catch (e) {
    throw new AccordError('CONFIG_INVALID', 'The seed file cannot be read as JSON.', { field: 'seedFile', reason: (e as Error).message });
  }
  const summary = await seedDataset(orm, dataset, { secret: cfg.secret, ...(cfg.indicatorKey !== undefined ? { indicatorKey: cfg.indicatorKey } : {}), regions: c.regions });
  logger.info({ event: 'seeded', file: cfg.seedFile, ...summary }, 'seed file loaded');
}

/**
 * Starts a node and resolves once both servers listen. Throws AccordError('CONFIG_INVALID') for a
 * bad configuration or seed file, AccordError('INVALID_PARAMETER') for an invalid seed record, and
 * driver errors when the database cannot be opened; nothing is left running on failure.
 */
export async function createNode(c: NodeConfig): Promise<RunningNode> {
  const cfg = resolveNodeConfig(c);
  const logger = c.logger ?? defaultLogger(cfg.id, c.logLevel ?? process.env.ACCORD_LOG_LEVEL ?? 'info');
  const orm = await openNodeOrm({ db: cfg.db, pgSchema: cfg.pgSchema });
  const cleanups: (() => Promise<void>)[] = [() => orm.close(true)];
  const closeAll = async (): Promise<void> => {
    for (const f of cleanups.reverse().splice(0)) {
      try {
        await f();
      } catch (e) {
        logger.warn({ err: e }, 'error while closing');
      }
    }
  };
  try {
    const grants = setupGrants(cfg.grants, { orm, nodeId: cfg.id, logger, guard: c.guard });
    await seedOnce(orm, cfg, c, logger);
    const service = new ContributionService({
      orm,
      nodeId: cfg.id,
      guard: grants.guard,
      contributingTlp: cfg.contributingTlp,
      nodeSecret: cfg.secret,
      ...(cfg.indicatorKey !== undefined ? { indicatorKey: cfg.indicatorKey } : {}),
    });
    if (cfg.indicatorKey === undefined) logger.info({ event: 'indicators-unavailable' }, 'no indicator key configured (--indicator-key-file): indicator filters will be refused with INDICATORS_UNAVAILABLE');
    else logger.info({ event: 'indicator-key', keyId: indicatorKeyId(cfg.indicatorKey) }, 'indicator filters are matched under the federation indicator key');
    service.onOutcome = ({ error, ...o }) => {
      if (error !== undefined) logger.error({ event: 'contribution', ...o, err: error }, 'contribution failed');
      else logger.info({ event: 'contribution', ...o }, o.grantPresent ? 'contribution request (grant header present)' : 'contribution request (no grant header)');
    };
    const graphql = await startGraphqlServer({ service, logger, host: cfg.host, port: cfg.port });
    cleanups.push(() => graphql.close());
    const operator = await startOperatorServer({
      nodeId: cfg.id,
      orm,
      token: cfg.operatorToken,
      logger,
      host: cfg.operatorHost,
      port: cfg.operatorPort,
      routes: { '/ledger': async (url) => ({ id: cfg.id, ...(await grants.ledger(url.searchParams.get('period') ?? undefined)) }) },
    });
    cleanups.push(() => operator.close());
    let closing: Promise<void> | undefined;
    return {
      id: cfg.id,
      url: graphql.url,
      operatorUrl: operator.url,
      orm,
      config: cfg,
      logger,
      close: () => (closing ??= closeAll()),
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
