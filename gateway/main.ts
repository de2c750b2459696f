/**
 * Gateway CLI.
 *
 *   node dist/gateway/main.js --nodes nodes.json [--port 4000] [--host 127.0.0.1] [--rho 0.05]
 *     [--delta 1e-6] [--quorum STRICT|BEST_EFFORT] [--node-timeout-ms 10000] [--max-cells 5000]
 *     [--max-partitions 4] [--max-per-partition 2] [--refresh-ms 60000] [--log-level info]
 *     [--data-dir ./data] [--members <file>] [--policies <file>] [--budgets <file>]
 *     [--jwks-file <file> | --jwks-url <url>] [--token-issuer <iss>] [--token-audience <aud>]
 *     [--db <sqlite file | postgres://…>] [--pg-schema <name>]
 *     [--signing-key <jwk file>] [--signing-jwks-out <file>] [--gateway-id <id>] [--indicator-key-file <file>]
 *
 * Environment: ACCORD_NODES_FILE, ACCORD_PORT, ACCORD_HOST, ACCORD_RHO, ACCORD_DELTA, ACCORD_QUORUM,
 * ACCORD_NODE_TIMEOUT_MS, ACCORD_LOG_LEVEL, ACCORD_DATA_DIR, ACCORD_DB, ACCORD_PG_SCHEMA,
 * ACCORD_JWKS_FILE, ACCORD_JWKS_URL, ACCORD_MEMBERS_FILE, ACCORD_POLICIES_FILE, ACCORD_BUDGETS_FILE
 * (flags win). Prints one JSON line `{"event":"listening","url":…}` on stdout when ready; logs go to
 * stderr. SIGINT/SIGTERM drain and exit 0; SIGHUP reloads members, policies, budgets and the token
 * JWKS file (a configuration that fails validation is refused and logged; the old one stays). A bad
 * configuration at start exits 2 with the error code on stderr.
 */
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { AccordError, isAccordError } from '../schema/errors.js';
import { createGateway, type CreateGatewayOptions } from './app.js';
import { DEFAULT_CONFIG, QUORUM_MODES, type AccessConfig, type QuorumMode } from './config.js';
import { createLogger } from './log.js';

const env = process.env;
const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));

const program = new Command()
  .name('accord-gateway')
  .description('Accord federated gateway: noised cross-border aggregates over member nodes.')
  .option('--port <port>', 'TCP port (0 = any free port)', env.ACCORD_PORT ?? String(DEFAULT_CONFIG.port))
  .option('--host <host>', 'interface to bind', env.ACCORD_HOST ?? DEFAULT_CONFIG.host)
  .option('--nodes <file>', 'JSON file listing the member nodes [{ id, name, kind, url }]', env.ACCORD_NODES_FILE)
  .option('--rho <rho>', 'ρ (zCDP) per query', env.ACCORD_RHO)
  .option('--delta <delta>', 'δ for the (ε, δ) statement', env.ACCORD_DELTA)
  .addOption(new Option('--quorum <mode>', 'default quorum').choices(QUORUM_MODES as string[]).default(env.ACCORD_QUORUM ?? DEFAULT_CONFIG.quorum))
  .option('--node-timeout-ms <ms>', 'per-node deadline', env.ACCORD_NODE_TIMEOUT_MS)
  .option('--max-cells <n>', 'largest number of cells an answer may release')
  .option('--max-partitions <n>', 'L0 contribution bound per organisation')
  .option('--max-per-partition <n>', 'L∞ contribution bound per organisation and group (INCIDENTS)')
  .option('--refresh-ms <ms>', 'node SDL re-check interval (0 = off)')
  .option('--log-level <level>', 'pino level', env.ACCORD_LOG_LEVEL ?? DEFAULT_CONFIG.logLevel)
  .option('--data-dir <dir>', 'folder of the embedded defaults (keys, database, members, policies)', env.ACCORD_DATA_DIR ?? './data')
  .option('--members <file>', 'members file (default <data-dir>/members.json)', env.ACCORD_MEMBERS_FILE)
  .option('--policies <file>', 'Cedar access policies (default <data-dir>/policies.cedar)', env.ACCORD_POLICIES_FILE)
  .option('--budgets <file>', 'budgets file: node caps and member allocations (default: built-in)', env.ACCORD_BUDGETS_FILE)
  .option('--jwks-file <file>', 'member-token keys, a local JWKS (default <data-dir>/dev-jwks.json)', env.ACCORD_JWKS_FILE)
  .option('--jwks-url <url>', 'member-token keys, a JWKS URL (instead of --jwks-file)', env.ACCORD_JWKS_URL)
  .option('--token-issuer <iss>', 'required iss of member tokens', env.ACCORD_TOKEN_ISSUER)
  .option('--token-audience <aud>', 'required aud of member tokens', env.ACCORD_TOKEN_AUDIENCE)
  .option('--db <db>', 'ledger database: SQLite file or postgres:// URL (default <data-dir>/gateway.sqlite)', env.ACCORD_DB)
  .option('--pg-schema <name>', 'PostgreSQL schema for the gateway tables', env.ACCORD_PG_SCHEMA)
  .option('--signing-key <file>', 'grant signing key, Ed25519 private JWK (generated when absent; default <data-dir>/gateway-signing.jwk)')
  .option('--signing-jwks-out <file>', 'write the grant keys (public JWKS) here for node operators (default <data-dir>/gateway.jwks.json)')
  .option('--gateway-id <id>', 'iss of the grants this gateway signs')
  .option('--indicator-key-file <file>', 'the federation indicator key shared with the nodes (indicatorPrevalence); env ACCORD_INDICATOR_KEY gives it inline', env.ACCORD_INDICATOR_KEY_FILE);

