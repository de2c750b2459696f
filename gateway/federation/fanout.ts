/**
 * The scatter–gather path without Apollo: admit nodes, then answer aggregates directly.
 * For benchmarks (to separate the fan-out's own cost from the GraphQL layers) and for tools that
 * run inside the gateway's trust boundary. Analysts reach the same code through the `analyst`
 * subgraph.
 */
import type { Logger } from 'pino';
import { resolveConfig, type GatewayConfigInput } from '../config.js';
import { createLogger } from '../log.js';
import { NodeClient } from '../net/node-client.js';
import { answerAggregate, type AggregateDeps } from '../aggregate/answer.js';
import { type AggregateAnswer } from '../aggregate/answer-types.js';
import type { AggregateArgs } from '../aggregate/query.js';
import { NodeRegistry } from '../registry/index.js';
import { HttpScatter } from './scatter.js';
import { type NodeHeaders } from '../grants/grant.js';

export interface Fanout {
  registry: NodeRegistry;
  /** Plans, scatters to every admitted node, gathers and noises; throws what answerAggregate throws. */
  answer(args: AggregateArgs): Promise<AggregateAnswer>;
  /** Closes the node connections. */
  close(): void;
}

/**
 * Admits the configured nodes (one SDL check each) and returns a direct aggregate client using the
 * same configuration rules as the gateway (`nodes`, `privacy`, `quorum`, `nodeTimeoutMs`, `maxCells`).
 * Throws AccordError('CONFIG_INVALID') for a bad configuration.
 */
export async function createFanout(options: GatewayConfigInput & { logger?: Logger; headersFor?: NodeHeaders }): Promise<Fanout> {
  const config = resolveConfig(options);
  const logger = options.logger ?? createLogger(config.logLevel);
  const client = new NodeClient({ maxResponseBytes: config.maxNodeResponseBytes });
  const registry = new NodeRegistry(config.nodes, { client, timeoutMs: config.nodeTimeoutMs, logger, circuitCooldownMs: config.circuitCooldownMs });
  await registry.refresh();
  const scatter = new HttpScatter({ registry, client, timeoutMs: config.nodeTimeoutMs, logger, ...(options.headersFor ? { headersFor: options.headersFor } : {}) });
  const deps: AggregateDeps = { scatter, privacy: config.privacy, defaultQuorum: config.quorum, maxCells: config.maxCells, dataStart: config.dataStart, logger };
  return {
    registry,
    answer: (args) => answerAggregate(args, deps),
    close: () => client.close(),
  };
}
