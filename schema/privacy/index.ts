/**
 * Accord's privacy core: exact discrete samplers, mechanisms with privacy maps, contribution
 * bounds and sensitivities, partition selection, and ρ-zCDP accounting. Pure: no I/O, no framework;
 * only `entropy.ts` touches `node:crypto`. See docs/privacy.md.
 */
export { Entropy, defaultEntropy, cryptoByteSource, type ByteSource } from './entropy.js';
export { rational, toNumber, type Rational } from './rational.js';
export {
  uniformInt,
  uniformBig,
  bernoulli,
  bernoulliExpNeg,
  geometric,
  geometricExpNeg,
  discreteLaplace,
  discreteGaussian,
  DiscreteGaussianSampler,
  shuffle,
} from './samplers.js';
export {
  validateBounds,
  countSensitivity,
  sumSensitivity,
  gridBounds,
  toGridUnits,
  type ContributionBoundsSpec,
  type Sensitivity,
} from './sensitivity.js';
export { CONFIDENCE, discreteGaussianAccuracy, discreteLaplaceAccuracy, noiseHalfWidth, type Accuracy } from './accuracy.js';
export {
  PRECISION_BITS,
  gridBitsFor,
  makeDiscreteLaplace,
  makeDiscreteGaussian,
  discreteLaplaceWithScale,
  discreteGaussianWithSigma,
  laplaceForEpsilon,
  gaussianForRho,
  type NoiseMechanism,
  type MechanismKind,
} from './mechanisms.js';
export {
  ZERO_CHARGE,
  Accountant,
  compose,
  epsilonToRho,
  rhoToEpsilon,
  rhoToEpsilonBS,
  rhoToEpsilonCKS,
  cksBestOrder,
  cksEpsilonAt,
  chargeToDp,
  type PrivacyCharge,
} from './accountant.js';
export { partitionThreshold, selectPartitions } from './partition-selection.js';
export { down, up } from './float.js';
export { planMean, meanFromNoisy, type MeanPlan } from './mean.js';
export { LIMITS, validateEpsilon, validateRho, validateDelta, validateScale, validateSigma, validateSensitivity } from './validate.js';