/** The trimmed content of a key file; CONFIG_INVALID when it cannot be read. */
function readKeyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new AccordError('CONFIG_INVALID', `Cannot read the indicator key file ${file}: ${(e as Error).message}`);
  }
}

async function main(): Promise<void> {
  const o = program.parse().opts<Record<string, string | undefined>>();
  const logger = createLogger(o.logLevel ?? 'info');
  if (!o.nodes) logger.warn('no --nodes file given (ACCORD_NODES_FILE unset): the federation has no members');
  const options: CreateGatewayOptions = {
    port: num(o.port),
    host: o.host,
    quorum: o.quorum as QuorumMode,
    nodeTimeoutMs: num(o.nodeTimeoutMs),
    maxCells: num(o.maxCells),
    refreshIntervalMs: num(o.refreshMs),
    logLevel: o.logLevel,
    privacy: Object.fromEntries(
      Object.entries({ rho: num(o.rho), delta: num(o.delta), maxPartitions: num(o.maxPartitions), maxPerPartition: num(o.maxPerPartition) }).filter(
        ([, v]) => v !== undefined,
      ),
    ),
    logger,
    access: Object.fromEntries(
      Object.entries({
        dataDir: o.dataDir,
        members: o.members,
        policies: o.policies,
        budgets: o.budgets,
        jwksFile: o.jwksFile,
        jwksUrl: o.jwksUrl,
        tokenIssuer: o.tokenIssuer,
        tokenAudience: o.tokenAudience,
        db: o.db,
        pgSchema: o.pgSchema,
        signingKey: o.signingKey,
        signingJwksOut: o.signingJwksOut,
        gatewayId: o.gatewayId,
      }).filter(([, v]) => v !== undefined),
    ) as Partial<AccessConfig>,
  };
  if (o.nodes) options.nodes = o.nodes;
  const indicatorKey = o.indicatorKeyFile ? readKeyFile(o.indicatorKeyFile) : env.ACCORD_INDICATOR_KEY?.trim();
  if (indicatorKey !== undefined) options.indicatorKey = indicatorKey;
  const gateway = await createGateway(options);
  process.stdout.write(`${JSON.stringify({ event: 'listening', url: gateway.url })}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    gateway.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGHUP', () => {
    const r = gateway.reloadPolicies();
    process.stdout.write(`${JSON.stringify({ event: 'reload', ok: r.ok, version: r.version, errors: r.errors })}\n`);
  });
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err) => {
  if (isAccordError(err)) {
    process.stderr.write(`${JSON.stringify({ level: 'fatal', code: err.code, msg: err.message })}\n`);
    process.exit(2);
  }
  process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: String(err?.stack ?? err) })}\n`);
  process.exit(1);
});
