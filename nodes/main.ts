#!/usr/bin/env node
/**
 * Node process entry: parses flags and environment, starts the node, prints one JSON line
 * `{"event":"listening","id","url","operatorUrl"}` on stdout when ready, logs to stderr, and shuts
 * down cleanly on SIGTERM/SIGINT.
 *
 * Flags (environment fallback):
 *   --id <id>                  ACCORD_NODE_ID             node id (required)
 *   --host <host>              ACCORD_NODE_HOST           federated endpoint interface (127.0.0.1)
 *   --port <n>                 ACCORD_NODE_PORT           federated endpoint port (0 = any free)
 *   --operator-host <host>     ACCORD_NODE_OPERATOR_HOST  operator API interface (127.0.0.1)
 *   --operator-port <n>        ACCORD_NODE_OPERATOR_PORT  operator API port (0 = any free)
 *   --db <path|postgres://…>   ACCORD_NODE_DB             database (./data/<id>.sqlite)
 *   --pg-schema <name>         ACCORD_NODE_PG_SCHEMA      PostgreSQL schema for the node's tables
 *   --operator-token <token>   ACCORD_NODE_OPERATOR_TOKEN operator bearer token (generated into ./data/<id>.operator-token)
 *   --secret <secret>          ACCORD_NODE_SECRET         node secret (generated into ./data/<id>.secret)
 *   --indicator-key-file <f>   ACCORD_INDICATOR_KEY_FILE, or ACCORD_INDICATOR_KEY (the key itself)
 *                                                        the federation's indicator key; without it
 *                                                        indicator filters are refused
 *   --data-dir <dir>           ACCORD_NODE_DATA_DIR       folder for defaults (./data)
 *   --seed-file <file>         ACCORD_NODE_SEED_FILE      NodeDataset JSON seeded once into an empty database
 *   --contributing-tlp <list>  ACCORD_NODE_CONTRIBUTING_TLP  comma-separated subset of CLEAR,GREEN,AMBER
 *   --log-level <level>        ACCORD_LOG_LEVEL           pino level (info)
 *   --gateway-jwks <file|url>  ACCORD_NODE_GATEWAY_JWKS   gateway public keys (JWKS file or http(s) URL); without
 *                                                        it every contribution is refused with GRANT_INVALID
 *   --gateway-issuer <iss>     ACCORD_NODE_GATEWAY_ISSUER accepted grant issuer (accord-gateway)
 *   --sharing-rules <file>     ACCORD_NODE_SHARING_RULES  the operator's sharing rules (JSON, see README)
 *   --member-cap-rho <ρ>       ACCORD_NODE_MEMBER_CAP_RHO ρ cap per member per month (1)
 *   --node-cap-rho <ρ>         ACCORD_NODE_NODE_CAP_RHO   ρ cap for the whole node per month (none)
 *   --insecure-no-grants       (no environment fallback)  answer without any grant check (development only)
 */
import { Command, InvalidArgumentError } from 'commander';
import type { TlpLevel } from '../schema/contract/dataset.js';
import { isAccordError } from '../schema/errors.js';
import { createNode, defaultLogger } from './app.js';
import { indicatorKeyFrom, type NodeConfig } from './config.js';

function rho(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a non-negative number');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be an integer from 0 to 65535');
  return n;
}

