/**
 * Gateway deployment configuration: defaults, validation and the node list file.
 *
 * Everything here is public deployment policy (privacy defaults, contribution bounds, quorum,
 * timeouts). Nothing is derived from node data.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { JSONWebKeySet } from 'jose';
import { AccordError } from '../schema/errors.js';
import { isIsoDate } from '../schema/contract/calendar.js';
import { countryByAlpha2, isRegion } from '../schema/reference/index.js';
import { DEFAULT_AUDIENCE, DEV_ISSUER } from './auth/dev-issuer.js';
import type { BudgetConfigInput } from './ledger/budgets.js';
import type { Member } from './members.js';

/** How many admitted nodes must answer a query. */
export type QuorumMode = 'STRICT' | 'BEST_EFFORT';
export const QUORUM_MODES: readonly QuorumMode[] = ['STRICT', 'BEST_EFFORT'];

/** One node as registered by platform staff (the nodes file holds an array of these). */
export interface NodeConfig {
  /** Public, stable node id (what the node echoes in its contributions), e.g. `cert-fr`. */
  id: string;
  /** Display name, e.g. `CERT-FR`. */
  name: string;
  /** Free-form category: `national-cert`, `sector-isac`, … */
  kind: string;
  /** The node's federated GraphQL endpoint (absolute http(s) URL). */
  url: string;
  /** ISO 3166-1 alpha-2 country of a national node (policies may use it). */
  country?: string;
  /** UN M49 region of the node (default: the country's). */
  region?: string;
}

/**
 * Who may ask what (docs/access.md): member tokens, members and policies, budgets and the ledger
 * database, and the key that signs grants to nodes.
 */
export interface AccessConfig {
  /** Folder for the embedded defaults (database, keys). */
  dataDir: string;
  /** Member-token keys: an inline JWKS, a JWKS file, or a JWKS URL (one of them). */
  jwks?: JSONWebKeySet;
  jwksFile?: string;
  jwksUrl?: string;
  /** Required `iss` and `aud` of member tokens. */
  tokenIssuer: string;
  tokenAudience: string;
  /** Accepted clock skew for token times, seconds. */
  clockToleranceSec: number;
  /** Longest a member token may still be valid for (`exp` − now), seconds: longer-lived tokens are refused. */
  maxTokenLifetimeSec: number;
  /** Members (inline) or a members file. */
  members: Member[] | string;
  /** Cedar policies (inline `{ text }`) or a `.cedar` file. */
  policies: { text: string } | string;
  /** Budgets (inline) or a budgets file; absent: built-in defaults. */
  budgets?: BudgetConfigInput | string;
  /** Ledger database: SQLite file or `postgres://` URL. */
  db: string;
  /** PostgreSQL schema for the gateway's tables. */
  pgSchema?: string;
  /** The grant signing key (Ed25519 private JWK file; generated when absent). */
  signingKey: string;
  /** Where to write the grant keys' public JWKS for node operators (absent: not written). */
  signingJwksOut?: string;
  /** `iss` of every grant. */
  gatewayId: string;
}

/** Deployment-wide privacy defaults applied to every analyst query (DESIGN §3). */
export interface PrivacyDefaults {
  /** ρ (zCDP) charged per query; noise is calibrated to it. */
  rho: number;
  /** δ used to report the (ε, δ) equivalent of the charge. */
  delta: number;
  /** L0 bound: groups one organisation may contribute to. */
  maxPartitions: number;
  /** L∞ bound: rows one organisation may contribute per group (INCIDENTS; ORGANISATIONS always uses 1). */
  maxPerPartition: number;
  /** K: nodes one organisation may appear in (multiplies sensitivity; K > 1 enables the federation-wide ledgers). */
  multiplicity: number;
  /** The privacy horizon in days: every cap applies to the charges of this trailing window. */
  horizonDays: number;
}

export interface GatewayConfig {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Interface to bind. */
  host: string;
  /** Registered nodes (from the nodes file or given inline). */
  nodes: NodeConfig[];
  privacy: PrivacyDefaults;
  /** Quorum used when a query does not name one. */
  quorum: QuorumMode;
  /** Per-node deadline for one request (contribution or SDL check), in ms. */
  nodeTimeoutMs: number;
  /** Largest number of cells a query may release (public-domain cross product). */
  maxCells: number;
  /**
   * First day of the federation's data, `YYYY-MM-DD`: with today (UTC) it bounds the public horizon
   * every question's window is clamped to (docs/queries.md, "The same question"). Public policy,
   * never read from a node.
   */
  dataStart: string;
  /** Re-check every node's SDL this often (ms); 0 disables the periodic refresh. */
  refreshIntervalMs: number;
  /**
   * First cooldown of a node's open circuit after a failed contact, ms (it doubles per consecutive
   * failure, up to a minute); while open the node is excluded before anything is reserved.
   */
  circuitCooldownMs: number;
  /**
   * Largest ρ one request may reserve over all its questions (aliases included); a request whose
   * fresh questions cost more is refused whole with REQUEST_CHARGE_EXCEEDED, nothing reserved.
   * Default: {@link REQUEST_RHO_QUESTIONS} questions at the deployment's ρ.
   */
  maxRequestRho: number;
  /** Largest accepted node response body, in bytes. */
  maxNodeResponseBytes: number;
  /** pino level for the gateway log (stderr). */
  logLevel: string;
  /**
   * The federation indicator key (≥ 16 characters), shared with the nodes that answer indicator
   * questions: the gateway hashes an analyst's indicator under it. Absent: indicatorPrevalence is
   * refused with INDICATORS_UNAVAILABLE.
   */
  indicatorKey?: string;
  access: AccessConfig;
}

