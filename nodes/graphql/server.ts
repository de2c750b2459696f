/**
 * The node's federated endpoint: Apollo Server behind a plain node:http request listener (no CORS,
 * no landing page, no inline tracing), GraphQL on `/graphql` (and `/`), POST (or a GET that passes
 * Apollo's CSRF prevention).
 *
 * {@link buildGraphqlFront} starts Apollo and returns the request listener without opening a port
 * (tests drive it in-process; `runtime/http.ts` `serve` listens with it). Every refusal has a catalog
 * code in the one error shape of `runtime/graphql-errors.ts`: a body over the limit is
 * REQUEST_TOO_LARGE (the connection is cut as soon as the limit is passed), a body that is not JSON
 * or not a GraphQL request REQUEST_INVALID, a method Apollo refuses METHOD_NOT_ALLOWED, another
 * path NOT_FOUND; only an unexpected failure is INTERNAL, and it is logged with its cause.
 */
import { randomUUID } from 'node:crypto';
import type { RequestListener } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { Logger } from 'pino';
import { GRANT_HEADER } from '../../schema/contract/contribution.js';
import { AccordError } from '../../schema/errors.js';
import { respondWithApollo } from '../../runtime/apollo-http.js';
import { DEFAULT_REQUEST_LIMITS } from '../../runtime/request-limits.js';
import { makeFormatError, type ErrorMasking } from '../../runtime/graphql-errors.js';
import { DEFAULT_BODY_LIMIT, handleRequests, parseJsonBody, readBody } from '../../runtime/http.js';
import type { ContributionService } from '../contribution/service.js';
import type { NodeContext } from './context.js';
import { nodeSubgraphSchema } from './schema.js';

export interface GraphqlFrontOptions {
  service: ContributionService;
  logger: Logger;
  /** Largest accepted request body, bytes (default 1 MiB). */
  maxBodyBytes?: number;
}

/** The endpoint without a socket: Apollo (started) and the request listener serving it. */
export interface GraphqlFront {
  apollo: ApolloServer<NodeContext>;
  listener: RequestListener;
  /** Stops Apollo. Idempotent. */
  stop(): Promise<void>;
}

const GRAPHQL_PATHS = new Set(['/', '/graphql']);

/** Starts Apollo Server for the node's subgraph and returns its request listener; opens no port. */
export async function buildGraphqlFront(opts: GraphqlFrontOptions): Promise<GraphqlFront> {
  const { service, logger } = opts;
  const limit = opts.maxBodyBytes ?? DEFAULT_BODY_LIMIT;
  const masking: ErrorMasking = { logger, service: 'node' };
  const apollo = new ApolloServer<NodeContext>({
    schema: nodeSubgraphSchema(),
    introspection: true,
    includeStacktraceInErrorResponses: false,
    stopOnTerminationSignals: false,
    formatError: makeFormatError(masking),
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginInlineTraceDisabled()],
    logger: {
      debug: (m) => logger.debug(m),
      info: (m) => logger.info(m),
      warn: (m) => logger.warn(m),
      error: (m) => logger.error(m),
    },
  });
  await apollo.start();
  const listener = handleRequests(masking, async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://node.invalid');
    if (!GRAPHQL_PATHS.has(url.pathname)) throw new AccordError('NOT_FOUND', 'Not found; the GraphQL endpoint is /graphql.');
    let body: unknown;
    if ((req.method ?? 'GET').toUpperCase() === 'POST') {
      const text = (await readBody(req, limit)).toString('utf8');
      body = text.length > 0 ? parseJsonBody(text) : undefined;
    }
    const grantHeader = req.headers[GRANT_HEADER];
    const grant = typeof grantHeader === 'string' ? grantHeader : undefined;
    const requestId = randomUUID();
    await respondWithApollo(apollo, req, res, { url, body, context: async () => ({ service, grant, requestId }), limits: DEFAULT_REQUEST_LIMITS });
  });
  let stopping: Promise<void> | undefined;
  return { apollo, listener, stop: () => (stopping ??= apollo.stop()) };
}
