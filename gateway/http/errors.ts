/**
 * Error masking for everything the gateway sends to clients: the shared mapping of
 * `runtime/graphql-errors.ts` under the service name `gateway` (INTERNAL says the gateway log has
 * the details, and is logged there with its cause).
 */
import type { GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { makeFormatError as makeServiceFormatError } from '../../runtime/graphql-errors.js';

/** An Apollo Server `formatError` for the gateway. Never throws. */
export function makeFormatError(logger: Logger): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return makeServiceFormatError({ logger, service: 'gateway' });
}