/** Access configuration defaults under `dataDir` (the embedded deployment `npm start` prepares). */
export function defaultAccess(dataDir = './data'): AccessConfig {
  const dir = resolve(dataDir);
  return {
    dataDir: dir,
    jwksFile: join(dir, 'dev-jwks.json'),
    tokenIssuer: DEV_ISSUER,
    tokenAudience: DEFAULT_AUDIENCE,
    clockToleranceSec: 30,
    maxTokenLifetimeSec: 24 * 3600,
    members: join(dir, 'members.json'),
    policies: join(dir, 'policies.cedar'),
    db: join(dir, 'gateway.sqlite'),
    signingKey: join(dir, 'gateway-signing.jwk'),
    signingJwksOut: join(dir, 'gateway.jwks.json'),
    gatewayId: 'accord-gateway',
  };
}

/** How many fresh questions one request may reserve by default (the per-request cap is this many times ρ). */
export const REQUEST_RHO_QUESTIONS = 10;

export const DEFAULT_CONFIG: Readonly<Omit<GatewayConfig, 'nodes' | 'access' | 'maxRequestRho'>> = Object.freeze({
  port: 4000,
  host: '127.0.0.1',
  privacy: Object.freeze({ rho: 0.05, delta: 1e-6, maxPartitions: 4, maxPerPartition: 2, multiplicity: 1, horizonDays: 365 }),
  quorum: 'STRICT' as QuorumMode,
  nodeTimeoutMs: 10_000,
  maxCells: 5_000,
  // 2000-01-01: the CVE list began in September 1999, so no incident record naming a CVE is older;
  // earlier than any member's sharing history, so clamping to it drops no record in practice.
  dataStart: '2000-01-01',
  refreshIntervalMs: 60_000,
  circuitCooldownMs: 5_000,
  maxNodeResponseBytes: 8 * 1024 * 1024,
  logLevel: 'info',
});

/** A partial configuration as accepted by {@link resolveConfig}; `privacy` may be partial too. */
export type GatewayConfigInput = Partial<Omit<GatewayConfig, 'privacy' | 'nodes' | 'access'>> & {
  privacy?: Partial<PrivacyDefaults>;
  /** Access configuration; missing fields default under `access.dataDir` (./data). */
  access?: Partial<AccessConfig>;
  /** Inline node list, or the path of a nodes file (JSON array of {@link NodeConfig}). */
  nodes?: NodeConfig[] | string;
};

const NODE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function invalid(message: string): never {
  throw new AccordError('CONFIG_INVALID', message);
}

function positiveInt(name: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) invalid(`${name} must be an integer ≥ ${min}.`);
  return v;
}

/**
 * Checks a node list: every entry has a unique well-formed id, a name, a kind and an http(s) URL.
 * Throws AccordError('CONFIG_INVALID') naming the offending entry.
 */
