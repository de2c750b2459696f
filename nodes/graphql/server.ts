/**
 * The node's federated endpoint: Apollo Server over a plain node:http server (no CORS, no landing
 * page, no inline tracing). Serves POST/GET on `/graphql` (and `/`).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { GRANT_HEADER } from '../../schema/contract/contribution.js';
import { isAccordError } from '../../schema/errors.js';
import type { ContributionService } from '../contribution/service.js';
import type { NodeContext } from './context.js';
import { nodeSubgraphSchema } from './schema.js';

const MAX_BODY_BYTES = 1024 * 1024;
const GRAPHQL_INPUT_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT']);

export interface GraphqlServerOptions {
  service: ContributionService;
  logger: Logger;
  host: string;
  port: number;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Maps errors to stable codes: AccordError keeps its catalog code and details (which never carry
 * private numbers); GraphQL parse/validation/coercion errors become INVALID_QUERY; anything
 * else becomes INTERNAL with a generic message.
 */
export function formatNodeError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (isAccordError(original)) {
    const details = Object.keys(original.details).length > 0 ? { details: original.details } : {};
    return { message: original.message, path: formatted.path, extensions: { code: original.code, ...details } };
  }
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && GRAPHQL_INPUT_CODES.has(code)) {
    return { message: formatted.message, locations: formatted.locations, extensions: { code: 'INVALID_QUERY', graphqlCode: code } };
  }
  return { message: 'Internal error; see the node log.', path: formatted.path, extensions: { code: 'INTERNAL' } };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

/** Starts the federated endpoint; resolves once it listens. */
export async function startGraphqlServer(opts: GraphqlServerOptions): Promise<RunningServer> {
  const { service, logger } = opts;
  const apollo = new ApolloServer<NodeContext>({
    schema: nodeSubgraphSchema(),
    introspection: true,
    includeStacktraceInErrorResponses: false,
    stopOnTerminationSignals: false,
    formatError: formatNodeError,
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginInlineTraceDisabled()],
    logger: {
      debug: (m) => logger.debug(m),
      info: (m) => logger.info(m),
      warn: (m) => logger.warn(m),
      error: (m) => logger.error(m),
    },
  });
  await apollo.start();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://node.invalid');
    if (url.pathname !== '/graphql' && url.pathname !== '/') return sendJson(res, 404, { error: 'not found' });
    const method = (req.method ?? 'GET').toUpperCase();
    let body: unknown;
    if (method === 'POST') {
      const text = await readBody(req);
      try {
        body = text.length > 0 ? JSON.parse(text) : undefined;
      } catch {
        return sendJson(res, 400, { errors: [{ message: 'The request body is not JSON.', extensions: { code: 'INVALID_QUERY' } }] });
      }
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const httpGraphQLRequest: HTTPGraphQLRequest = { method, headers, search: url.search, body };
    const grantHeader = req.headers[GRANT_HEADER];
    const grant = typeof grantHeader === 'string' ? grantHeader : undefined;
    const requestId = randomUUID();
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest,
      context: async () => ({ service, grant, requestId }),
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = (e as { status?: number }).status ?? 500;
      if (status >= 500) logger.error({ err: e }, 'graphql request failed');
      if (!res.headersSent) sendJson(res, status, { errors: [{ message: status === 413 ? 'Request body too large.' : 'Internal error.', extensions: { code: status === 413 ? 'INVALID_QUERY' : 'INTERNAL' } }] });
      else res.end();
    });
  });
  server.keepAliveTimeout = 65_000;
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
    url: `http://${host}:${address.port}/graphql`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
      await apollo.stop();
    },
  };
}
