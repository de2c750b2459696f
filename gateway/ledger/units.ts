/**
 * The ledger's fixed-point amounts: the one unit system of `schema/privacy/units.ts` (ρ in
 * pico-units, δ in femto-units; charges rounded up, caps down), and reading them back from the
 * database.
 */
import { AccordError } from '../../schema/errors.js';

export { capUnits, chargeUnits, DELTA_UNITS, fromUnits, MAX_DELTA, MAX_RHO, RHO_UNITS, type Units } from '../../schema/privacy/units.js';

/** A database integer (number, bigint or decimal string) as a safe JS integer. Throws INTERNAL otherwise. */
export function dbInt(v: unknown): number {
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'string' ? Number(v) : (v as number);
  if (!Number.isSafeInteger(n)) throw new AccordError('INTERNAL', 'A ledger amount read from the database is not a safe integer.');
  return n;
}
