/**
 * The node-local operator API: a separate HTTP server on its own port with its own bearer token.
 * It is never part of the supergraph and the gateway holds no credential for it (DESIGN §2.1).
 *
 *   GET /health                 → { status: "ok", id }
 *   GET /stats                  → NodeStats (record counts, incidents and indicators by TLP)
 *   GET /contributions?limit=N  → { contributions: [...] } newest first (1 ≤ N ≤ 1000, default 50)
 *   GET <route>                 → each extra route given in `routes` (e.g. `/ledger`)
 *
 * Every endpoint requires `Authorization: Bearer <operator token>`; otherwise 401
 * UNAUTHENTICATED. Refusals use the one error shape of `runtime/graphql-errors.ts`
 * (`{ errors: [{ message, extensions: { code, … } }] }`): METHOD_NOT_ALLOWED for anything but GET,
 * NOT_FOUND for an unknown path, REQUEST_INVALID for a bad `limit`, a route's AccordError with its
 * own code; an unexpected failure is INTERNAL, logged with its cause. {@link buildOperatorFront}
 * returns the request listener without opening a port (`runtime/http.ts` `serve` listens with it).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestListener } from 'node:http';
import type { Logger } from 'pino';
import { AccordError } from '../../schema/errors.js';
import { handleRequests, sendError, sendJson } from '../../runtime/http.js';
import { recentContributions } from '../contribution/log.js';
import type { NodeOrm } from '../db/orm.js';
import { nodeStats } from '../db/stats.js';

export interface OperatorFrontOptions {
  nodeId: string;
  orm: NodeOrm;
  token: string;
  logger: Logger;
  /** Extra GET endpoints by path; a handler's AccordError becomes its status and code. */
  routes?: Readonly<Record<string, (url: URL) => Promise<unknown>>>;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time check of an `Authorization` header against the operator token. */
export function isAuthorised(header: string | undefined, token: string): boolean {
  if (typeof header !== 'string') return false;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!m) return false;
  return timingSafeEqual(digest(m[1]!), digest(token));
}

/** The operator API's request listener; opens no port. */
export function buildOperatorFront(opts: OperatorFrontOptions): RequestListener {
  const { orm, token } = opts;
  const started = Date.now();
  return handleRequests({ logger: opts.logger, service: 'node' }, async (req, res) => {
    res.setHeader('cache-control', 'no-store');
    if (!isAuthorised(req.headers.authorization, token)) {
      return sendError(res, new AccordError('UNAUTHENTICATED', 'Send the operator token as a bearer token.'), { 'www-authenticate': 'Bearer realm="accord-node-operator"' });
    }
    if ((req.method ?? 'GET').toUpperCase() !== 'GET') return sendError(res, new AccordError('METHOD_NOT_ALLOWED', 'Only GET is supported.'), { allow: 'GET' });
    const url = new URL(req.url ?? '/', 'http://operator.invalid');
    switch (url.pathname) {
      case '/health':
        return sendJson(res, 200, { status: 'ok', id: opts.nodeId, uptimeSeconds: Math.floor((Date.now() - started) / 1000) });
      case '/stats':
        return sendJson(res, 200, { id: opts.nodeId, ...(await nodeStats(orm)) });
      case '/contributions': {
        const raw = url.searchParams.get('limit');
        const limit = raw === null ? 50 : Number(raw);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
          return sendError(res, new AccordError('REQUEST_INVALID', 'limit must be an integer from 1 to 1000.', { field: 'limit' }));
        }
        return sendJson(res, 200, { contributions: await recentContributions(orm, limit) });
      }
      default: {
        const route = Object.hasOwn(opts.routes ?? {}, url.pathname) ? opts.routes![url.pathname]! : undefined;
        if (!route) {
          const known = ['/health', '/stats', '/contributions', ...Object.keys(opts.routes ?? {})].join(', ');
          return sendError(res, new AccordError('NOT_FOUND', `Unknown endpoint; use ${known}.`));
        }
        return sendJson(res, 200, await route(url));
      }
    }
  });
}
