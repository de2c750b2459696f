/** The gateway's logger: the shared factory (`runtime/log.ts`) under the service name `accord-gateway`. */
import type { Logger } from 'pino';
import { createLogger as createServiceLogger } from '../runtime/log.js';

/** A pino logger writing JSON lines to stderr at `level` (`silent` disables it). */
export function createLogger(level: string): Logger {
  return createServiceLogger('accord-gateway', level);
}
