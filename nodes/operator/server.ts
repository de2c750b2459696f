/**
 * The node-local operator API: a separate HTTP server on its own port with its own bearer token.
 * It is never part of the supergraph and the gateway holds no credential for it (DESIGN §2.1).
 *
 *   GET /health                 → { status: "ok", id }
 *   GET /stats                  → NodeStats (record counts, incidents and indicators by TLP)
 *   GET /contributions?limit=N  → { contributions: [...] } newest first (1 ≤ N ≤ 1000, default 50)
 *   GET <route>                 → each extra route given in `routes` (e.g. `/ledger`)
 *
 * Every endpoint requires `Authorization: Bearer <operator token>`; otherwise 401.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { isAccordError } from '../../schema/errors.js';
import { recentContributions } from '../contribution/log.js';
import type { NodeOrm } from '../db/orm.js';
import { nodeStats } from '../db/stats.js';

export interface OperatorServerOptions {
  nodeId: string;
  orm: NodeOrm;
  token: string;
  logger: Logger;
  host: string;
  port: number;
  /** Extra GET endpoints by path; a handler's AccordError becomes its status and code. */
  routes?: Readonly<Record<string, (url: URL) => Promise<unknown>>>;
}

export interface RunningOperatorServer {
  url: string;
  close(): Promise<void>;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time check of an `Authorization` header against the operator token. */
export function isAuthorised(header: string | undefined, token: string): boolean {
  if (typeof header !== 'string') return false;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!m) return false;
  return timingSafeEqual(digest(m[1]!), digest(token));
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.end(JSON.stringify(body));
}

/** Starts the operator API; resolves once it listens. */
export async function startOperatorServer(opts: OperatorServerOptions): Promise<RunningOperatorServer> {
  const { orm, token, logger } = opts;
  const started = Date.now();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!isAuthorised(req.headers.authorization, token)) {
      return send(res, 401, { error: { code: 'UNAUTHENTICATED', message: 'Send the operator token as a bearer token.' } }, { 'www-authenticate': 'Bearer realm="accord-node-operator"' });
    }
    if ((req.method ?? 'GET').toUpperCase() !== 'GET') return send(res, 405, { error: { code: 'INVALID_QUERY', message: 'Only GET is supported.' } }, { allow: 'GET' });
    const url = new URL(req.url ?? '/', 'http://operator.invalid');
    switch (url.pathname) {
      case '/health':
        return send(res, 200, { status: 'ok', id: opts.nodeId, uptimeSeconds: Math.floor((Date.now() - started) / 1000) });
      case '/stats':
        return send(res, 200, { id: opts.nodeId, ...(await nodeStats(orm)) });
      case '/contributions': {
        const raw = url.searchParams.get('limit');
        const limit = raw === null ? 50 : Number(raw);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
          return send(res, 400, { error: { code: 'INVALID_QUERY', message: 'limit must be an integer from 1 to 1000.' } });
        }
        return send(res, 200, { contributions: await recentContributions(orm, limit) });
      }
      default: {
        const route = Object.hasOwn(opts.routes ?? {}, url.pathname) ? opts.routes![url.pathname]! : undefined;
        if (!route) return send(res, 404, { error: { code: 'INVALID_QUERY', message: `Unknown endpoint; use ${['/health', '/stats', '/contributions', ...Object.keys(opts.routes ?? {})].join(', ')}.` } });
        try {
          return send(res, 200, await route(url));
        } catch (e) {
          if (isAccordError(e)) return send(res, e.status, { error: { code: e.code, message: e.message } });
          throw e;
        }
      }
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      logger.error({ err: e }, 'operator request failed');
      if (!res.headersSent) send(res, 500, { error: { code: 'INTERNAL', message: 'Internal error; see the node log.' } });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
    },
  };
}
