/**
 * The node's Federation 2 subgraph schema: the type-graphql contract classes printed to SDL, marked
 * as a Federation 2 subgraph, and built with @apollo/subgraph. It exposes only
 * `Query.contribution` (plus federation's `_service`); there are no entities.
 */
import 'reflect-metadata';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { printSchemaWithDirectives, type IResolvers } from '@graphql-tools/utils';
import { parse, type GraphQLSchema } from 'graphql';
import { buildSchemaSync, createResolversMap } from 'type-graphql';
import { ContributionResolver } from './resolver.js';

const FEDERATION_LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: [])';

let cached: GraphQLSchema | undefined;

/** The subgraph schema (built once per process; it holds no per-node state). */
export function nodeSubgraphSchema(): GraphQLSchema {
  if (cached) return cached;
  const schema = buildSchemaSync({ resolvers: [ContributionResolver], validate: false, emitSchemaFile: false });
  const typeDefs = parse(`${FEDERATION_LINK}\n\n${printSchemaWithDirectives(schema)}`);
  cached = buildSubgraphSchema([{ typeDefs, resolvers: createResolversMap(schema) as unknown as IResolvers as never }]);
  return cached;
}
