/**
 * The data source of the `nodes` subgraph (DESIGN §4).
 *
 * The query planner sends the `nodes` part of an analyst operation here as if `nodes` were one
 * subgraph. This data source executes that operation locally against the executable analyst
 * schema, whose root resolvers scatter one contribution request to every admitted node, gather,
 * validate, sum and noise once. Rules:
 * - only incoming operations may scatter; health-check and schema-load fetches are executed
 *   locally with scattering disabled, so they never reach a node;
 * - `_entities` fetches are refused (ENTITY_FETCH_REFUSED): entity fetches are never scattered;
 * - errors leave as GraphQL errors with `extensions.code` from the catalog and
 *   `extensions.http.status`; anything unexpected becomes INTERNAL (details only in the log).
 */
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import {
  execute,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { Logger } from 'pino';
import { catalogError, executionError, internalError } from '../../runtime/graphql-errors.js';
import type { NodesExecutionContext } from './subgraphs/nodes.js';

export { catalogError };

/** `kind` of the fetches the gateway makes on behalf of an analyst (the enum is not exported). */
const INCOMING_OPERATION = 'incoming operation';

export interface FanoutDataSourceOptions {
  /** The executable analyst schema (see buildNodesSchema). */
  schema: GraphQLSchema;
  logger: Logger;
}

function rootOperation(doc: DocumentNode, operationName?: string | null): OperationDefinitionNode | undefined {
  const ops = doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return operationName ? ops.find((o) => o.name?.value === operationName) : ops[0];
}

/** True when the operation selects `_entities` at its root (directly or through fragments). */
function selectsEntities(doc: DocumentNode, operationName?: string | null): boolean {
  const op = rootOperation(doc, operationName);
  if (!op) return false;
  const fragments = new Map(doc.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const seen = new Set<string>();
  const walk = (sel: OperationDefinitionNode['selectionSet']): boolean =>
    sel.selections.some((s) => {
      if (s.kind === Kind.FIELD) return s.name.value === '_entities';
      if (s.kind === Kind.INLINE_FRAGMENT) return walk(s.selectionSet);
      const f = fragments.get(s.name.value);
      if (!f || seen.has(s.name.value)) return false;
      seen.add(s.name.value);
      return walk(f.selectionSet);
    });
  return walk(op.selectionSet);
}

export class FanoutDataSource implements GraphQLDataSource {
  private readonly parsed = new Map<string, DocumentNode>();
  private readonly validated = new WeakMap<DocumentNode, readonly GraphQLError[]>();

  constructor(private readonly options: FanoutDataSourceOptions) {}

  /**
   * Executes one fetch of the `nodes` subgraph. Never rejects: every failure is returned as a
   * GraphQL error with a catalog code.
   */
  async process(options: GraphQLDataSourceProcessOptions): Promise<GatewayGraphQLResponse> {
    const { request } = options;
    const incoming = options.kind === INCOMING_OPERATION;
    let document: DocumentNode;
    try {
      document = (incoming ? options.document : undefined) ?? this.parse(request.query ?? '');
    } catch {
      return { errors: [catalogError('INVALID_QUERY', 'The nodes subgraph received an operation it cannot parse.')] };
    }
    if (selectsEntities(document, request.operationName) || (request.variables && 'representations' in request.variables)) {
      this.options.logger.warn({ code: 'ENTITY_FETCH_REFUSED', kind: options.kind }, 'entity fetch against the nodes subgraph refused');
      return {
        errors: [catalogError('ENTITY_FETCH_REFUSED', 'The nodes subgraph does not resolve entities; ask the aggregate fields at the root of the query.')],
      };
    }
    let errors = this.validated.get(document);
    if (!errors) {
      errors = validate(this.options.schema, document);
      this.validated.set(document, errors);
    }
    if (errors.length > 0) return { errors: errors.map((e) => catalogError('INVALID_QUERY', e.message)) };

    const contextValue: NodesExecutionContext = { scatterAllowed: incoming, incoming: incoming ? options.context : undefined };
    try {
      const result = await execute({
        schema: this.options.schema,
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