export function validateNodes(value: unknown): NodeConfig[] {
  if (!Array.isArray(value)) invalid('The nodes list must be a JSON array of { id, name, kind, url }.');
  const seen = new Set<string>();
  return value.map((raw, i) => {
    if (typeof raw !== 'object' || raw === null) invalid(`Node entry ${i} is not an object.`);
    const n = raw as Record<string, unknown>;
    if (typeof n.id !== 'string' || !NODE_ID_RE.test(n.id)) invalid(`Node entry ${i}: id must match ${NODE_ID_RE.source}.`);
    if (seen.has(n.id)) invalid(`Node id "${n.id}" is registered twice.`);
    seen.add(n.id);
    if (typeof n.name !== 'string' || n.name.trim() === '') invalid(`Node "${n.id}": name must be a non-empty string.`);
    if (typeof n.kind !== 'string' || n.kind.trim() === '') invalid(`Node "${n.id}": kind must be a non-empty string (e.g. national-cert).`);
    let url: URL;
    try {
      url = new URL(String(n.url));
    } catch {
      invalid(`Node "${n.id}": url must be an absolute http(s) URL.`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') invalid(`Node "${n.id}": url must use http or https.`);
    const node: NodeConfig = { id: n.id, name: n.name, kind: n.kind, url: url.toString() };
    if (n.country !== undefined) {
      const c = typeof n.country === 'string' ? countryByAlpha2(n.country) : undefined;
      if (!c) invalid(`Node "${n.id}": country must be an ISO 3166-1 alpha-2 code.`);
      node.country = c.alpha2;
      node.region = c.region;
    }
    if (n.region !== undefined) {
      if (typeof n.region !== 'string' || !isRegion(n.region)) invalid(`Node "${n.id}": region must be a UN M49 region name.`);
      node.region = n.region;
    }
    return node;
  });
}

/**
 * Reads and validates a nodes file (a JSON array of `{ id, name, kind, url }`).
 * Throws AccordError('CONFIG_INVALID') when the file is missing, not JSON, or malformed.
 */
export function loadNodesFile(path: string): NodeConfig[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    invalid(`Cannot read the nodes file "${path}"; pass --nodes <file> or set ACCORD_NODES_FILE.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    invalid(`The nodes file "${path}" is not valid JSON.`);
  }
  return validateNodes(parsed);
}

/**
 * Fills defaults and validates a configuration. Privacy parameters are range-checked here only
 * for shape (the privacy core validates ρ and δ again when it builds the mechanism).
 * Throws AccordError('CONFIG_INVALID').
 */
export function resolveConfig(input: GatewayConfigInput = {}): GatewayConfig {
  const nodes =
    input.nodes === undefined ? [] : typeof input.nodes === 'string' ? loadNodesFile(input.nodes) : validateNodes(input.nodes);
  const privacy: PrivacyDefaults = { ...DEFAULT_CONFIG.privacy, ...(input.privacy ?? {}) };
  for (const k of ['rho', 'delta'] as const) {
    if (typeof privacy[k] !== 'number' || !Number.isFinite(privacy[k]) || privacy[k] <= 0) invalid(`privacy.${k} must be a positive number.`);
  }
  positiveInt('privacy.maxPartitions', privacy.maxPartitions);
  positiveInt('privacy.maxPerPartition', privacy.maxPerPartition);
  positiveInt('privacy.multiplicity', privacy.multiplicity);
  positiveInt('privacy.horizonDays', privacy.horizonDays);
  const access = resolveAccess(input.access);
  const cfg: GatewayConfig = {
    ...DEFAULT_CONFIG,
    ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
    nodes,
    privacy,
    access,
    maxRequestRho: input.maxRequestRho ?? REQUEST_RHO_QUESTIONS * privacy.rho,
  } as GatewayConfig;
  positiveInt('port', cfg.port, 0);
  if (cfg.port > 65535) invalid('port must be ≤ 65535.');
  if (!QUORUM_MODES.includes(cfg.quorum)) invalid(`quorum must be one of ${QUORUM_MODES.join(', ')}.`);
  positiveInt('nodeTimeoutMs', cfg.nodeTimeoutMs);
  positiveInt('maxCells', cfg.maxCells);
  if (!isIsoDate(cfg.dataStart) || cfg.dataStart > new Date().toISOString().slice(0, 10)) invalid('dataStart must be a date written YYYY-MM-DD, not after today.');
  if (cfg.indicatorKey !== undefined && (typeof cfg.indicatorKey !== 'string' || cfg.indicatorKey.length < 16)) invalid('The indicator key must be at least 16 characters.');
  positiveInt('refreshIntervalMs', cfg.refreshIntervalMs, 0);
  positiveInt('circuitCooldownMs', cfg.circuitCooldownMs, 0);
  if (typeof cfg.maxRequestRho !== 'number' || !Number.isFinite(cfg.maxRequestRho) || cfg.maxRequestRho < cfg.privacy.rho) {
    invalid('maxRequestRho must be a number at least the ρ of one question.');
  }
  positiveInt('maxNodeResponseBytes', cfg.maxNodeResponseBytes, 1024);
  return cfg;
}

/** Fills access defaults under `dataDir`. Throws AccordError('CONFIG_INVALID') for conflicting key sources. */
export function resolveAccess(input: Partial<AccessConfig> = {}): AccessConfig {
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<AccessConfig>;
  const base = defaultAccess(defined.dataDir);
  const sources = [defined.jwks, defined.jwksFile, defined.jwksUrl].filter((v) => v !== undefined).length;
  if (sources > 1) invalid('Give one source of member-token keys: jwks, jwksFile or jwksUrl.');
  if (sources === 1) delete base.jwksFile;
  const access: AccessConfig = { ...base, ...defined };
  if (typeof access.tokenIssuer !== 'string' || access.tokenIssuer === '') invalid('The token issuer must be a non-empty string.');
  if (typeof access.tokenAudience !== 'string' || access.tokenAudience === '') invalid('The token audience must be a non-empty string.');
  if (!NODE_ID_RE.test(access.gatewayId)) invalid(`The gateway id must match ${NODE_ID_RE.source}.`);
  positiveInt('clockToleranceSec', access.clockToleranceSec, 0);
  if (access.clockToleranceSec > 300) invalid('clockToleranceSec must be ≤ 300.');
  positiveInt('maxTokenLifetimeSec', access.maxTokenLifetimeSec);
  return access;
}