const env = process.env;
const program = new Command()
  .name('accord-node')
  .description('Run an Accord node over local incident data.')
  .option('--id <id>', 'node id', env.ACCORD_NODE_ID)
  .option('--host <host>', 'federated endpoint interface', env.ACCORD_NODE_HOST)
  .option('--port <n>', 'federated endpoint port', port, env.ACCORD_NODE_PORT ? port(env.ACCORD_NODE_PORT) : undefined)
  .option('--operator-host <host>', 'operator API interface', env.ACCORD_NODE_OPERATOR_HOST)
  .option('--operator-port <n>', 'operator API port', port, env.ACCORD_NODE_OPERATOR_PORT ? port(env.ACCORD_NODE_OPERATOR_PORT) : undefined)
  .option('--db <db>', 'SQLite file or postgres:// URL', env.ACCORD_NODE_DB)
  .option('--pg-schema <name>', 'PostgreSQL schema for the node tables', env.ACCORD_NODE_PG_SCHEMA)
  .option('--operator-token <token>', 'operator API bearer token', env.ACCORD_NODE_OPERATOR_TOKEN)
  .option('--secret <secret>', 'node secret (pseudonyms; indicator hashes without an indicator key)', env.ACCORD_NODE_SECRET)
  .option('--indicator-key-file <file>', "the federation's indicator key, shared with the gateway (env ACCORD_INDICATOR_KEY / ACCORD_INDICATOR_KEY_FILE)")
  .option('--data-dir <dir>', 'folder for the default database and secrets', env.ACCORD_NODE_DATA_DIR)
  .option('--seed-file <file>', 'NodeDataset JSON seeded once into an empty database', env.ACCORD_NODE_SEED_FILE)
  .option('--contributing-tlp <list>', 'comma-separated TLP levels that may contribute', env.ACCORD_NODE_CONTRIBUTING_TLP)
  .option('--log-level <level>', 'pino log level', env.ACCORD_LOG_LEVEL ?? 'info')
  .option('--gateway-jwks <file|url>', 'gateway public keys: JWKS file or http(s) URL', env.ACCORD_NODE_GATEWAY_JWKS || undefined)
  .option('--gateway-issuer <iss>', 'accepted grant issuer', env.ACCORD_NODE_GATEWAY_ISSUER || undefined)
  .option('--sharing-rules <file>', 'operator sharing rules (JSON)', env.ACCORD_NODE_SHARING_RULES || undefined)
  .option('--member-cap-rho <rho>', 'ρ cap per member per month', rho, env.ACCORD_NODE_MEMBER_CAP_RHO ? rho(env.ACCORD_NODE_MEMBER_CAP_RHO) : undefined)
  .option('--node-cap-rho <rho>', 'ρ cap for the whole node per month', rho, env.ACCORD_NODE_NODE_CAP_RHO ? rho(env.ACCORD_NODE_NODE_CAP_RHO) : undefined)
  .option('--insecure-no-grants', 'INSECURE: answer contribution requests without any grant check', false)
  .showHelpAfterError();

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<{
    id?: string;
    host?: string;
    port?: number;
    operatorHost?: string;
    operatorPort?: number;
    db?: string;
    pgSchema?: string;
    operatorToken?: string;
    secret?: string;
    indicatorKeyFile?: string;
    dataDir?: string;
    seedFile?: string;
    contributingTlp?: string;
    logLevel: string;
    gatewayJwks?: string;
    gatewayIssuer?: string;
    sharingRules?: string;
    memberCapRho?: number;
    nodeCapRho?: number;
    insecureNoGrants: boolean;
  }>();
  const id = o.id;
  if (!id) {
    program.error('error: --id (or ACCORD_NODE_ID) is required');
    return;
  }
  const logger = defaultLogger(id, o.logLevel);
  let indicatorKey: string | undefined;
  try {
    indicatorKey = indicatorKeyFrom(o.indicatorKeyFile, env);
  } catch (e) {
    if (isAccordError(e)) logger.fatal({ code: e.code, details: e.details }, e.message);
    else logger.fatal({ err: e }, 'node failed to start');
    logger.flush();
    process.exitCode = 1;
    return;
  }
  const config: NodeConfig = {
    id,
    host: o.host,
    port: o.port,
    operatorHost: o.operatorHost,
    operatorPort: o.operatorPort,
    db: o.db,
    pgSchema: o.pgSchema,
    operatorToken: o.operatorToken,
    secret: o.secret,
    indicatorKey,
    dataDir: o.dataDir,
    seedFile: o.seedFile,
    contributingTlp: o.contributingTlp?.split(',').map((s) => s.trim()).filter(Boolean) as TlpLevel[] | undefined,
    logger,
    gatewayJwks: o.gatewayJwks,
    gatewayIssuer: o.gatewayIssuer,
    sharingRules: o.sharingRules,
    memberCapRho: o.memberCapRho,
    nodeCapRho: o.nodeCapRho,
    grants: o.insecureNoGrants ? 'disabled' : 'required',
  };
  let node: Awaited<ReturnType<typeof createNode>>;
  try {
    node = await createNode(config);
  } catch (e) {
    if (isAccordError(e)) logger.fatal({ code: e.code, details: e.details }, e.message);
    else logger.fatal({ err: e }, 'node failed to start');
    logger.flush();
    process.exitCode = 1;
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
