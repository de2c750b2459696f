/**
 * Clamping and grid rounding of summed values (DESIGN §3: floats are released on a public grid).
 * The SQL statement and the oracle (`oracle.ts`) both use {@link gridUnits}, so they agree
 * exactly; the rounding itself is the privacy core's (`toGridUnits`), so node and gateway agree on
 * the grid the sensitivity is computed for.
 */
import { toGridUnits } from '../../schema/privacy/index.js';

export interface GridClamp {
  lo: number;
  hi: number;
  /** k: values are rounded to multiples of 2^k and reported in units of 2^k. */
  gridExponent: number;
}

/**
 * `value` clamped to [lo, hi], then rounded to the nearest multiple of 2^k (ties away from zero), in
 * units of 2^k (an integer). The result lies within the clamp bounds rounded outward to the grid
 * (`gridBounds`), which is what sum sensitivity is computed from.
 */
export function gridUnits(value: number, c: GridClamp): number {
  return toGridUnits(value, c.lo, c.hi, c.gridExponent);
}
