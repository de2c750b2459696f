/**
 * A node in-process, built apart from listening: {@link buildNode} opens the database (migrated),
 * loads the optional one-time seed, and builds the federated contribution endpoint and the
 * separate operator API as request listeners without opening a port (tests drive them
 * in-process); {@link createNode} builds and listens. `main.ts` only parses configuration and
 * calls {@link createNode}; tests call it directly on port 0.
 */
import { readFile } from 'node:fs/promises';
import type { RequestListener } from 'node:http';
import type { Logger } from 'pino';
import { serve } from '../runtime/http.js';
import { createLogger } from '../runtime/log.js';
import type { NodeDataset } from '../schema/contract/dataset.js';
import { AccordError } from '../schema/errors.js';
import { resolveNodeConfig, type NodeConfig, type ResolvedNodeConfig } from './config.js';
import { ContributionService } from './contribution/service.js';
import { indicatorKeyId } from './db/indicator-key.js';
import { dialectOf, knexOf, openNodeOrm, type NodeOrm } from './db/orm.js';
import { seedDataset } from './db/seed.js';
import { queryRows } from './db/sql.js';
import { buildGraphqlFront, type GraphqlFront } from './graphql/server.js';
import { buildOperatorFront } from './operator/server.js';
import { setupGrants } from './grants/setup.js';

/** Idle keep-alive sockets of the federated endpoint stay open this long (the gateway reuses them). */
const KEEP_ALIVE_MS = 65_000;

/** A node with everything but its sockets: what {@link createNode} serves. */
export interface BuiltNode {
  id: string;
  orm: NodeOrm;
  config: ResolvedNodeConfig;
  logger: Logger;
  service: ContributionService;
  /** The federated endpoint: Apollo (started) and its request listener. */
  graphql: GraphqlFront;
  /** The operator API's request listener. */
  operator: RequestListener;
  /** Stops Apollo and closes the database. Idempotent. */
  close(): Promise<void>;
}

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

/** The node's logger: JSON lines on stderr under the service name `accord-node`, with the node's id. */
export function defaultLogger(id: string, level = 'info'): Logger {
  return createLogger('accord-node', level, { base: { node: id }, sync: false });
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

/** Runs `cleanups` last to first, logging (not throwing) their failures; the list is emptied. */
function closer(cleanups: (() => Promise<void>)[], logger: Logger): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () =>
    (closing ??= (async () => {
      for (const f of cleanups.reverse().splice(0)) {
        try {
          await f();
        } catch (e) {
          logger.warn({ err: e }, 'error while closing');
        }
      }
    })());
}

/**
 * Builds a node without opening a port. Throws AccordError('CONFIG_INVALID') for a bad
 * configuration or seed file, AccordError('INVALID_PARAMETER') for an invalid seed record, and
 * driver errors when the database cannot be opened; nothing is left open on failure.
 */
export async function buildNode(c: NodeConfig): Promise<BuiltNode> {
  const cfg = resolveNodeConfig(c);
  const logger = c.logger ?? defaultLogger(cfg.id, c.logLevel ?? process.env.ACCORD_LOG_LEVEL ?? 'info');
  const orm = await openNodeOrm({ db: cfg.db, pgSchema: cfg.pgSchema });
  const cleanups: (() => Promise<void>)[] = [() => orm.close(true)];
  const close = closer(cleanups, logger);
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
    const graphql = await buildGraphqlFront({ service, logger });
    cleanups.push(() => graphql.stop());
    const operator = buildOperatorFront({
      nodeId: cfg.id,
      orm,
      token: cfg.operatorToken,
      logger,
      routes: { '/ledger': async () => ({ id: cfg.id, ...(await grants.ledger()) }) },
    });
    return { id: cfg.id, orm, config: cfg, logger, service, graphql, operator, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * Starts a node and resolves once both servers listen. Throws like {@link buildNode}, and the
 * listen error when a port cannot be opened; nothing is left running on failure.
 */
export async function createNode(c: NodeConfig): Promise<RunningNode> {
  const node = await buildNode(c);
  const { config: cfg, logger } = node;
  const cleanups: (() => Promise<void>)[] = [() => node.close()];
  const close = closer(cleanups, logger);
  try {
    const graphql = await serve(node.graphql.listener, cfg.port, cfg.host, KEEP_ALIVE_MS);
    cleanups.push(() => graphql.close());
    const operator = await serve(node.operator, cfg.operatorPort, cfg.operatorHost);
    cleanups.push(() => operator.close());
    return { id: node.id, url: `${graphql.url}/graphql`, operatorUrl: operator.url, orm: node.orm, config: cfg, logger, close };
  } catch (e) {
    await close();
    throw e;
  }
}
