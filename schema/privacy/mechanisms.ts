/**
 * Noise mechanisms as values that carry their privacy map (in the manner of OpenDP's
 * measurements): a mechanism knows its exact noise parameter, how to draw noise, how much privacy
 * it spends for a given input sensitivity, and how accurate its output is.
 *
 * Discrete Laplace with scale t on an integer-valued query with L1 sensitivity Δ₁ is ε-DP with
 * ε = Δ₁/t (Ghosh, Roughgarden, Sundararajan 2009; CKS20 §2), i.e. ρ = ε²/2.
 * Discrete Gaussian with variance parameter σ² on an integer vector with L2 sensitivity Δ₂ is
 * ρ-zCDP with ρ = Δ₂²/(2σ²) (CKS20 Theorem 14; it applies coordinate-wise to vectors with
 * independent noise per coordinate, CKS20 §4).
 */
import { up } from './float.js';
import { defaultEntropy, type Entropy } from './entropy.js';
import { ceilOnGrid, ceilQuotientOnGrid, ceilRationalOnGrid, exactSquare, toNumber, type Rational, rational } from './rational.js';
import { DiscreteGaussianSampler, discreteLaplace } from './samplers.js';
import type { Sensitivity } from './sensitivity.js';
import { discreteGaussianAccuracy, discreteLaplaceAccuracy, type Accuracy } from './accuracy.js';
import type { PrivacyCharge } from './accountant.js';
import { validateEpsilon, validateRho, validateScale, validateSensitivity, validateSigma } from './validate.js';
import { AccordError } from '../errors.js';

/**
 * Noise parameters are rounded up (never less noise than asked) to a dyadic grid fine enough for a
 * relative precision of 2^-PRECISION_BITS: x ∈ [2^e, 2^(e+1)) is rounded up to a multiple of
 * 2^(e − PRECISION_BITS). For σ² this keeps 2·a·b·t² near 2^41, so the discrete Gaussian's
 * acceptance test stays on the exact double-precision fast path for every σ.
 */
export const PRECISION_BITS = 20;

/** Grid bits for a positive value x: 2^-bits ≤ 2^-PRECISION_BITS · x, within [0, maxBits]. */
export function gridBitsFor(x: number, maxBits: number): number {
  const e = Math.floor(Math.log2(x));
  return Math.min(maxBits, Math.max(0, PRECISION_BITS - e));
}

export type MechanismKind = 'discrete-laplace' | 'discrete-gaussian';

export interface NoiseMechanism {
  readonly kind: MechanismKind;
  /** t (Laplace) or σ (Gaussian), as a double for display. */
  readonly scale: number;
  /** The exact parameter: t for Laplace, σ² for Gaussian. */
  readonly param: Rational;
  /** Privacy map: the charge for a query with this sensitivity (rounded up). */
  charge(sensitivity: Sensitivity): PrivacyCharge;
  /** Pure ε for Laplace (undefined for Gaussian). */
  epsilon(sensitivity: Sensitivity): number | undefined;
  /** One integer noise draw. */
  sample(entropy?: Entropy): number;
  /** value + one noise draw; `value` must be a safe integer. */
  release(value: number, entropy?: Entropy): number;
  /** One independent draw per cell. */
  releaseVector(values: readonly number[], entropy?: Entropy): number[];
  /** Standard deviation and exact 95% interval half-width of one draw. */
  accuracy(): Accuracy;
}

function checkValue(value: number): void {
  if (!Number.isSafeInteger(value)) {
    throw new AccordError('INVALID_PARAMETER', 'A value to be noised must be a safe integer (sums are released in grid units).');
  }
}

function releaseWith(mech: NoiseMechanism, values: readonly number[], entropy: Entropy): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = mech.release(values[i]!, entropy);
  return out;
}

/** Discrete Laplace noise with exact rational scale t = num/den (num, den ≤ 2^40). */
export function makeDiscreteLaplace(scale: Rational): NoiseMechanism {
  if (scale.num <= 0n) throw new AccordError('INVALID_SCALE', 'The discrete Laplace scale must be positive.');
  if (scale.num > 1n << 40n || scale.den > 1n << 40n) {
    throw new AccordError('INVALID_SCALE', 'The discrete Laplace scale must be a rational with numerator and denominator ≤ 2^40.');
  }
  const t = Number(scale.num);
  const s = Number(scale.den);
  const scaleValue = t / s;
  validateScale(scaleValue);
  const epsilonFor = (sens: Sensitivity): number => {
    validateSensitivity(sens.l1, 'l1');
    // ε = Δ₁ / t = Δ₁ · s / t, rounded up.
    return sens.l1 === 0 ? 0 : up((sens.l1 * s) / t, 2);
  };
  const mech: NoiseMechanism = {
    kind: 'discrete-laplace',
    scale: scaleValue,
    param: scale,
    epsilon: epsilonFor,
    charge(sens) {
      const eps = epsilonFor(sens);
      return { rho: eps === 0 ? 0 : up((eps * eps) / 2), delta: 0 };
    },
    sample(entropy = defaultEntropy()) {
      return discreteLaplace(entropy, t, s);
    },
    release(value, entropy = defaultEntropy()) {
      checkValue(value);
      return value + discreteLaplace(entropy, t, s);
    },
    releaseVector(values, entropy = defaultEntropy()) {
      return releaseWith(mech, values, entropy);
    },
    accuracy() {
      return discreteLaplaceAccuracy(scaleValue);
    },
  };
  return Object.freeze(mech);
}

