/**
 * In-process supergraph composition (DESIGN §4): the gateway composes its own subgraphs at start
 * instead of fetching a supergraph from elsewhere, so the analyst surface is exactly what the code
 * declares.
 */
import { composeServices } from '@apollo/composition';
import type { GraphQLDataSource } from '@apollo/gateway';
import type { DocumentNode } from 'graphql';
import { AccordError } from '../../schema/errors.js';

/** A subgraph served inside the gateway process. */
export interface LocalSubgraph {
  name: string;
  typeDefs: DocumentNode;
  dataSource: GraphQLDataSource;
}

/**
 * Composes the subgraphs into a supergraph SDL. Each gets a placeholder URL (`local://<name>`);
 * the gateway's buildService maps names to in-process data sources and never dials these.
 * Throws AccordError('CONFIG_INVALID') listing the composition errors.
 */
export function composeSupergraph(subgraphs: readonly Pick<LocalSubgraph, 'name' | 'typeDefs'>[]): string {
  const result = composeServices(subgraphs.map((s) => ({ name: s.name, typeDefs: s.typeDefs, url: `local://${s.name}` })));
  if (result.errors) {
    throw new AccordError('CONFIG_INVALID', `The gateway's subgraphs do not compose: ${result.errors.map((e) => e.message).join('; ')}`);
  }
  return result.supergraphSdl;
}
