/**
 * Validation of privacy parameters. Each function returns its input when it is acceptable and
 * throws an {@link AccordError} with a stable code otherwise. "Absurd" values (an ε that protects
 * nobody, a δ that is a coin flip) are refused, not clamped.
 */
import { AccordError, type ErrorCode } from '../errors.js';

export const LIMITS = Object.freeze({
  maxEpsilon: 50,
  maxRho: 50,
  maxDelta: 0.01,
  maxScale: 1e9,
  maxSigma: 1e7,
  maxPartitions: 10_000,
  maxPerPartition: 1_000_000,
  maxMultiplicity: 1_000,
  maxAbsClamp: 2 ** 40,
  minGridExponent: -30,
  maxGridExponent: 30,
});

function describe(x: unknown): string {
  if (typeof x !== 'number') return `a ${typeof x}`;
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  return String(x);
}

function positiveAtMost(x: unknown, max: number, code: ErrorCode, what: string, hint: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0 || x > max) {
    throw new AccordError(code, `${what} must be a finite number in (0, ${max}]; got ${describe(x)}. ${hint}`, { parameter: what });
  }
  return x;
}

/** ε for pure differential privacy: finite, in (0, 50]. */
export function validateEpsilon(epsilon: unknown): number {
  return positiveAtMost(epsilon, LIMITS.maxEpsilon, 'INVALID_EPSILON', 'epsilon', 'Typical per-query values are 0.01–1.');
}

/** ρ for zero-concentrated DP: finite, in (0, 50]. */
export function validateRho(rho: unknown): number {
  return positiveAtMost(rho, LIMITS.maxRho, 'INVALID_RHO', 'rho', 'Typical per-query values are 0.001–0.5.');
}

/** δ: finite, in (0, 0.01]. */
export function validateDelta(delta: unknown): number {
  return positiveAtMost(delta, LIMITS.maxDelta, 'INVALID_DELTA', 'delta', 'Use a δ far below 1/(number of organisations), e.g. 1e-6 to 1e-10.');
}

/** A discrete Laplace scale t: finite, in (0, 1e9]. */
export function validateScale(scale: unknown): number {
  return positiveAtMost(scale, LIMITS.maxScale, 'INVALID_SCALE', 'scale', 'The scale is the noise parameter t of the discrete Laplace.');
}

/** A discrete Gaussian σ: finite, in (0, 1e7]. */
export function validateSigma(sigma: unknown): number {
  return positiveAtMost(sigma, LIMITS.maxSigma, 'INVALID_SIGMA', 'sigma', 'σ is the standard-deviation parameter of the discrete Gaussian.');
}

/** A sensitivity: a finite, non-negative safe integer (sensitivities are in integer units). */
export function validateSensitivity(value: unknown, what = 'sensitivity'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new AccordError('INVALID_SENSITIVITY', `${what} must be a non-negative integer (in grid units); got ${describe(value)}.`, { parameter: what });
  }
  return value;
}

/** An integer in [min, max], else INVALID_BOUNDS naming the field. */
export function validateIntegerBound(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new AccordError('INVALID_BOUNDS', `${what} must be an integer in [${min}, ${max}]; got ${describe(value)}.`, { parameter: what });
  }
  return value;
}
