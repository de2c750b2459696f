/**
 * A small node:http front for Apollo Server: GraphQL at `/` and `/graphql` (POST JSON, or GET),
 * `GET /healthz` for load balancers. Bodies are capped; malformed JSON is a 400 with a GraphQL-shaped
 * error. No framework, so the hot path is short.
 */
import http from 'node:http';
import type { ApolloServer, BaseContext, HTTPGraphQLRequest } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import type { Logger } from 'pino';

export interface HttpFrontOptions<TContext extends BaseContext> {
  logger: Logger;
  /** Largest accepted request body, bytes. */
  maxBodyBytes?: number;
  /** Builds the per-request context (authentication goes here). */
  context: (req: http.IncomingMessage) => Promise<TContext>;
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
export function createRequestListener<TContext extends BaseContext>(apollo: ApolloServer<TContext>, options: HttpFrontOptions<TContext>): http.RequestListener {
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    if (url.pathname === '/healthz' && req.method === 'GET') return sendJson(res, 200, { status: 'ok' });
    if (!GRAPHQL_PATHS.has(url.pathname)) return requestError(res, 404, 'Not found; the GraphQL endpoint is /graphql.');
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
    const response = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: () => options.context(req) });
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
