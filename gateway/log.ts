/** The gateway's logger: pino, JSON lines on stderr (stdout is reserved for machine-readable events). */
import { pino, type Logger } from 'pino';

/** A pino logger writing to stderr at `level` (`silent` disables it). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'accord-gateway' } }, pino.destination({ fd: 2, sync: true }));
}
