/**
 * The federation: subgraphs, composition and the Apollo gateway over them.
 *
 * Subgraphs (all served in-process):
 * - `analyst`  — the six questions over the member nodes; its data source fans out to them;
 * - `platform` — federation metadata from the registry;
 * - `reference` — public catalogs (countries, sectors, KEV) and the entities that join noised
 *   aggregates to them (`exploit { vendor product }` next to a noised count): it only ever sees
 *   public keys the answer already released.
 */
import { ApolloGateway } from '@apollo/gateway';
import { parse } from 'graphql';
import type { Logger } from 'pino';
import type { Entropy } from '../../schema/privacy/index.js';
import type { GatewayConfig } from '../config.js';
import type { NodeClient } from '../net/node-client.js';
import type { AggregateDeps } from '../aggregate/answer.js';
import type { AdmissionPort, Scatter } from '../aggregate/ports.js';
import type { NodeRegistry } from '../registry/index.js';
import { FanoutDataSource } from './fanout-datasource.js';
import { HttpScatter } from './scatter.js';
import { type NodeHeaders } from '../grants/grant.js';
import { buildAnalyst, ANALYST_SDL, ANALYST_SUBGRAPH_NAME } from './subgraphs/analyst.js';
import { buildPlatformDataSource, PLATFORM_SDL, PLATFORM_SUBGRAPH_NAME, type PlatformAccess } from './subgraphs/platform.js';
import { buildReferenceSubgraph } from './subgraphs/reference.js';
import { composeSupergraph, type LocalSubgraph } from './supergraph.js';

export { createFanout, type Fanout } from './fanout.js';
export { FanoutDataSource, catalogError, type FanoutDataSourceOptions } from './fanout-datasource.js';
export { HttpScatter, type HttpScatterOptions } from './scatter.js';
export { composeSupergraph, type LocalSubgraph } from './supergraph.js';
export { ANALYST_SDL, ANALYST_SUBGRAPH_NAME, buildAnalyst, type Analyst, type AnalystExecutionContext } from './subgraphs/analyst.js';
export { PLATFORM_SDL, PLATFORM_SUBGRAPH_NAME, buildPlatformDataSource, type PlatformAccess } from './subgraphs/platform.js';
export { REFERENCE_SDL, REFERENCE_SUBGRAPH_NAME, buildReferenceSubgraph } from './subgraphs/reference.js';
export { CatalogLocalDataSource } from './local-datasource.js';

export interface FederationOptions {
  config: Pick<GatewayConfig, 'privacy' | 'quorum' | 'maxCells' | 'dataStart' | 'nodeTimeoutMs' | 'indicatorKey'>;
  registry: NodeRegistry;
  client: NodeClient;
  logger: Logger;
  /** Replaces the HTTP scatter (benchmarks, in-process tests). */
  scatter?: Scatter;
  /** Per-node request headers (the grant slot). */
  headersFor?: NodeHeaders;
  /** Noise source (tests); the privacy core's CSPRNG by default. */
  entropy?: Entropy;
  /** More in-process subgraphs, e.g. `reference`. */
  extraSubgraphs?: LocalSubgraph[];
  /** Admission (policy, cache, ledger) between plan and scatter. */
  gate?: AdmissionPort;
  /** Identity, budgets and policy reload for the platform subgraph. */
  platformAccess?: PlatformAccess;
  /** The federation indicator key (indicatorPrevalence). */
  indicatorKey?: string;
  /** Today's UTC date (the horizon's end, indicatorPrevalence windows); the clock by default. */
  today?: () => string;
  /** Records every operation the reference subgraph receives (tests). */
  onReferenceRequest?: (request: { query: string; variables: unknown }) => void;
}

export interface Federation {
  gateway: ApolloGateway;
  supergraphSdl: string;
  subgraphs: readonly LocalSubgraph[];
  /** The `analyst` subgraph's data source. */
  fanout: FanoutDataSource;
  scatter: Scatter;
  aggregateDeps: AggregateDeps;
}

/**
 * Builds the subgraphs, composes the supergraph and creates the (not yet loaded) ApolloGateway
 * whose buildService maps every subgraph name to its in-process data source. Hand the gateway to
 * ApolloServer (`new ApolloServer({ gateway })`). Throws AccordError('CONFIG_INVALID') when the
 * subgraphs do not compose.
 */
export function buildFederation(options: FederationOptions): Federation {
  const { config, registry, client, logger } = options;
  const scatter =
    options.scatter ??
    new HttpScatter({ registry, client, timeoutMs: config.nodeTimeoutMs, logger, ...(options.headersFor ? { headersFor: options.headersFor } : {}) });
  const aggregateDeps: AggregateDeps = {
    scatter,
    privacy: config.privacy,
    defaultQuorum: config.quorum,
    maxCells: config.maxCells,
    dataStart: config.dataStart,
    logger,
    ...(options.today ? { today: options.today } : {}),
    ...(options.entropy ? { entropy: options.entropy } : {}),
    ...(options.gate ? { gate: options.gate } : {}),
  };
  const indicatorKey = options.indicatorKey ?? config.indicatorKey;
  const schemaOptions = { ...(indicatorKey ? { indicatorKey } : {}), ...(options.today ? { today: options.today } : {}) };
  const fanout = new FanoutDataSource({ analyst: buildAnalyst(aggregateDeps, schemaOptions), logger });
  const subgraphs: LocalSubgraph[] = [
    { name: ANALYST_SUBGRAPH_NAME, typeDefs: parse(ANALYST_SDL), dataSource: fanout },
    { name: PLATFORM_SUBGRAPH_NAME, typeDefs: parse(PLATFORM_SDL), dataSource: buildPlatformDataSource(registry, config.quorum, options.platformAccess, logger) },
    buildReferenceSubgraph({ logger, ...(options.onReferenceRequest ? { onRequest: options.onReferenceRequest } : {}) }),
    ...(options.extraSubgraphs ?? []),
  ];
  const supergraphSdl = composeSupergraph(subgraphs);
  const byName = new Map(subgraphs.map((s) => [s.name, s.dataSource]));
  // @apollo/gateway otherwise starts an OpenTelemetry exporter that reports usage to Apollo and
  // probes cloud-metadata addresses. Accord never sends anything off the federation's own hosts.
  process.env.APOLLO_TELEMETRY_DISABLED = 'true';
  const gateway = new ApolloGateway({
    supergraphSdl,
    logger: logger.child({ component: 'apollo-gateway' }),
    buildService: ({ name }) => {
      const ds = byName.get(name);
      if (!ds) throw new Error(`no data source for subgraph ${name}`);
      return ds;
    },
  });
  return { gateway, supergraphSdl, subgraphs, fanout, scatter, aggregateDeps };
}
