/**
 * The gateway's HTTP client to nodes: one JSON POST per call over keep-alive connections, a hard
 * per-call deadline (AbortController), a response size cap, and no retries.
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
   * already-aborted `signal` also rejects with TIMEOUT. Never retries.
   */
  postJson(url: string, body: string, timeoutMs: number, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<NodeResponse> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const onOuterAbort = () => controller.abort();
    signal?.addEventListener('abort', onOuterAbort, { once: true });
    if (signal?.aborted) controller.abort();
    return this.send(url, body, headers, controller.signal).finally(() => {
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
      req.on('error', (err) => fail(classify(err, url, signal)));
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
