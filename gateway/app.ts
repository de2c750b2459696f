/**
 * Builds and starts the gateway: registry admission, in-process supergraph, Apollo Server over the
 * federation, and the HTTP front. `main.ts` is the CLI around it; tests and benchmarks call
 * {@link createGateway} directly (port 0 picks a free port).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { Logger } from 'pino';
import type { Entropy } from '../schema/privacy/index.js';
import { resolveConfig, type GatewayConfig, type GatewayConfigInput } from './config.js';
import { buildFederation, type Federation, type LocalSubgraph, type NodeHeaders } from './federation/index.js';
import { makeFormatError } from './http/errors.js';
import { createRequestListener } from './http/server.js';
import { createLogger } from './log.js';
import { NodeClient } from './net/node-client.js';
import type { Scatter } from './patterns/answer.js';
import { NodeRegistry } from './registry/index.js';

/** The per-request context of the analyst API (identity and policy are added by later layers). */
export interface GatewayContext {
  /** Unique id of the HTTP request, for logs. */
  requestId: string;
  /** The request's headers (lower-case names). */
  headers: http.IncomingHttpHeaders;
}

export interface CreateGatewayOptions extends GatewayConfigInput {
  /** Logger to use instead of a stderr logger at `logLevel`. */
  logger?: Logger;
  /** Per-node request headers (the grant slot). */
  headersFor?: NodeHeaders;
  /** Noise source for tests; the privacy core's CSPRNG by default. */
  entropy?: Entropy;
  /** Replaces the HTTP scatter (benchmarks). */
  scatter?: Scatter;
  /** More in-process subgraphs (e.g. `reference`). */
  extraSubgraphs?: LocalSubgraph[];
}

export interface Gateway {
  /** Base URL of the GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`. */
  url: string;
  config: GatewayConfig;
  registry: NodeRegistry;
  federation: Federation;
  apollo: ApolloServer<GatewayContext>;
  /** Re-checks every node's SDL now. */
  refresh(): Promise<void>;
  /** Stops accepting requests, drains in-flight ones, closes node connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Resolves the configuration, admits nodes (one SDL check each, in parallel; a node that is down
 * stays a member as UNREACHABLE), composes the supergraph, starts Apollo Server and listens.
 * Throws AccordError('CONFIG_INVALID') for a bad configuration; never fails because a node is down.
 */
export async function createGateway(options: CreateGatewayOptions = {}): Promise<Gateway> {
  const config = resolveConfig(options);
  const logger = options.logger ?? createLogger(config.logLevel);
  const client = new NodeClient({ maxResponseBytes: config.maxNodeResponseBytes });
  const registry = new NodeRegistry(config.nodes, { client, timeoutMs: config.nodeTimeoutMs, logger });
  await registry.refresh();
  for (const n of registry.list()) logger.info({ node: n.id, status: n.status }, 'node registered');

  const federation = buildFederation({
    config,
    registry,
    client,
    logger,
    ...(options.scatter ? { scatter: options.scatter } : {}),
    ...(options.headersFor ? { headersFor: options.headersFor } : {}),
    ...(options.entropy ? { entropy: options.entropy } : {}),
    ...(options.extraSubgraphs ? { extraSubgraphs: options.extraSubgraphs } : {}),
  });

  let requests = 0;
  const httpServer = http.createServer();
  httpServer.keepAliveTimeout = 65_000;
  const apollo = new ApolloServer<GatewayContext>({
    gateway: federation.gateway,
    formatError: makeFormatError(logger),
    includeStacktraceInErrorResponses: false,
    introspection: true,
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), ApolloServerPluginLandingPageDisabled()],
  });
  await apollo.start();
  httpServer.on(
    'request',
    createRequestListener(apollo, {
      logger,
      context: async (req) => ({ requestId: `r${++requests}`, headers: req.headers }),
    }),
  );
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const address = httpServer.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}/graphql`;

  const timer =
    config.refreshIntervalMs > 0
      ? setInterval(() => {
          void registry.refresh();
        }, config.refreshIntervalMs).unref()
      : undefined;

  let closing: Promise<void> | undefined;
  return {
    url,
    config,
    registry,
    federation,
    apollo,
    refresh: async () => {
      await registry.refresh();
    },
    close: () =>
      (closing ??= (async () => {
        if (timer) clearInterval(timer);
        await apollo.stop();
        client.close();
      })()),
  };
}
