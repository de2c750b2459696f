/**
 * Gateway process entry: flags and environment (`accord-gateway --help`, defined in `cli.ts`) →
 * createGateway. Prints one JSON line `{"event":"listening","url":…}` on stdout when ready; logs go
 * to stderr. SIGINT/SIGTERM drain and exit 0; SIGHUP reloads members, policies, budgets and the
 * token JWKS file (a configuration that fails validation is refused and logged; the old one stays).
 * A bad configuration at start exits 2 with the error code on stderr.
 */
import { readFileSync } from 'node:fs';
import { AccordError, isAccordError } from '../schema/errors.js';
import { createGateway, type CreateGatewayOptions } from './app.js';
import { gatewayProgram } from './cli.js';
import { type AccessConfig, type QuorumMode } from './config.js';
import { createLogger } from './log.js';

/** An option's number; undefined when the option is unset (null) or empty. */
const num = (v: string | number | null | undefined) => (v === undefined || v === null || v === '' ? undefined : Number(v));
/** An object without its unset (null or undefined) entries. */
const given = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));

/** The trimmed content of a key file; CONFIG_INVALID when it cannot be read. */
function readKeyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new AccordError('CONFIG_INVALID', `Cannot read the indicator key file ${file}: ${(e as Error).message}`);
  }
}

async function main(): Promise<void> {
  const o = gatewayProgram().parse().opts<Record<string, string | number | null | undefined>>();
  const text = (v: string | number | null | undefined) => (v === undefined || v === null ? undefined : String(v));
  const logger = createLogger(text(o.logLevel) ?? 'info');
  if (!o.nodes) logger.warn('no --nodes file given (ACCORD_NODES_FILE unset): the federation has no members');
  const options: CreateGatewayOptions = {
    port: num(o.port),
    host: text(o.host),
    quorum: o.quorum as QuorumMode,
    nodeTimeoutMs: num(o.nodeTimeoutMs),
    maxCells: num(o.maxCells),
    dataStart: text(o.dataStart),
    refreshIntervalMs: num(o.refreshMs),
    circuitCooldownMs: num(o.circuitCooldownMs),
    maxRequestRho: num(o.maxRequestRho),
    logLevel: text(o.logLevel),
    privacy: given({
      rho: num(o.rho),
      delta: num(o.delta),
      maxPartitions: num(o.maxPartitions),
      maxPerPartition: num(o.maxPerPartition),
      multiplicity: num(o.organisationMultiplicity),
      horizonDays: num(o.privacyHorizonDays),
    }),
    logger,
    access: given({
      dataDir: o.dataDir,
      members: o.members,
      policies: o.policies,
      budgets: o.budgets,
      jwksFile: o.jwksFile,
      jwksUrl: o.jwksUrl,
      tokenIssuer: o.tokenIssuer,
      tokenAudience: o.tokenAudience,
      maxTokenLifetimeSec: num(o.maxTokenLifetimeSec),
      db: o.db,
      pgSchema: o.pgSchema,
      signingKey: o.signingKey,
      signingJwksOut: o.signingJwksOut,
      gatewayId: o.gatewayId,
    }) as Partial<AccessConfig>,
  };
  if (o.nodes) options.nodes = String(o.nodes);
  const indicatorKey = o.indicatorKeyFile ? readKeyFile(String(o.indicatorKeyFile)) : process.env.ACCORD_INDICATOR_KEY?.trim();
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
