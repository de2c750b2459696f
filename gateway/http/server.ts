/**
 * A small node:http front for Apollo Server: GraphQL at `/` and `/graphql` (POST JSON, or GET),
 * `GET /healthz` for load balancers, and public JSON documents (the grant keys). No framework, so
 * the hot path is short. Reading, replies and error bodies come from `runtime/http.ts`: a body
 * over the limit is REQUEST_TOO_LARGE (413) and the connection is cut as soon as the limit is
 * passed, malformed JSON is REQUEST_INVALID (400), an unknown path NOT_FOUND (404), each with the
 * one GraphQL error shape.
 *
 * Request limits (tokens, depth, aliases, directives, weighted cost; `runtime/request-limits.ts`) are
 * checked after authentication and before Apollo parses, validates or plans anything.
 *
 * Authentication happens here, before the body is read: a GraphQL request whose credentials fail
 * gets 401 UNAUTHENTICATED and reaches nothing else (no parsing, planning, policy or node contact).
 */
import type http from 'node:http';
import type { ApolloServer, BaseContext } from '@apollo/server';
import type { Logger } from 'pino';
import { AccordError } from '../../schema/errors.js';
import { respondWithApollo } from '../../runtime/apollo-http.js';
import { asAccordError } from '../../runtime/graphql-errors.js';
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from '../../runtime/request-limits.js';
import { DEFAULT_BODY_LIMIT, handleRequests, parseJsonBody, readBody, sendError, sendJson } from '../../runtime/http.js';

export interface HttpFrontOptions<TContext extends BaseContext, TPrincipal = undefined> {
  logger: Logger;
  /** Largest accepted request body, bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /**
   * Authenticates a GraphQL request from its `Authorization` header; rejects with an AccordError
   * ('UNAUTHENTICATED') to refuse it with 401. Absent: no authentication.
   */
  authenticate?: (authorization: string | undefined) => Promise<TPrincipal>;
  /** Builds the per-request context from the authenticated caller. */
  context: (req: http.IncomingMessage, principal: TPrincipal) => Promise<TContext>;
  /** Public documents served on GET (path → JSON body). */
  documents?: Record<string, () => unknown>;
  /** Request limits checked before Apollo parses or plans (default: `DEFAULT_REQUEST_LIMITS`). */
  limits?: RequestLimits;
}

const GRAPHQL_PATHS = new Set(['/', '/graphql']);

/** The request listener; unhandled failures become a masked 500 (logged). */
export function createRequestListener<TContext extends BaseContext, TPrincipal = undefined>(
  apollo: ApolloServer<TContext>,
  options: HttpFrontOptions<TContext, TPrincipal>,
): http.RequestListener {
  const limit = options.maxBodyBytes ?? DEFAULT_BODY_LIMIT;
  return handleRequests({ logger: options.logger, service: 'gateway' }, async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    if (url.pathname === '/healthz' && req.method === 'GET') return sendJson(res, 200, { status: 'ok' });
    const doc = options.documents?.[url.pathname];
    if (doc && req.method === 'GET') return sendJson(res, 200, doc());
    if (!GRAPHQL_PATHS.has(url.pathname)) throw new AccordError('NOT_FOUND', 'Not found; the GraphQL endpoint is /graphql.');
    let principal = undefined as TPrincipal;
    if (options.authenticate) {
      try {
        principal = await options.authenticate(req.headers.authorization);
      } catch (e) {
        const refusal = asAccordError(e);
        if (refusal?.code !== 'UNAUTHENTICATED') throw e;
        req.resume();
        return sendError(res, refusal, { 'www-authenticate': 'Bearer realm="accord"' });
      }
    }
    let body: unknown = undefined;
    if (req.method === 'POST') {
      const text = (await readBody(req, limit)).toString('utf8');
      body = (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json') ? parseJsonBody(text) : text;
    }
    await respondWithApollo(apollo, req, res, { url, body, context: () => options.context(req, principal), limits: options.limits ?? DEFAULT_REQUEST_LIMITS });
  });
}
