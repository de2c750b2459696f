/**
 * Node configuration: what a node needs to run, its defaults, and the node-local secrets kept
 * under the data folder (node secret, operator token) when none are given.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { TlpLevel } from '../schema/contract/dataset.js';
import { AccordError } from '../schema/errors.js';
import type { ContributionGuard } from './contribution/guard.js';
import { resolveGrantConfig, type GrantConfigInput, type ResolvedGrantConfig } from './grants/config.js';
import { DEFAULT_CONTRIBUTING_TLP, checkContributingTlp } from './contribution/tlp-gate.js';
import type { RegionLookup } from './db/regions.js';

/** Grant fields (`gatewayJwks`, `gatewayIssuer`, `grants`, `sharingRules`, `memberCapRho`, `nodeCapRho`, `horizonDays`): see GrantConfigInput. */
export interface NodeConfig extends GrantConfigInput {
  /** The node's public id (letters, digits, `-`, `_`; at most 64). */
  id: string;
  /** Interface of the federated endpoint (default 127.0.0.1). */
  host?: string;
  /** Port of the federated endpoint (default 0: any free port). */
  port?: number;
  /** Interface of the operator API (default 127.0.0.1). */
  operatorHost?: string;
  /** Port of the operator API (default 0: any free port). */
  operatorPort?: number;
  /** SQLite file path or PostgreSQL URL (default `<dataDir>/<id>.sqlite`). */
  db?: string;
  /** PostgreSQL only: schema for the node's tables. */
  pgSchema?: string;
  /** Bearer token of the operator API (default: generated once, kept in `<dataDir>/<id>.operator-token`). */
  operatorToken?: string;
  /**
   * The node secret: key of organisation pseudonyms and keyed ids, and of indicator hashes when no
   * `indicatorKey` is given (default: generated once, kept in `<dataDir>/<id>.secret`).
   */
  secret?: string;
  /**
   * The federation's indicator key (at least 16 characters), shared with the gateway: indicator
   * values are hashed under it at ingestion, and indicator filters are answered only with it (and
   * only when the stored hashes were made under it). Without it the node refuses indicator filters
   * with INDICATORS_UNAVAILABLE.
   */
  indicatorKey?: string;
  /** Folder for the default database and secrets (default `./data`). */
  dataDir?: string;
  /** A NodeDataset JSON file seeded once when the database is empty. */
  seedFile?: string;
  /** TLP levels that may contribute (default CLEAR, GREEN, AMBER; AMBER+STRICT and RED never). */
  contributingTlp?: readonly TlpLevel[];
  /** Admission check before each contribution (default: from the grant settings; when given, it replaces them). */
  guard?: ContributionGuard;
  /** Country → UN M49 lookup (default: the built-in table). */
  regions?: RegionLookup;
  /** Logger (default: pino to stderr at `logLevel`). */
  logger?: Logger;
  /** pino level for the default logger (default `info`). */
  logLevel?: string;
}

/** A configuration with every default applied and secrets loaded. */
export interface ResolvedNodeConfig {
  id: string;
  host: string;
  port: number;
  operatorHost: string;
  operatorPort: number;
  db: string;
  pgSchema?: string;
  operatorToken: string;
  secret: string;
  /** The federation's indicator key, when configured. */
  indicatorKey?: string;
  dataDir: string;
  seedFile?: string;
  contributingTlp: readonly TlpLevel[];
  /** Grant verification, sharing rules and ledger caps. */
  grants: ResolvedGrantConfig;
}

/** Defaults of the node's own settings (the grant settings have theirs in `grants/config.ts`). */
export const NODE_DEFAULTS = Object.freeze({ host: '127.0.0.1', port: 0, dataDir: './data', logLevel: 'info' });

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** Shortest accepted secret, operator token or indicator key. */
const MIN_KEY_LENGTH = 16;

function invalid(field: string, message: string): AccordError {
  return new AccordError('CONFIG_INVALID', message, { field });
}

function checkPort(field: string, v: number | undefined): number {
  if (v === undefined) return NODE_DEFAULTS.port;
  if (!Number.isInteger(v) || v < 0 || v > 65535) throw invalid(field, `${field} must be an integer from 0 to 65535.`);
  return v;
}

