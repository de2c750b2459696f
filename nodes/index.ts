/** The Accord node: what scripts and tests use to run nodes and measure them. */
export { buildNode, createNode, defaultLogger, type BuiltNode, type RunningNode } from './app.js';
export { resolveNodeConfig, type NodeConfig, type ResolvedNodeConfig } from './config.js';
export { runContribution, type ContributionResult } from './contribution/index.js';
export type { ContributionGuard, ContributionContext } from './contribution/index.js';
export { openNodeOrm, seedDataset, type NodeOrm, type SeedSummary } from './db/index.js';
export { nodeSubgraphSchema } from './graphql/schema.js';
