/**
 * An in-process subgraph data source whose resolver errors leave as catalog errors
 * (`extensions.code` and `extensions.http.status`), like the fan-out data source's. Apollo's
 * LocalGraphQLDataSource would pass an AccordError on without a code, and the gateway would mask it
 * as INTERNAL.
 */
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { graphql, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { executionError } from '../../runtime/graphql-errors.js';

export class CatalogLocalDataSource implements GraphQLDataSource {
  constructor(
    readonly schema: GraphQLSchema,
    private readonly logger: Logger,
  ) {}

  /** Executes one fetch in-process; never rejects. */
  async process({ request, context }: GraphQLDataSourceProcessOptions): Promise<GatewayGraphQLResponse> {
    const result = await graphql({
      schema: this.schema,
      source: request.query ?? '',
      variableValues: request.variables,
      operationName: request.operationName,
      contextValue: context,
    });
    const out: GatewayGraphQLResponse = { data: result.data as Record<string, unknown> | null | undefined };
    if (result.errors?.length) {
      out.errors = result.errors.map((e): GraphQLFormattedError => executionError({ logger: this.logger, service: 'gateway' }, e));
    }
    return out;
  }
}