/** Discrete Gaussian noise with exact rational variance parameter σ². */
export function makeDiscreteGaussian(sigma2: Rational): NoiseMechanism {
  if (sigma2.num <= 0n) throw new AccordError('INVALID_SIGMA', 'σ² must be positive.');
  const sigma = Math.sqrt(toNumber(sigma2));
  validateSigma(sigma);
  const sampler = new DiscreteGaussianSampler(sigma2);
  const a = sigma2.num;
  const b = sigma2.den;
  const mech: NoiseMechanism = {
    kind: 'discrete-gaussian',
    scale: sigma,
    param: sigma2,
    epsilon: () => undefined,
    charge(sens) {
      validateSensitivity(sens.l2Squared, 'l2Squared');
      if (sens.l2Squared === 0) return { rho: 0, delta: 0 };
      // ρ = Δ₂² / (2σ²) = Δ₂² · b / (2a), exact in bigint then rounded up to a double.
      const num = BigInt(sens.l2Squared) * b;
      const den = 2n * a;
      const rho = toNumber(rational(num, den));
      return { rho: up(rho, 2), delta: 0 };
    },
    sample(entropy = defaultEntropy()) {
      return sampler.sample(entropy);
    },
    release(value, entropy = defaultEntropy()) {
      checkValue(value);
      return value + sampler.sample(entropy);
    },
    releaseVector(values, entropy = defaultEntropy()) {
      return releaseWith(mech, values, entropy);
    },
    accuracy() {
      return discreteGaussianAccuracy(sigma);
    },
  };
  return Object.freeze(mech);
}

/** r + 2^-bits. */
function addGridStep(r: Rational, bits: number): Rational {
  const d = 1n << BigInt(bits);
  return rational(r.num * d + r.den, r.den * d);
}

/** Discrete Laplace with scale t given as a double (rounded up to the relative 2^-20 grid). */
export function discreteLaplaceWithScale(t: number): NoiseMechanism {
  validateScale(t);
  return makeDiscreteLaplace(ceilOnGrid(t, gridBitsFor(t, 40)));
}

/** Discrete Gaussian with σ given as a double (σ² rounded up to the relative 2^-20 grid). */
export function discreteGaussianWithSigma(sigma: number): NoiseMechanism {
  validateSigma(sigma);
  return makeDiscreteGaussian(ceilRationalOnGrid(exactSquare(sigma), gridBitsFor(sigma * sigma, 80)));
}

/**
 * Inverse privacy map for pure DP: the discrete Laplace with the smallest scale on the relative 2^-20 grid
 * such that a query of this sensitivity is ε-DP: t = ⌈Δ₁/ε⌉ on the grid.
 */
export function laplaceForEpsilon(epsilon: number, sensitivity: Sensitivity): NoiseMechanism {
  validateEpsilon(epsilon);
  const l1 = validateSensitivity(sensitivity.l1, 'l1');
  if (l1 === 0) throw new AccordError('INVALID_SENSITIVITY', 'A zero-sensitivity query needs no noise; refusing to build a mechanism for it.');
  const bits = gridBitsFor(l1 / epsilon, 40);
  let t = ceilQuotientOnGrid(BigInt(l1), epsilon, bits);
  let mech = makeDiscreteLaplace(t);
  // The charge is rounded up; step the scale up by grid steps until the rounded charge is within the target too.
  while (mech.epsilon(sensitivity)! > epsilon) {
    t = addGridStep(t, bits);
    mech = makeDiscreteLaplace(t);
  }
  return mech;
}

/**
 * Inverse privacy map for zCDP: the discrete Gaussian with the smallest σ² on the relative 2^-20 grid such
 * that a query of this sensitivity is ρ-zCDP: σ² = ⌈Δ₂²/(2ρ)⌉ on the grid.
 */
export function gaussianForRho(rho: number, sensitivity: Sensitivity): NoiseMechanism {
  validateRho(rho);
  const l2s = validateSensitivity(sensitivity.l2Squared, 'l2Squared');
  if (l2s === 0) throw new AccordError('INVALID_SENSITIVITY', 'A zero-sensitivity query needs no noise; refusing to build a mechanism for it.');
  const bits = gridBitsFor(l2s / (2 * rho), 80);
  let sigma2 = ceilQuotientOnGrid(BigInt(l2s), 2 * rho, bits);
  let mech = makeDiscreteGaussian(sigma2);
  // The charge is rounded up; step σ² up until the rounded charge is within the target too, so a
  // ledger that compares charges with caps sees exactly the ρ it asked for or less.
  while (mech.charge(sensitivity).rho > rho) {
    sigma2 = addGridStep(sigma2, bits);
    mech = makeDiscreteGaussian(sigma2);
  }
  return mech;
}
