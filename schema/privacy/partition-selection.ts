/**
 * Differentially private partition selection by thresholding, for group keys that come from node
 * data rather than a public domain (Korolova et al. 2009; Wilson et al. 2020 "Differentially
 * private SQL with bounded user contribution", §3; Google DP library's partition selection).
 *
 * Noisy totals are computed for every key the data holds; a key is released (with its noisy total)
 * only if the noisy total is ≥ τ. On neighbouring datasets, the keys present in both are handled by
 * the noise mechanism's own guarantee. The keys present only because of the extra unit number at
 * most l0, each with a true total ≤ lInf; τ is chosen so that each is released with probability at
 * most δ/l0, so none is released except with probability ≤ δ (union bound). The whole release is
 * therefore (ρ, δ)-approximate zCDP (resp. (ε, δ)-DP for Laplace noise).
 *
 * Tails used (both upper bounds, so τ is never too low):
 *   discrete Laplace, scale t, q = e^(−1/t):  P[Z ≥ x] = q^x / (1 + q) ≤ e^(−x/t)          (x ≥ 1)
 *   discrete Gaussian N_ℤ(0, σ²):             P[Z ≥ x] ≤ e^(−x²/2σ²)   (sub-Gaussianity, CKS20 §2)
 */
import { down } from './float.js';
import { defaultEntropy, type Entropy } from './entropy.js';
import type { NoiseMechanism } from './mechanisms.js';
import { shuffle } from './samplers.js';
import type { Sensitivity } from './sensitivity.js';
import { validateDelta, validateSensitivity } from './validate.js';
import { toNumber } from './rational.js';

/** A relative margin well above the floating-point error of the expressions below. */
const MARGIN = 1 + 1e-9;

/**
 * τ such that a key whose true total is ≤ lInf is released with probability ≤ δ / l0.
 * Throws INVALID_DELTA / INVALID_SENSITIVITY for bad inputs.
 */
export function partitionThreshold(mech: NoiseMechanism, sensitivity: Sensitivity, delta: number): number {
  validateDelta(delta);
  const l0 = validateSensitivity(sensitivity.l0, 'l0');
  const lInf = validateSensitivity(sensitivity.lInf, 'lInf');
  const perKey = down(delta / Math.max(1, l0), 2);
  const logInv = -Math.log(perKey);
  let x: number;
  if (mech.kind === 'discrete-laplace') {
    // q^x/(1+q) ≤ e^(−x/t) ≤ perKey  ⇐  x ≥ t · ln(1/perKey)
    x = Math.ceil(mech.scale * logInv * MARGIN);
  } else {
    // e^(−x²/2σ²) ≤ perKey  ⇐  x ≥ σ · √(2 ln(1/perKey))
    const sigma2 = toNumber(mech.param);
    x = Math.ceil(Math.sqrt(2 * sigma2 * logInv) * MARGIN);
  }
  return lInf + Math.max(1, x);
}

/** Keeps the cells whose noisy value is ≥ τ and returns them in uniformly random order. */
export function selectPartitions<T extends { readonly noisy: number }>(cells: readonly T[], tau: number, entropy: Entropy = defaultEntropy()): T[] {
  const kept = cells.filter((c) => c.noisy >= tau);
  return shuffle(entropy, kept);
}
