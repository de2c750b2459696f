/**
 * Scatter over HTTP: one contribution request per admitted node, all in parallel, each with its
 * own deadline. Outcomes are classified for coverage; nothing here validates a contribution's
 * numbers (that is the gather step's job).
 */
import type { Logger } from 'pino';
import { CONTRIBUTION_OPERATION, type ContributionRequest } from '../../schema/contract/index.js';
import { ERROR_CATALOG } from '../../schema/errors.js';
import { NodeRequestError, type NodeClient } from '../net/node-client.js';
import type { Availability, NodeOutcome, Scatter } from '../aggregate/ports.js';
import type { GrantContext, NodeHeaders } from '../grants/grant.js';
import type { NodeRegistry } from '../registry/index.js';

export interface HttpScatterOptions {
  registry: NodeRegistry;
  client: NodeClient;
  /** Deadline per node for the whole exchange (an inline SDL check included), ms. */
  timeoutMs: number;
  logger: Logger;
  /**
   * Each node's request headers (the signed grant, `grantHeaders`). May throw an AccordError to stop
   * the whole query before anything is sent.
   */
  headersFor?: NodeHeaders;
}

type Failure = Extract<NodeOutcome, { ok: false }>;

export class HttpScatter implements Scatter {
  constructor(private readonly options: HttpScatterOptions) {}

  admittedNodes(): string[] {
    return this.options.registry.admitted().map((n) => n.id);
  }

  /** See {@link Scatter.availability}: the registry's circuit breaker. */
  availability(nodes: readonly string[]): Promise<Availability> {
    return this.options.registry.availability(nodes);
  }

  /** See {@link Scatter.scatter}. Headers are computed for every node before any request leaves. */
  async scatter(nodes: readonly string[], request: ContributionRequest, grant: GrantContext | undefined): Promise<NodeOutcome[]> {
    const { registry, headersFor } = this.options;
    const body = JSON.stringify({ query: CONTRIBUTION_OPERATION, operationName: 'Contribution', variables: { request } });
    const snapshots = nodes.map((id) => registry.get(id));
    const headers = await Promise.all(snapshots.map((n) => (n && headersFor ? headersFor(n, request, grant) : {})));
    return Promise.all(nodes.map((id, i) => this.ask(id, body, headers[i]!)));
  }

  private async ask(id: string, body: string, headers: Record<string, string>): Promise<NodeOutcome> {
    const { registry, client, timeoutMs, logger } = this.options;
    const started = performance.now();
    const failure = (reason: Failure['reason'], code?: string): Failure => (code ? { node: id, ok: false, reason, code } : { node: id, ok: false, reason });
    let node = registry.get(id);
    if (!node) return failure('ERROR');
    if (!node.verified) {
      const ok = await registry.ensureVerified(id);
      node = registry.get(id)!;
      if (!ok) return failure(node.status === 'REFUSED_SDL_DRIFT' ? 'SDL_DRIFT' : 'UNREACHABLE');
    }
    const remaining = Math.floor(timeoutMs - (performance.now() - started));
    if (remaining <= 0) return failure('TIMEOUT');
    let res;
    try {
      res = await client.postJson(node.url, body, remaining, headers);
    } catch (e) {
      const reason = e instanceof NodeRequestError ? e.reason : 'ERROR';
      if (reason !== 'ERROR') registry.markUnreachable(id);
      logger.warn({ node: id, reason, err: (e as Error).message }, 'node did not answer a contribution request');
      return failure(reason);
    }
    registry.markSeen(id);
    const payload = res.body as { data?: { contribution?: unknown } | null; errors?: Array<{ extensions?: { code?: unknown } }> } | null;
    if (payload?.errors?.length) {
      const code = payload.errors.map((e) => e?.extensions?.code).find((c): c is string => typeof c === 'string' && c in ERROR_CATALOG);
      logger.warn({ node: id, httpStatus: res.status, code }, 'node refused or failed a contribution request');
      return failure('ERROR', code);
    }
    const contribution = payload?.data?.contribution;
    if (contribution === undefined || contribution === null || res.status < 200 || res.status >= 300) {
      logger.warn({ node: id, httpStatus: res.status }, 'node answered without a contribution');
      return failure('ERROR');
    }
    return { node: id, ok: true, contribution };
  }
}
