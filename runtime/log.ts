/**
 * The one logger factory: pino, JSON lines on stderr (stdout stays free for machine-readable
 * output), a `service` field on every line, and the caller's level (`silent` disables it).
 * Never throws for a known pino level; pino throws for an unknown one.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export interface LoggerOptions {
  /** Fields added to every line besides `service` (e.g. the node's id). */
  base?: Record<string, unknown>;
  /**
   * Write each line before returning (default true): nothing is lost when the process exits on an
   * error. A node serving many requests passes false and lets pino buffer.
   */
  sync?: boolean;
  /** Where to write instead of stderr (tests capture the log this way). */
  destination?: DestinationStream;
}

/** A pino logger for `service` at `level`. */
export function createLogger(service: string, level: string, options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? pino.destination({ fd: 2, sync: options.sync ?? true });
  return pino({ level, base: { service, ...options.base } }, destination);
}
