/**
 * Fixed-point privacy amounts, the one unit system of every ledger in Accord (the gateway's and
 * each node's own): ρ in pico-units (10⁻¹²) and δ in femto-units (10⁻¹⁵), stored as integers so
 * that sums and SQL comparisons are exact. δ needs the finer unit: a query's δ can be about 5·10⁻⁷
 * and a cap about 10⁻⁵, where a pico-unit would be a relative error of 10⁻⁶ per charge.
 *
 * Rounding never favours the releaser (as arithmetic on privacy loss everywhere in this core):
 * - a **charge** rounds UP from the exact binary value of the double — the value every privacy
 *   computation produced — so a ledger never records less than was spent, whatever decimal the
 *   number prints as (0.1 charges 10¹¹ + 1 pico-ρ: the double 0.1 is slightly above one tenth);
 * - a **cap** comes from people, who write decimals, so it means the decimal it prints as, rounded
 *   DOWN past the last unit.
 *
 * Gateway and node agree without trusting each other's formatting: the gateway records
 * U = chargeUnits(x), signs the grant with fromUnits(U) (the double nearest to U units), and the
 * node records chargeUnits of that double. For U ≤ 10¹⁵ that double lies within U·2⁻⁵³ < 0.12 of a
 * unit from U units, so the node records U or U + 1 — never less than the gateway, at most one
 * unit (10⁻¹² ρ, 10⁻¹⁵ δ) more per grant, and every cap is checked against what its own ledger
 * recorded.
 *
 * Throws AccordError('INVALID_PARAMETER') for a charge and AccordError('CONFIG_INVALID') for a cap
 * that is not a finite number in [0, MAX_RHO] (ρ) or [0, MAX_DELTA] (δ). Pure: no I/O.
 */
import { AccordError, type ErrorCode } from '../errors.js';
import { exactDyadic } from './float.js';
import { ceilDiv } from './rational.js';

/** Units per ρ (pico-ρ). */
export const RHO_UNITS = 1_000_000_000_000n;
/** Units per δ (femto-δ). */
export const DELTA_UNITS = 1_000_000_000_000_000n;

/** Largest amount in one ledger row: 1,000 ρ (10¹⁵ pico-ρ) or δ = 1 (10¹⁵ femto-δ), both below 2⁵³. */
export const MAX_RHO = 1_000;
export const MAX_DELTA = 1;

/** A privacy amount in ledger units (safe integers). */
export interface Units {
  rho: number;
  delta: number;
}

/** ⌈x · scale⌉ from the exact binary value of x (x finite, ≥ 0). */
function ceilScaled(x: number, scale: bigint): bigint {
  const { mantissa, exponent } = exactDyadic(x);
  if (exponent >= 0) return mantissa * scale * (1n << BigInt(exponent));
  return ceilDiv(mantissa * scale, 1n << BigInt(-exponent));
}

/** ⌊decimal(x) · scale⌋ where decimal(x) is the shortest decimal that prints as x (x finite, ≥ 0). */
function floorDecimalScaled(x: number, scale: bigint): bigint {
  const [coefficient, exponentPart] = x.toExponential().split('e') as [string, string];
  const [whole, fraction = ''] = coefficient.split('.') as [string, string?];
  const digits = BigInt(whole + fraction);
  const exponent = Number(exponentPart) - fraction.length; // x = digits × 10^exponent
  if (exponent >= 0) return digits * 10n ** BigInt(exponent) * scale;
  return (digits * scale) / 10n ** BigInt(-exponent);
}

/** ⌈x · scale⌉ for a charge, after checking x is in [0, max]. Throws AccordError('INVALID_PARAMETER'). */
function charged(name: string, x: number, max: number, scale: bigint): number {
  check('INVALID_PARAMETER', name, x, max);
  return Number(ceilScaled(x, scale));
}

/** ⌊decimal(x) · scale⌋ for a cap, after checking x is in [0, max]. Throws AccordError('CONFIG_INVALID'). */
function capped(name: string, x: number, max: number, scale: bigint): number {
  check('CONFIG_INVALID', name, x, max);
  return Number(floorDecimalScaled(x, scale));
}

function check(code: ErrorCode, name: string, x: number, max: number): void {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > max) {
    throw new AccordError(code, `${name} must be a number in [0, ${max}].`);
  }
}

/** ρ of a charge in pico-units, rounded up. Throws INVALID_PARAMETER outside [0, MAX_RHO]. */
export const rhoChargeUnits = (rho: number): number => charged('ρ', rho, MAX_RHO, RHO_UNITS);

/** δ of a charge in femto-units, rounded up. Throws INVALID_PARAMETER outside [0, MAX_DELTA]. */
export const deltaChargeUnits = (delta: number): number => charged('δ', delta, MAX_DELTA, DELTA_UNITS);

/** A ρ cap in pico-units (the decimal as written, rounded down). Throws CONFIG_INVALID outside [0, MAX_RHO]. */
export const rhoCapUnits = (rho: number): number => capped('ρ', rho, MAX_RHO, RHO_UNITS);

/** A δ cap in femto-units (the decimal as written, rounded down). Throws CONFIG_INVALID outside [0, MAX_DELTA]. */
export const deltaCapUnits = (delta: number): number => capped('δ', delta, MAX_DELTA, DELTA_UNITS);

/** A charge in ledger units, rounded up; throws like {@link rhoChargeUnits} and {@link deltaChargeUnits}. */
export function chargeUnits(charge: { rho: number; delta: number }): Units {
  return { rho: rhoChargeUnits(charge.rho), delta: deltaChargeUnits(charge.delta) };
}

/** A cap or allocation in ledger units, rounded down; throws like {@link rhoCapUnits} and {@link deltaCapUnits}. */
export function capUnits(cap: { rho: number; delta: number }): Units {
  return { rho: rhoCapUnits(cap.rho), delta: deltaCapUnits(cap.delta) };
}

/** Pico-units back to ρ: the double nearest to the exact amount (for reports and grants). */
export function rhoFromUnits(units: number): number {
  return units / Number(RHO_UNITS);
}

/** Femto-units back to δ: the double nearest to the exact amount. */
export function deltaFromUnits(units: number): number {
  return units / Number(DELTA_UNITS);
}

/** Ledger units back to numbers (ρ, δ), each the double nearest to the exact amount. */
export function fromUnits(u: Units): { rho: number; delta: number } {
  return { rho: rhoFromUnits(u.rho), delta: deltaFromUnits(u.delta) };
}
