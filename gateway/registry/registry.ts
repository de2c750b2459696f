/**
 * The node registry: which nodes belong to the federation and whether each may be asked.
 *
 * Nodes come from configuration. Admission checks a node's published SDL: the canonical hash of
 * `{ _service { sdl } }` must equal {@link contributionSdlHash}. A node that drifts is refused
 * (`REFUSED_SDL_DRIFT`, logged with code NODE_SDL_DRIFT) and never asked until a later check finds
 * it conforming again. A node that cannot be reached stays a member (`UNREACHABLE` or `PENDING`).
 *
 * A circuit breaker keeps queries from paying for nodes known to be down: a failed contact (down,
 * timed out, no SDL) opens the node's circuit for a cooldown (doubling with each consecutive
 * failure, up to a ceiling). While it is open the node counts as down — queries exclude it before
 * anything is reserved. Once the cooldown has passed the circuit is half-open: the next query runs
 * one uncharged probe (the SDL check) and asks the node only if the probe succeeds. A successful
 * contact closes the circuit. Availability is not private: it depends on the node, not on data.
 */
import type { Logger } from 'pino';
import { contributionSdlHash, sdlHash } from '../../schema/contract/index.js';
import type { NodeConfig } from '../config.js';
import { NodeRequestError, type NodeClient } from '../net/node-client.js';

/**
 * - `PENDING`: registered, not checked yet.
 * - `ACTIVE`: SDL verified and the last contact succeeded.
 * - `UNREACHABLE`: the last contact failed (down, timed out, or answered garbage); still a member.
 * - `REFUSED_SDL_DRIFT`: publishes a contribution SDL other than the contract; never asked.
 */
export type NodeStatus = 'PENDING' | 'ACTIVE' | 'UNREACHABLE' | 'REFUSED_SDL_DRIFT';
export const NODE_STATUSES: readonly NodeStatus[] = ['PENDING', 'ACTIVE', 'UNREACHABLE', 'REFUSED_SDL_DRIFT'];

/** A read-only view of one registered node. */
export interface NodeSnapshot extends NodeConfig {
  readonly status: NodeStatus;
  /** Hash of the SDL the node last served (null until it served one). */
  readonly sdlHash: string | null;
  /** True once the node's SDL matched the contract (stays true until a check finds drift). */
  readonly verified: boolean;
  /** Last successful contact. */
  readonly lastSeen: Date | null;
}

interface NodeState extends NodeConfig {
  status: NodeStatus;
  sdlHash: string | null;
  verified: boolean;
  lastSeen: Date | null;
  inflight: Promise<NodeStatus> | null;
  /** Consecutive failed contacts. */
  failures: number;
  /** While the circuit is open: when it becomes half-open (ms since the epoch); null when closed. */
  openUntil: number | null;
}

/** Which of some nodes may be asked now. */
export interface Availability {
  up: string[];
  down: string[];
}

export interface RegistryOptions {
  client: NodeClient;
  /** Deadline for one SDL check, ms. */
  timeoutMs: number;
  logger: Logger;
  /** The contract hash a node must match (default: the contribution contract's). */
  expectedSdlHash?: string;
  /** First cooldown of an open circuit, ms (default 5,000); it doubles per consecutive failure. */
  circuitCooldownMs?: number;
  /** Longest cooldown, ms (default 60,000). */
  circuitMaxCooldownMs?: number;
  /** Clock, ms since the epoch (tests). */
  now?: () => number;
}

const SERVICE_QUERY = JSON.stringify({ query: '{ _service { sdl } }' });

export class NodeRegistry {
  private readonly nodes = new Map<string, NodeState>();
  private readonly expected: string;

  constructor(
    configs: readonly NodeConfig[],
    private readonly options: RegistryOptions,
  ) {
    this.expected = options.expectedSdlHash ?? contributionSdlHash;
    for (const c of configs) {
      this.nodes.set(c.id, { ...c, status: 'PENDING', sdlHash: null, verified: false, lastSeen: null, inflight: null, failures: 0, openUntil: null });
    }
  }

  /** Every registered node, in registration order. */
  list(): NodeSnapshot[] {
    return [...this.nodes.values()].map(snapshot);
  }

  /** One node, or undefined for an unknown id. */
  get(id: string): NodeSnapshot | undefined {
    const s = this.nodes.get(id);
    return s && snapshot(s);
  }

  /** The members a query must ask: every registered node that is not refused. */
  admitted(): NodeSnapshot[] {
    return this.list().filter((n) => n.status !== 'REFUSED_SDL_DRIFT');
  }

  /** Re-checks every node's SDL in parallel (refused nodes too). Never throws. */
  async refresh(): Promise<NodeSnapshot[]> {
    await Promise.all([...this.nodes.keys()].map((id) => this.check(id)));
    return this.list();
  }

