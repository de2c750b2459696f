/**
 * A small node:http front for Apollo Server: GraphQL at `/` and `/graphql` (POST JSON, or GET),
 * `GET /healthz` for load balancers, and public JSON documents (the grant keys). Bodies are capped;
 * malformed JSON is a 400 with a GraphQL-shaped error. No framework, so the hot path is short.
 *
 * Authentication happens here, before the body is read: a GraphQL request whose credentials fail
 * gets 401 UNAUTHENTICATED and reaches nothing else (no parsing, planning, policy or node contact).
 */
import http from 'node:http';
import type { ApolloServer, BaseContext, HTTPGraphQLRequest } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import type { Logger } from 'pino';

export interface HttpFrontOptions<TContext extends BaseContext, TPrincipal = undefined> {
  logger: Logger;
  /** Largest accepted request body, bytes. */
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
}

const GRAPHQL_PATHS = new Set(['/', '/graphql']);

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function requestError(res: http.ServerResponse, status: number, message: string): void {
  sendJson(res, status, { errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
}

function readBody(req: http.IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The request listener; unhandled failures become a masked 500. */
export function createRequestListener<TContext extends BaseContext, TPrincipal = undefined>(
  apollo: ApolloServer<TContext>,
  options: HttpFrontOptions<TContext, TPrincipal>,
): http.RequestListener {
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    if (url.pathname === '/healthz' && req.method === 'GET') return sendJson(res, 200, { status: 'ok' });
    const doc = options.documents?.[url.pathname];
    if (doc && req.method === 'GET') return sendJson(res, 200, doc());
    if (!GRAPHQL_PATHS.has(url.pathname)) return requestError(res, 404, 'Not found; the GraphQL endpoint is /graphql.');
    let principal = undefined as TPrincipal;
    if (options.authenticate) {
      try {
        principal = await options.authenticate(req.headers.authorization);
      } catch (e) {
        const accord = e as { name?: string; code?: string; message?: string };
        if (accord?.name !== 'AccordError' || accord.code !== 'UNAUTHENTICATED') throw e;
        req.resume();
        res.setHeader('www-authenticate', 'Bearer realm="accord"');
        return sendJson(res, 401, { errors: [{ message: accord.message, extensions: { code: 'UNAUTHENTICATED' } }] });
      }
    }
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    let body: unknown = undefined;
    if (req.method === 'POST') {
      const text = await readBody(req, limit);
      if (text === null) return requestError(res, 413, `The request body exceeds ${limit} bytes.`);
      if ((headers.get('content-type') ?? '').toLowerCase().startsWith('application/json')) {
        try {
          body = JSON.parse(text);
        } catch {
          return requestError(res, 400, 'The request body is not valid JSON.');
        }
      } else {
        body = text;
      }
    }
    const httpGraphQLRequest: HTTPGraphQLRequest = { method: (req.method ?? 'GET').toUpperCase(), headers, search: url.search, body };
    const response = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: () => options.context(req, principal) });
    for (const [k, v] of response.headers) res.setHeader(k, v);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
  return (req, res) => {
    handle(req, res).catch((err) => {
      options.logger.error({ err }, 'HTTP handler failed');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal error; the gateway log has the details.', extensions: { code: 'INTERNAL' } }] });
      else res.destroy();
    });
  };
}
