/**
 * Fixed-point privacy amounts for the ledger: ρ in pico-units (1e-12) and δ in femto-units
 * (1e-15), stored as BIGINT so that sums are exact. Charges round **up** from the exact value of
 * the double (a charge is never recorded below what was spent); caps come from people, who write
 * decimals, so a cap means the decimal it prints as (rounded down past the last unit).
 */
import { AccordError } from '../../schema/errors.js';

/** Units per ρ (pico-ρ). */
export const RHO_UNITS = 1_000_000_000_000n;
/** Units per δ (femto-δ). */
export const DELTA_UNITS = 1_000_000_000_000_000n;

/** Largest amount the ledger holds in one row: 1,000 ρ (1e15 pico-ρ) or δ = 1, both below 2^53. */
export const MAX_RHO = 1_000;
export const MAX_DELTA = 1;

/** A privacy amount in ledger units (safe integers). */
export interface Units {
  rho: number;
  delta: number;
}

/** The exact value of a finite non-negative double as numerator / 2^exp. */
function exactBinary(x: number): { mantissa: bigint; exp: bigint } {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  const rawExp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & 0xfffffffffffffn;
  if (rawExp === 0) return { mantissa: frac, exp: 1074n }; // subnormal: frac × 2^-1074
  return { mantissa: frac | (1n << 52n), exp: BigInt(1075 - rawExp) }; // (1.frac) × 2^(e-1023) = m × 2^-(1075-e)
}

/** ⌈x · scale⌉ computed exactly from the double's binary value. */
function ceilScaled(x: number, scale: bigint): bigint {
  const { mantissa, exp } = exactBinary(x);
  if (exp <= 0n) return mantissa * scale * (1n << -exp);
  const num = mantissa * scale;
  const den = 1n << exp;
  return (num + den - 1n) / den;
}

/** ⌊decimal(x) · scale⌋ where decimal(x) is the shortest decimal that prints as x. */
function floorDecimalScaled(x: number, scale: bigint): bigint {
  const [coef, expPart] = x.toExponential().split('e') as [string, string];
  const [int, frac = ''] = coef.split('.') as [string, string?];
  const digits = BigInt(int + frac);
  const e = Number(expPart) - frac.length; // x = digits × 10^e
  if (e >= 0) return digits * 10n ** BigInt(e) * scale;
  return (digits * scale) / 10n ** BigInt(-e);
}

function check(name: string, x: number, max: number): void {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > max) {
    throw new AccordError('CONFIG_INVALID', `${name} must be a number in [0, ${max}].`);
  }
}

/** A charge in ledger units, rounded up. Throws AccordError('CONFIG_INVALID') outside [0, max]. */
export function chargeUnits(charge: { rho: number; delta: number }): Units {
  check('ρ', charge.rho, MAX_RHO);
  check('δ', charge.delta, MAX_DELTA);
  return { rho: Number(ceilScaled(charge.rho, RHO_UNITS)), delta: Number(ceilScaled(charge.delta, DELTA_UNITS)) };
}

/** A cap or allocation in ledger units (the decimal as written, rounded down). Throws CONFIG_INVALID. */
export function capUnits(cap: { rho: number; delta: number }): Units {
  check('ρ', cap.rho, MAX_RHO);
  check('δ', cap.delta, MAX_DELTA);
  return { rho: Number(floorDecimalScaled(cap.rho, RHO_UNITS)), delta: Number(floorDecimalScaled(cap.delta, DELTA_UNITS)) };
}

/** Ledger units back to numbers for display (ρ, δ). */
export function fromUnits(u: Units): { rho: number; delta: number } {
  return { rho: u.rho / Number(RHO_UNITS), delta: u.delta / Number(DELTA_UNITS) };
}

/** A database integer (number, bigint or decimal string) as a safe JS integer. Throws INTERNAL otherwise. */
export function dbInt(v: unknown): number {
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'string' ? Number(v) : (v as number);
  if (!Number.isSafeInteger(n)) throw new AccordError('INTERNAL', 'A ledger amount read from the database is not a safe integer.');
  return n;
}