  /**
   * Fetches the node's `_service { sdl }` and updates its status. Concurrent calls for the same
   * node share one request. Resolves to the new status; never throws.
   */
  check(id: string): Promise<NodeStatus> {
    const s = this.nodes.get(id);
    if (!s) return Promise.resolve('UNREACHABLE');
    s.inflight ??= this.runCheck(s).finally(() => {
      s.inflight = null;
    });
    return s.inflight;
  }

  /**
   * True when the node may be asked now: verified already, or verified by an inline check.
   * A drifted node is refused by the check; an unreachable one stays a member.
   */
  async ensureVerified(id: string): Promise<boolean> {
    const s = this.nodes.get(id);
    if (!s || s.status === 'REFUSED_SDL_DRIFT') return false;
    if (s.verified) return true;
    await this.check(id);
    return s.verified && (s.status as NodeStatus) !== 'REFUSED_SDL_DRIFT';
  }

  /** Records a successful contact (the node answered a request); closes its circuit. */
  markSeen(id: string): void {
    const s = this.nodes.get(id);
    if (!s) return;
    s.lastSeen = new Date();
    s.failures = 0;
    s.openUntil = null;
    if (s.verified && s.status !== 'REFUSED_SDL_DRIFT') s.status = 'ACTIVE';
  }

  /** Records a failed contact and opens the node's circuit; the node stays a member. */
  markUnreachable(id: string): void {
    const s = this.nodes.get(id);
    if (s) this.fail(s);
  }

  /**
   * Splits `ids` into the nodes a query may ask now and those known to be down (an open circuit,
   * or a half-open one whose probe failed), in the given order. Runs at most one probe per
   * half-open node (concurrent callers share it); never throws. A refused or unknown node is down.
   */
  async availability(ids: readonly string[]): Promise<Availability> {
    const now = this.now();
    const up = await Promise.all(
      ids.map(async (id) => {
        const s = this.nodes.get(id);
        if (!s || s.status === 'REFUSED_SDL_DRIFT') return false;
        if (s.openUntil === null) return true;
        if (now < s.openUntil) return false;
        await this.check(id); // half-open: one uncharged probe
        return s.openUntil === null && s.verified && (s.status as NodeStatus) !== 'REFUSED_SDL_DRIFT';
      }),
    );
    return { up: ids.filter((_, i) => up[i]), down: ids.filter((_, i) => !up[i]) };
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private fail(s: NodeState): void {
    if (s.status === 'REFUSED_SDL_DRIFT') return;
    s.status = 'UNREACHABLE';
    s.failures++;
    const first = this.options.circuitCooldownMs ?? 5_000;
    const cooldown = Math.min(first * 2 ** Math.min(s.failures - 1, 20), this.options.circuitMaxCooldownMs ?? 60_000);
    s.openUntil = this.now() + cooldown;
  }

  private async runCheck(s: NodeState): Promise<NodeStatus> {
    const log = this.options.logger;
    let sdl: unknown;
    try {
      const res = await this.options.client.postJson(s.url, SERVICE_QUERY, this.options.timeoutMs);
      sdl = (res.body as { data?: { _service?: { sdl?: unknown } } } | null)?.data?._service?.sdl;
      if (typeof sdl !== 'string') {
        this.fail(s);
        log.warn({ node: s.id, httpStatus: res.status }, 'node answered the SDL check without an SDL; kept as unreachable');
        return s.status;
      }
    } catch (e) {
      this.fail(s);
      const reason = e instanceof NodeRequestError ? e.reason : 'ERROR';
      log.warn({ node: s.id, reason, err: (e as Error).message }, 'node unreachable at SDL check');
      return s.status;
    }
    let hash: string | null;
    try {
      hash = sdlHash(sdl);
    } catch {
      hash = null;
    }
    s.sdlHash = hash;
    s.lastSeen = new Date();
    if (hash !== this.expected) {
      const was = s.status;
      s.status = 'REFUSED_SDL_DRIFT';
      s.verified = false;
      log.error(
        { code: 'NODE_SDL_DRIFT', node: s.id, expected: this.expected, got: hash, previous: was },
        `node ${s.id} refused: its contribution SDL differs from the contract; it will not be asked until it publishes the contract SDL`,
      );
    } else {
      if (s.status === 'REFUSED_SDL_DRIFT') log.info({ node: s.id }, 'node publishes the contract SDL again; admitted');
      s.status = 'ACTIVE';
      s.verified = true;
      s.failures = 0;
      s.openUntil = null;
    }
    return s.status;
  }
}

function snapshot(s: NodeState): NodeSnapshot {
  return Object.freeze({
    id: s.id,
    name: s.name,
    kind: s.kind,
    url: s.url,
    status: s.status,
    sdlHash: s.sdlHash,
    verified: s.verified,
    lastSeen: s.lastSeen,
  });
}
