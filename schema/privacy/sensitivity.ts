/**
 * Contribution bounds and the sensitivities they imply (DESIGN §3).
 *
 * The privacy unit is an organisation within a node. A node bounds each unit's influence, from
 * public parameters only: at most L0 = `maxPartitions` groups, at most L∞ = `maxPerPartition` rows
 * per group, each value clamped to [lo, hi] and rounded to the public grid 2^k. A unit that may
 * appear in up to K nodes (`multiplicity`) can be bounded K times over.
 *
 * Neighbouring datasets differ by adding or removing one unit with all its records. Writing
 * M for the largest |value| a row may contribute (1 for counts; max(|lo′|, |hi′|)/2^k grid units
 * for sums, lo′ ≤ lo and hi′ ≥ hi the clamp bounds rounded outward to the grid), the change to the
 * histogram of per-group totals satisfies
 *   per group:        |Δ_g| ≤ K · L∞ · M                 (lInf)
 *   groups touched:   ≤ K · L0                           (l0)
 *   L1:               Σ |Δ_g| ≤ K · L0 · L∞ · M          (l1)
 *   L2²:              Σ Δ_g² ≤ max|Δ_g| · Σ|Δ_g| = K² · L0 · L∞² · M²   (l2Squared)
 * all integers. Rounding a clamped value to the nearest grid point keeps it within [lo′, hi′], so
 * the grid rounding is accounted for in M.
 */
import { AccordError } from '../errors.js';
import { LIMITS, validateIntegerBound } from './validate.js';

export interface ContributionBoundsSpec {
  /** L0: the most groups one unit may contribute to. Integer ≥ 1. */
  readonly maxPartitions: number;
  /** L∞: the most rows one unit may contribute to one group. Integer ≥ 1. */
  readonly maxPerPartition: number;
  /** Clamp for summed values (sum measures only). */
  readonly clamp?: { readonly lo: number; readonly hi: number };
  /** Sums are released on multiples of 2^gridExponent (default 0: integers). */
  readonly gridExponent?: number;
  /** K: the number of nodes one unit may appear in (default 1). */
  readonly multiplicity?: number;
}

export interface Sensitivity {
  /** Most groups one unit can change. */
  readonly l0: number;
  /** Most one unit can change one group (in integer units). */
  readonly lInf: number;
  /** L1 sensitivity of the histogram. */
  readonly l1: number;
  /** Squared L2 sensitivity of the histogram (an integer, so no square root is ever rounded). */
  readonly l2Squared: number;
}

/** Checks bounds and returns them with defaults filled; throws INVALID_BOUNDS naming the field. */
export function validateBounds(bounds: ContributionBoundsSpec): Required<Omit<ContributionBoundsSpec, 'clamp'>> & Pick<ContributionBoundsSpec, 'clamp'> {
  if (bounds === null || typeof bounds !== 'object') throw new AccordError('INVALID_BOUNDS', 'Contribution bounds must be an object.');
  const maxPartitions = validateIntegerBound(bounds.maxPartitions, 'maxPartitions', 1, LIMITS.maxPartitions);
  const maxPerPartition = validateIntegerBound(bounds.maxPerPartition, 'maxPerPartition', 1, LIMITS.maxPerPartition);
  const gridExponent = validateIntegerBound(bounds.gridExponent ?? 0, 'gridExponent', LIMITS.minGridExponent, LIMITS.maxGridExponent);
  const multiplicity = validateIntegerBound(bounds.multiplicity ?? 1, 'multiplicity', 1, LIMITS.maxMultiplicity);
  let clamp: { lo: number; hi: number } | undefined;
  if (bounds.clamp !== undefined) {
    const { lo, hi } = bounds.clamp;
    for (const [name, v] of [['clamp.lo', lo], ['clamp.hi', hi]] as const) {
      if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > LIMITS.maxAbsClamp) {
        throw new AccordError('INVALID_BOUNDS', `${name} must be a finite number with |value| ≤ 2^40.`, { parameter: name });
      }
    }
    if (lo > hi) throw new AccordError('INVALID_BOUNDS', 'clamp.lo must not exceed clamp.hi.', { parameter: 'clamp' });
    clamp = { lo, hi };
  }
  return { maxPartitions, maxPerPartition, gridExponent, multiplicity, clamp };
}

/**
 * The clamp interval rounded outward to the grid 2^k, in grid units, and the largest absolute
 * grid value a row can take. A value v ∈ [lo, hi] rounded to the nearest multiple of 2^k lies in
 * [lo′, hi′].
 */
export function gridBounds(lo: number, hi: number, k: number): { lo: number; hi: number; maxAbsUnits: number } {
  if (!(lo <= hi)) throw new AccordError('INVALID_BOUNDS', 'clamp.lo must not exceed clamp.hi.', { parameter: 'clamp' });
  const step = 2 ** k; // exact: k is an integer in [-30, 30]
  const loUnits = Math.floor(lo / step); // lo/step is exact (division by a power of two)
  const hiUnits = Math.ceil(hi / step);
  return { lo: loUnits, hi: hiUnits, maxAbsUnits: Math.max(Math.abs(loUnits), Math.abs(hiUnits)) };
}

/** Round a value to the nearest grid point (ties away from zero), in grid units, after clamping. */
export function toGridUnits(value: number, lo: number, hi: number, k: number): number {
  const clamped = Math.min(hi, Math.max(lo, value));
  const scaled = clamped / 2 ** k;
  return Math.sign(scaled) * Math.round(Math.abs(scaled));
}

function checkedProduct(factors: number[], what: string): number {
  let p = 1;
  for (const f of factors) p *= f;
  if (!Number.isSafeInteger(p)) {
    throw new AccordError('INVALID_BOUNDS', `The bounds make the ${what} sensitivity too large to account exactly; lower maxPartitions, maxPerPartition or the clamp.`);
  }
  return p;
}

function fromPerRowMax(b: ReturnType<typeof validateBounds>, m: number): Sensitivity {
  const k = b.multiplicity;
  const lInf = checkedProduct([k, b.maxPerPartition, m], 'per-group');
  const l0 = checkedProduct([k, b.maxPartitions], 'L0');
  const l1 = checkedProduct([k, b.maxPartitions, b.maxPerPartition, m], 'L1');
  const l2Squared = checkedProduct([lInf, l1], 'L2');
  return { l0, lInf, l1, l2Squared };
}

/** Sensitivity of a histogram of bounded counts (each row counts 1). */
export function countSensitivity(bounds: ContributionBoundsSpec): Sensitivity {
  return fromPerRowMax(validateBounds(bounds), 1);
}

/** Sensitivity of a histogram of clamped sums, in grid units (2^gridExponent). Needs `clamp`. */
export function sumSensitivity(bounds: ContributionBoundsSpec): Sensitivity {
  const b = validateBounds(bounds);
  if (!b.clamp) throw new AccordError('INVALID_BOUNDS', 'A sum needs clamp bounds [lo, hi].', { parameter: 'clamp' });
  const g = gridBounds(b.clamp.lo, b.clamp.hi, b.gridExponent);
  return fromPerRowMax(b, g.maxAbsUnits);
}
