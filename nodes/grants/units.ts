/**
 * Fixed-point privacy units for the node's ledger: ρ and δ are stored as integer multiples of
 * 10⁻¹² ("pico" units) so that sums are exact and comparisons in SQL cannot drift. A charge is
 * rounded UP to the next unit and a cap DOWN, so rounding never lets the node spend more than its
 * operator allowed.
 *
 * The conversion starts from the number's shortest round-trip decimal (what JSON carries, e.g.
 * `0.1`), not from its binary expansion: a grant that says `"rho":0.1` charges exactly 10¹¹ units.
 */

/** Ledger units per 1 ρ (or δ). */
export const UNITS_PER_RHO = 1_000_000_000_000n;

/** Largest cap accepted, in ρ: keeps every stored sum below 2⁵³ (exact as a JS number). */
export const MAX_CAP_RHO = 1000;

const DECIMAL = /^(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/;

function decimalParts(x: number): { digits: bigint; exponent: number } {
  const m = DECIMAL.exec(String(x));
  if (!m) throw new RangeError('expected a finite non-negative number');
  const frac = m[2] ?? '';
  return { digits: BigInt(m[1]! + frac), exponent: Number(m[3] ?? 0) - frac.length };
}

function toUnits(x: number, up: boolean): number {
  if (!Number.isFinite(x) || x < 0) throw new RangeError('expected a finite non-negative number');
  const { digits, exponent } = decimalParts(x);
  const shift = exponent + 12;
  let units: bigint;
  if (shift >= 0) units = digits * 10n ** BigInt(shift);
  else {
    const div = 10n ** BigInt(-shift);
    units = digits / div;
    if (up && digits % div !== 0n) units += 1n;
  }
  if (units > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('value too large for the ledger');
  return Number(units);
}

/**
 * `x` in ledger units, rounded up (for charges). Throws RangeError for a negative, non-finite or
 * too large value (callers validate first).
 */
export function unitsUp(x: number): number {
  return toUnits(x, true);
}

/** `x` in ledger units, rounded down (for caps). Throws RangeError like {@link unitsUp}. */
export function unitsDown(x: number): number {
  return toUnits(x, false);
}

/** Ledger units back to ρ (or δ), as the nearest double, for reports. */
export function fromUnits(units: number | bigint | string): number {
  const u = BigInt(units);
  const whole = u / UNITS_PER_RHO;
  const frac = (u % UNITS_PER_RHO).toString().padStart(12, '0').replace(/0+$/, '');
  return Number(frac.length > 0 ? `${whole}.${frac}` : `${whole}`);
}
