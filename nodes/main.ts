#!/usr/bin/env node
/**
 * Node process entry: parses flags and environment (`--help`, defined in `cli/server.ts`), starts
 * the node, prints one JSON line `{"event":"listening","id","url","operatorUrl"}` on stdout when
 * ready, logs to stderr, and shuts down cleanly on SIGTERM/SIGINT.
 */
import type { TlpLevel } from '../schema/contract/dataset.js';
import { isAccordError } from '../schema/errors.js';
import { createNode, defaultLogger } from './app.js';
import { nodeServerProgram, type NodeServerOptions } from './cli/server.js';
import { indicatorKeyFrom, type NodeConfig } from './config.js';

async function main(): Promise<void> {
  const program = nodeServerProgram();
  const o = program.parse().opts<NodeServerOptions>();
  const id = o.id;
  if (!id) {
    program.error('error: --id (or ACCORD_NODE_ID) is required');
    return;
  }
  const logger = defaultLogger(id, o.logLevel);
  /** Logs why the node could not start (its catalog code when it has one) and sets exit code 1. */
  const failed = (e: unknown): void => {
    if (isAccordError(e)) logger.fatal({ code: e.code, details: e.details }, e.message);
    else logger.fatal({ err: e }, 'node failed to start');
    logger.flush();
    process.exitCode = 1;
  };
  let indicatorKey: string | undefined;
  try {
    indicatorKey = indicatorKeyFrom(o.indicatorKeyFile, process.env);
  } catch (e) {
    failed(e);
    return;
  }
  const config: NodeConfig = {
    id,
    host: o.host,
    port: o.port,
    operatorHost: o.operatorHost,
    operatorPort: o.operatorPort,
    db: o.db ?? undefined,
    pgSchema: o.pgSchema,
    operatorToken: o.operatorToken ?? undefined,
    secret: o.secret ?? undefined,
    indicatorKey,
    dataDir: o.dataDir,
    seedFile: o.seedFile,
    contributingTlp: o.contributingTlp.split(',').map((s) => s.trim()).filter(Boolean) as TlpLevel[] | undefined,
    logger,
    gatewayJwks: o.gatewayJwks || undefined,
    gatewayIssuer: o.gatewayIssuer || undefined,
    sharingRules: o.sharingRules || undefined,
    memberCapRho: o.memberCapRho,
    nodeCapRho: o.nodeCapRho,
    horizonDays: o.privacyHorizonDays,
    grants: o.insecureNoGrants ? 'disabled' : 'required',
  };
  let node: Awaited<ReturnType<typeof createNode>>;
  try {
    node = await createNode(config);
  } catch (e) {
    failed(e);
    return;
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: 'stopping', signal }, 'shutting down');
    node
      .close()
      .then(() => {
        logger.info({ event: 'stopped' }, 'node stopped');
        logger.flush();
        process.exitCode = 0;
      })
      .catch((e: unknown) => {
        logger.error({ err: e }, 'error during shutdown');
        logger.flush();
        process.exitCode = 1;
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.stdout.write(`${JSON.stringify({ event: 'listening', id: node.id, url: node.url, operatorUrl: node.operatorUrl })}\n`);
  logger.info({ event: 'listening', url: node.url, operatorUrl: node.operatorUrl, db: node.config.db.replace(/\/\/[^@/]*@/, '//***@') }, 'node ready');
}

void main();
