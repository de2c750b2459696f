/**
 * Gateway deployment configuration: defaults, validation and the node list file.
 *
 * Everything here is public deployment policy (privacy defaults, contribution bounds, quorum,
 * timeouts). Nothing is derived from node data.
 */
import { readFileSync } from 'node:fs';
import { AccordError } from '../schema/errors.js';

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
  /** K: nodes one organisation may appear in (multiplies sensitivity). */
  multiplicity: number;
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
  /** Re-check every node's SDL this often (ms); 0 disables the periodic refresh. */
  refreshIntervalMs: number;
  /** Largest accepted node response body, in bytes. */
  maxNodeResponseBytes: number;
  /** pino level for the gateway log (stderr). */
  logLevel: string;
}

export const DEFAULT_CONFIG: Readonly<Omit<GatewayConfig, 'nodes'>> = Object.freeze({
  port: 4000,
  host: '127.0.0.1',
  privacy: Object.freeze({ rho: 0.05, delta: 1e-6, maxPartitions: 4, maxPerPartition: 2, multiplicity: 1 }),
  quorum: 'STRICT' as QuorumMode,
  nodeTimeoutMs: 2_000,
  maxCells: 5_000,
  refreshIntervalMs: 60_000,
  maxNodeResponseBytes: 8 * 1024 * 1024,
  logLevel: 'info',
});

/** A partial configuration as accepted by {@link resolveConfig}; `privacy` may be partial too. */
export type GatewayConfigInput = Partial<Omit<GatewayConfig, 'privacy' | 'nodes'>> & {
  privacy?: Partial<PrivacyDefaults>;
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
    return { id: n.id, name: n.name, kind: n.kind, url: url.toString() };
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
  const cfg: GatewayConfig = {
    ...DEFAULT_CONFIG,
    ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
    nodes,
    privacy,
  } as GatewayConfig;
  positiveInt('port', cfg.port, 0);
  if (cfg.port > 65535) invalid('port must be ≤ 65535.');
  if (!QUORUM_MODES.includes(cfg.quorum)) invalid(`quorum must be one of ${QUORUM_MODES.join(', ')}.`);
  positiveInt('nodeTimeoutMs', cfg.nodeTimeoutMs);
  positiveInt('maxCells', cfg.maxCells);
  positiveInt('refreshIntervalMs', cfg.refreshIntervalMs, 0);
  positiveInt('maxNodeResponseBytes', cfg.maxNodeResponseBytes, 1024);
  return cfg;
}
