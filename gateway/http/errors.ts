/**
 * Error masking for everything the gateway sends to clients.
 *
 * A client sees either a catalog error (code from schema/errors.ts, its message, and safe details
 * such as which nodes were missing), a standard GraphQL request error (parse, validation, bad
 * input), or `INTERNAL` with a fixed message — never a stack trace, a node URL or a number from a
 * partial. Masked errors are logged in full.
 */
import type { GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { ERROR_CATALOG } from '../../schema/errors.js';

/** Apollo Server's request-level codes that describe the client's own request. */
const REQUEST_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/** Extension keys that are plumbing, not information for the client. */
const DROPPED = new Set(['serviceName', 'stacktrace', 'exception', 'http']);

export const INTERNAL_MESSAGE = 'Internal error; the gateway log has the details.';

/** An Apollo Server `formatError` that applies the masking rules above. Never throws. */
export function makeFormatError(logger: Logger): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted, error) => {
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && ((code in ERROR_CATALOG && code !== 'INTERNAL') || REQUEST_CODES.has(code))) {
      const extensions = Object.fromEntries(Object.entries(formatted.extensions ?? {}).filter(([k]) => !DROPPED.has(k)));
      return { ...formatted, extensions };
    }
    if (code !== 'INTERNAL') logger.error({ err: error, code }, 'masked an unexpected error');
    return { message: INTERNAL_MESSAGE, ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: 'INTERNAL' } };
  };
}
