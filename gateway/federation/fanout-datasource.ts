/**
 * The data source of the `analyst` subgraph (DESIGN §4: the member nodes as one logical subgraph).
 *
 * The query planner sends the analyst part of an operation here as if the nodes were one subgraph.
 * This data source executes that operation locally against the executable analyst schema, whose
 * root resolvers scatter one contribution request to every admitted node, gather, validate, sum
 * and noise once. Rules:
 * - only incoming operations may scatter: the caller (GatewayContext) is passed on for them alone;
 *   health-check and schema-load fetches execute without a caller, so they never reach a node;
 * - `_entities` fetches are refused (ENTITY_FETCH_REFUSED, by a validation rule): entity fetches
 *   are never scattered;
 * - errors leave as GraphQL errors with `extensions.code` from the catalog and
 *   `extensions.http.status`; anything unexpected becomes INTERNAL (details only in the log).
 */
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import {
  execute,
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import type { Logger } from 'pino';
import { asAccordError, catalogError, executionError, internalError } from '../../runtime/graphql-errors.js';
import type { GatewayContext } from '../context.js';
import type { Analyst, AnalystExecutionContext } from './subgraphs/analyst.js';

export { catalogError };

/** A fetch the gateway makes on behalf of an analyst (as opposed to a health check or schema load). */
type IncomingFetch = Extract<GraphQLDataSourceProcessOptions<GatewayContext>, { incomingRequestContext: unknown }>;

/** True for incoming operations (`@apollo/gateway` does not export the enum's value). */
function isIncoming(options: GraphQLDataSourceProcessOptions<GatewayContext>): options is IncomingFetch {
  return (options.kind as string) === 'incoming operation';
}

/** Marks the validation error of {@link NoEntitiesRule}. */
const ENTITY_FETCH = 'ENTITY_FETCH_REFUSED';

/**
 * A validation rule: the analyst subgraph never resolves entities, so any `_entities` field (at the
 * root, through fragments, anywhere) is refused, and so is a `representations` variable. Entity
 * fetches are never scattered.
 */
export const NoEntitiesRule: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === '_entities') context.reportError(new GraphQLError('The analyst subgraph does not resolve entities.', { nodes: node, extensions: { code: ENTITY_FETCH } }));
  },
  VariableDefinition(node) {
    if (node.variable.name.value === 'representations') context.reportError(new GraphQLError('The analyst subgraph takes no entity representations.', { nodes: node, extensions: { code: ENTITY_FETCH } }));
  },
});

const RULES: readonly ValidationRule[] = [...specifiedRules, NoEntitiesRule];

export interface FanoutDataSourceOptions {
  /** The analyst surface: its executable schema and the admission of an operation's questions (see buildAnalyst). */
  analyst: Analyst;
  logger: Logger;
}

export class FanoutDataSource implements GraphQLDataSource<GatewayContext> {
  private readonly parsed = new Map<string, DocumentNode>();
  private readonly validated = new WeakMap<DocumentNode, readonly GraphQLError[]>();

  constructor(private readonly options: FanoutDataSourceOptions) {}

  /**
   * Executes one fetch of the `analyst` subgraph. Never rejects: every failure is returned as a
   * GraphQL error with a catalog code.
   */
  async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const { request } = options;
    const incoming = isIncoming(options) ? options : undefined;
    let document: DocumentNode;
    try {
      document = incoming?.document ?? this.parse(request.query ?? '');
    } catch {
      return { errors: [catalogError('INVALID_QUERY', 'The analyst subgraph received an operation it cannot parse.')] };
    }
    let errors = this.validated.get(document);
    if (!errors) {
      errors = validate(this.options.analyst.schema, document, RULES);
      this.validated.set(document, errors);
    }
    if (request.variables && 'representations' in request.variables) errors = [...errors, new GraphQLError('', { extensions: { code: ENTITY_FETCH } })];
    if (errors.some((e) => e.extensions.code === ENTITY_FETCH)) {
      this.options.logger.warn({ code: ENTITY_FETCH, kind: options.kind }, 'entity fetch against the analyst subgraph refused');
      return {
        errors: [catalogError('ENTITY_FETCH_REFUSED', 'The analyst subgraph does not resolve entities; ask the aggregate fields at the root of the query.')],
      };
    }
    if (errors.length > 0) return { errors: errors.map((e) => catalogError('INVALID_QUERY', e.message)) };

    let contextValue: AnalystExecutionContext = {};
    try {
      // every question of the operation is admitted together before any is executed: one refusal
      // refuses the whole operation, with nothing reserved and nothing sent
      if (incoming) contextValue = await this.options.analyst.admit(document, request, incoming.context);
    } catch (e) {
      const accord = asAccordError(e);
      return { errors: [accord && accord.code !== 'INTERNAL' ? catalogError(accord.code, accord.message, accord.details) : this.internal(e)] };
    }
    try {
      const result = await execute({
        schema: this.options.analyst.schema,
        document,
        variableValues: request.variables,
        operationName: request.operationName,
        contextValue,
      });
      const out: GatewayGraphQLResponse = { data: result.data as Record<string, unknown> | null | undefined };
      if (result.errors?.length) out.errors = result.errors.map((e) => this.wireError(e));
      return out;
    } catch (e) {
      return { errors: [this.internal(e)] };
    }
  }

  private parse(query: string): DocumentNode {
    let doc = this.parsed.get(query);
    if (!doc) {
      doc = parse(query);
      if (this.parsed.size >= 1_000) this.parsed.clear();
      this.parsed.set(query, doc);
    }
    return doc;
  }

  private wireError(e: GraphQLError): GraphQLFormattedError {
    return executionError({ logger: this.options.logger, service: 'gateway' }, e);
  }

  private internal(e: unknown): GraphQLFormattedError {
    return internalError({ logger: this.options.logger, service: 'gateway' }, e);
  }
}
