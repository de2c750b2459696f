/**
 * The gateway's HTTP client to nodes: one JSON POST per call over keep-alive connections, a hard
 * per-call deadline (AbortController) and a response size cap. The one resend: a request that failed
 * on a reused keep-alive socket the node had already closed (ECONNRESET / EPIPE before any response,
 * so the node never received it) goes again on a fresh socket, at most twice, within the same
 * deadline. Any other failure is final.
 *
 * Failures are classified for coverage reporting: TIMEOUT (deadline passed), UNREACHABLE
 * (connection refused/reset/unresolvable) and ERROR (anything else: bad status without a GraphQL
 * body, non-JSON, oversized).
 */
import http from 'node:http';
import https from 'node:https';

export type NodeFailureReason = 'TIMEOUT' | 'UNREACHABLE' | 'ERROR';

/** A failed node call. `message` is for the gateway log only (it may carry the node's URL). */
export class NodeRequestError extends Error {
  constructor(
    readonly reason: NodeFailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'NodeRequestError';
  }
}

export interface NodeResponse {
  status: number;
  /** Parsed JSON body. */
  body: unknown;
}

export interface NodeClientOptions {
  /** Largest accepted response body in bytes. */
  maxResponseBytes: number;
  /** Sockets kept open per node. */
  maxSockets?: number;
}

/** Retries of a request that failed on a stale keep-alive socket. */
const MAX_STALE_RETRIES = 2;

/** A request failed on a reused socket the peer had closed before answering; safe to resend. */
class StaleSocketError extends Error {
  constructor(override readonly cause: NodeRequestError) {
    super(cause.message);
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ETIMEDOUT']);

export class NodeClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(private readonly options: NodeClientOptions) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64, maxFreeSockets: 16, scheduling: 'lifo' as const };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
  }

  /**
   * POSTs `body` (already serialised JSON) to `url` and parses the JSON answer, whatever its
   * HTTP status. Resolves within `timeoutMs` or rejects with NodeRequestError('TIMEOUT'); an
   * already-aborted `signal` also rejects with TIMEOUT. Retries only a request that failed on a
   * reused keep-alive socket the node had closed (ECONNRESET / EPIPE before any response: the
   * request never reached the node), at most twice, within the same deadline.
   */
  postJson(url: string, body: string, timeoutMs: number, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<NodeResponse> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const onOuterAbort = () => controller.abort();
    signal?.addEventListener('abort', onOuterAbort, { once: true });
    if (signal?.aborted) controller.abort();
    const attempt = (retries: number): Promise<NodeResponse> =>
      this.send(url, body, headers, controller.signal).catch((e: unknown) => {
        if (retries > 0 && e instanceof StaleSocketError && !controller.signal.aborted) return attempt(retries - 1);
        throw e instanceof StaleSocketError ? e.cause : e;
      });
    return attempt(MAX_STALE_RETRIES).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onOuterAbort);
    });
  }

  private send(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<NodeResponse> {
    return new Promise<NodeResponse>((resolve, reject) => {
      if (signal.aborted) {
        reject(new NodeRequestError('TIMEOUT', `request to ${url} aborted before sending`));
        return;
      }
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        reject(new NodeRequestError('ERROR', `invalid node URL ${url}`));
        return;
      }
      const isHttps = target.protocol === 'https:';
      const mod = isHttps ? https : http;
      const payload = Buffer.from(body, 'utf8');
      let settled = false;
      const fail = (e: NodeRequestError) => {
        if (settled) return;
        settled = true;
        reject(e);
      };
      const req = mod.request(
        target,
        {
          method: 'POST',
          agent: isHttps ? this.httpsAgent : this.httpAgent,
          signal,
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            'content-length': payload.length,
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > this.options.maxResponseBytes) {
              fail(new NodeRequestError('ERROR', `response from ${url} exceeds ${this.options.maxResponseBytes} bytes`));
              res.destroy();
              return;
            }
            chunks.push(chunk);
          });
          res.on('error', (err) => fail(classify(err, url, signal)));
          res.on('end', () => {
            if (settled) return;
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              fail(new NodeRequestError('ERROR', `non-JSON response (HTTP ${res.statusCode}) from ${url}`));
              return;
            }
            settled = true;
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      let responded = false;
      req.on('response', () => {
        responded = true;
      });
      req.on('error', (err) => {
        const code = (err as NodeJS.ErrnoException).code;
        if (req.reusedSocket && !responded && (code === 'ECONNRESET' || code === 'EPIPE') && !settled) {
          settled = true;
          reject(new StaleSocketError(classify(err, url, signal)));
          return;
        }
        fail(classify(err, url, signal));
      });
      req.end(payload);
    });
  }

  /** Closes idle keep-alive sockets. Calls in flight are not interrupted. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

function classify(err: unknown, url: string, signal: AbortSignal): NodeRequestError {
  if (signal.aborted) return new NodeRequestError('TIMEOUT', `no answer from ${url} before the deadline`);
  const code = (err as { code?: string })?.code;
  if (code && NETWORK_CODES.has(code)) return new NodeRequestError('UNREACHABLE', `${code} from ${url}`);
  return new NodeRequestError('ERROR', `request to ${url} failed: ${(err as Error)?.message ?? String(err)}`);
}