/** Reads a node-local secret file, creating it with 32 random bytes (hex, mode 0600) when missing. */
export function loadOrCreateSecretFile(path: string): string {
  if (existsSync(path)) {
    const value = readFileSync(path, 'utf8').trim();
    if (value.length < 16) throw invalid('secret', 'A secret file is shorter than 16 characters; delete it or write a longer secret.');
    return value;
  }
  const value = randomBytes(32).toString('hex');
  writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
  return value;
}

/**
 * Reads the federation's indicator key from a file (its content, trimmed). Throws
 * AccordError('CONFIG_INVALID', field `indicatorKeyFile`) when the file cannot be read or holds fewer
 * than 16 characters.
 */
export function readIndicatorKeyFile(path: string): string {
  let value: string;
  try {
    value = readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw invalid('indicatorKeyFile', `The indicator key file cannot be read: ${(e as Error).message}`);
  }
  if (value.length < MIN_KEY_LENGTH) throw invalid('indicatorKeyFile', `The indicator key file holds fewer than ${MIN_KEY_LENGTH} characters.`);
  return value;
}

/**
 * The indicator key from the usual sources (as the gateway reads it), first found: a key file named
 * on the command line, the environment's ACCORD_INDICATOR_KEY_FILE (a file), ACCORD_INDICATOR_KEY
 * (the key itself). Undefined when none is given. Throws like {@link readIndicatorKeyFile}.
 */
export function indicatorKeyFrom(file: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const path = file || env.ACCORD_INDICATOR_KEY_FILE;
  if (path) return readIndicatorKeyFile(path);
  const inline = env.ACCORD_INDICATOR_KEY?.trim();
  return inline ? inline : undefined;
}

/**
 * Applies defaults, checks values and loads or creates the secret and operator-token files.
 * Throws AccordError('CONFIG_INVALID') naming the offending field.
 */
export function resolveNodeConfig(c: NodeConfig): ResolvedNodeConfig {
  if (typeof c.id !== 'string' || !ID_RE.test(c.id)) throw invalid('id', 'The node id must be 1–64 letters, digits, "-" or "_", starting with a letter or digit.');
  if (c.operatorToken !== undefined && c.operatorToken.length < 16) throw invalid('operatorToken', 'The operator token must be at least 16 characters.');
  if (c.secret !== undefined && c.secret.length < 16) throw invalid('secret', 'The node secret must be at least 16 characters.');
  if (c.indicatorKey !== undefined && (typeof c.indicatorKey !== 'string' || c.indicatorKey.length < MIN_KEY_LENGTH)) {
    throw invalid('indicatorKey', `The indicator key must be at least ${MIN_KEY_LENGTH} characters.`);
  }
  const port = checkPort('port', c.port);
  const operatorPort = checkPort('operatorPort', c.operatorPort);
  const contributingTlp = checkContributingTlp(c.contributingTlp ?? DEFAULT_CONTRIBUTING_TLP);
  const grants = resolveGrantConfig(c);
  const dataDir = resolve(c.dataDir ?? NODE_DEFAULTS.dataDir);
  const needsDataDir = c.db === undefined || c.secret === undefined || c.operatorToken === undefined;
  if (needsDataDir) mkdirSync(dataDir, { recursive: true });
  return {
    id: c.id,
    host: c.host ?? NODE_DEFAULTS.host,
    port,
    operatorHost: c.operatorHost ?? NODE_DEFAULTS.host,
    operatorPort,
    db: c.db ?? join(dataDir, `${c.id}.sqlite`),
    pgSchema: c.pgSchema,
    operatorToken: c.operatorToken ?? loadOrCreateSecretFile(join(dataDir, `${c.id}.operator-token`)),
    secret: c.secret ?? loadOrCreateSecretFile(join(dataDir, `${c.id}.secret`)),
    ...(c.indicatorKey !== undefined ? { indicatorKey: c.indicatorKey } : {}),
    dataDir,
    seedFile: c.seedFile,
    contributingTlp,
    grants,
  };
}
