/**
 * The one mapping from errors to what a client of Accord sees, gateway and node alike.
 *
 * Wire shape of every error: `{ message, path?, locations?, extensions: { code, ...details } }`.
 * `code` is always a code of the catalog (`schema/errors.ts`); details of an AccordError sit beside
 * it and never override it. Inside the gateway a catalog error also carries
 * `extensions.http.status`, which the data sources hand to Apollo; it is dropped before a client
 * sees the error.
 *
 * - An AccordError keeps its code, message and details (details never carry private numbers).
 * - Apollo Server's own request codes become catalog codes: parse, validation and variable
 *   coercion failures are INVALID_QUERY (Apollo's code kept as `graphqlCode`, telling which); a
 *   malformed HTTP request (`BAD_REQUEST`: query not a string, variables not an object, empty
 *   body, a GET blocked by CSRF prevention) is REQUEST_INVALID, or METHOD_NOT_ALLOWED for a method
 *   Apollo refuses — the same codes, in the same shape, as the errors the HTTP fronts answer
 *   themselves.
 * - Anything else is INTERNAL with a fixed message naming the service whose log has the details,
 *   and it is logged with its cause — always, and once: an INTERNAL relayed from an in-process
 *   subgraph was logged by its data source (see {@link internalError}).
 *
 * Nothing here throws.
 */
import type { GraphQLError, GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { ERROR_CATALOG, type AccordError, type ErrorCode } from '../schema/errors.js';

/** Who masks: the log that has the details of an INTERNAL error. */
export interface ErrorMasking {
  logger: Logger;
  /** `gateway` or `node`: named in the message of an INTERNAL error. */
  service: string;
}

type Path = ReadonlyArray<string | number>;

/** The fixed message of an INTERNAL error raised by `service`. */
export function internalMessage(service: string): string {
  return `Internal error; the ${service} log has the details.`;
}

/** True for a catalog code. */
export function isCatalogCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CATALOG, code);
}

/** Duck-typed so that an AccordError from another module instance is still recognised. */
export function asAccordError(e: unknown): AccordError | undefined {
  const c = e as AccordError | undefined;
  return c && c.name === 'AccordError' && isCatalogCode(c.code) ? c : undefined;
}

/** A catalog error in the wire shape (no HTTP status). */
export function wireError(
  code: ErrorCode,
  message: string,
  details: Readonly<Record<string, unknown>> = {},
  where: { path?: Path | undefined; locations?: GraphQLFormattedError['locations'] } = {},
): GraphQLFormattedError {
  return {
    message,
    ...(where.path ? { path: where.path } : {}),
    ...(where.locations ? { locations: where.locations } : {}),
    extensions: { ...details, code },
  };
}

/** A catalog error as a data source returns it to Apollo: the wire shape plus `extensions.http.status`. */
export function catalogError(code: ErrorCode, message: string, details: Readonly<Record<string, unknown>> = {}, path?: Path): GraphQLFormattedError {
  const error = wireError(code, message, details, { path });
  return { ...error, extensions: { ...error.extensions, http: { status: ERROR_CATALOG[code].status } } };
}

/** Logs `cause` and returns the INTERNAL catalog error (fixed message) for it. */
export function internalError(masking: ErrorMasking, cause: unknown, path?: Path): GraphQLFormattedError {
  masking.logger.error({ err: cause, path, code: 'INTERNAL' }, `internal error in the ${masking.service}`);
  return catalogError('INTERNAL', internalMessage(masking.service), {}, path);
}

/**
 * A graphql-js execution error as a data source returns it: an AccordError keeps its code, an
 * error without a cause (argument coercion) is INVALID_QUERY, anything else INTERNAL (logged).
 */
export function executionError(masking: ErrorMasking, e: GraphQLError): GraphQLFormattedError {
  const accord = asAccordError(e.originalError);
  if (accord && accord.code !== 'INTERNAL') return catalogError(accord.code, accord.message, accord.details, e.path);
  if (!e.originalError) return catalogError('INVALID_QUERY', e.message, {}, e.path);
  return internalError(masking, e.originalError, e.path);
}

/** Apollo Server's codes for a query it could not parse, validate or coerce. */
const QUERY_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'OPERATION_RESOLUTION_FAILURE']);
/** Apollo Server's codes for an HTTP request it could not read as a GraphQL request. */
const REQUEST_CODES = new Set(['BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED']);
/** Extension keys that are plumbing, not information for the client. */
const DROPPED = new Set(['serviceName', 'stacktrace', 'exception', 'http']);

function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { extensions?: { http?: { status?: unknown } } } | undefined)?.extensions?.http?.status;
  return typeof status === 'number' ? status : undefined;
}

/** The error a resolver threw, when Apollo wrapped it. */
function causeOf(error: unknown): unknown {
  const wrapped = error as { originalError?: unknown } | undefined;
  return wrapped && typeof wrapped === 'object' && wrapped.originalError instanceof Error ? wrapped.originalError : error;
}

/** An Apollo Server `formatError` applying the rules in the module comment. Never throws. */
export function makeFormatError(masking: ErrorMasking): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted, error) => {
    const where = { path: formatted.path, locations: formatted.locations };
    const accord = asAccordError(causeOf(error));
    if (accord && accord.code !== 'INTERNAL') return wireError(accord.code, accord.message, accord.details, where);
    const code = formatted.extensions?.code;
    if (isCatalogCode(code) && code !== 'INTERNAL') {
      const details = Object.fromEntries(Object.entries(formatted.extensions ?? {}).filter(([k]) => !DROPPED.has(k) && k !== 'code'));
      return wireError(code, formatted.message, details, where);
    }
    if (typeof code === 'string' && QUERY_CODES.has(code)) return wireError('INVALID_QUERY', formatted.message, { graphqlCode: code }, where);
    if (typeof code === 'string' && REQUEST_CODES.has(code)) {
      return wireError(httpStatusOf(error) === 405 ? 'METHOD_NOT_ALLOWED' : 'REQUEST_INVALID', formatted.message, {}, where);
    }
    // An INTERNAL relayed from an in-process subgraph (Apollo's gateway adds `serviceName`) was
    // logged with its cause by that subgraph's data source; every other one is logged here.
    const relayed = code === 'INTERNAL' && formatted.extensions?.serviceName !== undefined;
    if (!relayed) {
      const seen = typeof code === 'string' && code !== 'INTERNAL' ? { graphqlCode: code } : {};
      masking.logger.error({ err: causeOf(error), code: 'INTERNAL', ...seen, path: formatted.path }, `masked an unexpected error in the ${masking.service}`);
    }
    return wireError('INTERNAL', internalMessage(masking.service), {}, { path: formatted.path });
  };
}
