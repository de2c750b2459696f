/**
 * Means as post-processing of two noisy releases: mean = noisy clamped sum / noisy bounded count.
 * The budget ρ is split: `sumShare`·ρ for the sum (in grid units) and (1 − sumShare)·ρ for the count;
 * by sequential composition the pair is ρ-zCDP. Default split ½ / ½.
 */
import { compose, type PrivacyCharge } from './accountant.js';
import { down } from './float.js';
import { gaussianForRho, type NoiseMechanism } from './mechanisms.js';
import { countSensitivity, sumSensitivity, validateBounds, type ContributionBoundsSpec, type Sensitivity } from './sensitivity.js';
import { AccordError } from '../errors.js';
import { validateRho } from './validate.js';

export interface MeanPlan {
  readonly sum: NoiseMechanism;
  readonly count: NoiseMechanism;
  readonly sumSensitivity: Sensitivity;
  readonly countSensitivity: Sensitivity;
  /** Share of ρ given to the sum. */
  readonly sumShare: number;
  /** The composed charge of both releases (≤ ρ). */
  readonly charge: PrivacyCharge;
}

export function planMean(rho: number, bounds: ContributionBoundsSpec, sumShare = 0.5): MeanPlan {
  validateRho(rho);
  if (!(sumShare > 0 && sumShare < 1)) throw new AccordError('INVALID_PARAMETER', 'sumShare must be strictly between 0 and 1.');
  validateBounds(bounds);
  const sSens = sumSensitivity(bounds);
  const cSens = countSensitivity(bounds);
  const sum = gaussianForRho(down(rho * sumShare), sSens);
  const count = gaussianForRho(down(rho * (1 - sumShare)), cSens);
  return { sum, count, sumSensitivity: sSens, countSensitivity: cSens, sumShare, charge: compose(sum.charge(sSens), count.charge(cSens)) };
}

/**
 * The mean from a noisy sum (grid units) and a noisy count, clamped into [lo, hi] (post-processing,
 * no privacy cost). Null when the noisy count is < 1: there is no meaningful mean to report.
 */
export function meanFromNoisy(noisySumUnits: number, noisyCount: number, gridExponent: number, clamp: { lo: number; hi: number }): number | null {
  if (noisyCount < 1) return null;
  const mean = (noisySumUnits * 2 ** gridExponent) / noisyCount;
  return Math.min(clamp.hi, Math.max(clamp.lo, mean));
}
