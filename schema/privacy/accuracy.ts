/**
 * Accuracy of the noise distributions, computed from the discrete distributions themselves.
 * These figures describe the noise for the analyst; they never decide a sample or a privacy loss,
 * so ordinary floating point is used.
 */

export interface Accuracy {
  /** Standard deviation of one noise draw. */
  readonly stdDev: number;
  /** Smallest integer c with P(|noise| ≤ c) ≥ 0.95: a released value v means the truth lies in [v − c, v + c] with probability ≥ 95%. */
  readonly ci95: number;
  /** The coverage the interval is computed for (0.95). */
  readonly confidence: number;
}

export const CONFIDENCE = 0.95;

/**
 * Discrete Laplace with scale t (P[y] ∝ e^(−|y|/t), q = e^(−1/t)):
 * Var = 2q/(1−q)², and P(|Y| > c) = 2q^(c+1)/(1+q) exactly, so the interval is the smallest c
 * with 2q^(c+1)/(1+q) ≤ 0.05.
 */
export function discreteLaplaceAccuracy(t: number): Accuracy {
  const q = Math.exp(-1 / t);
  const variance = (2 * q) / ((1 - q) * (1 - q));
  const tail = (c: number): number => (2 * Math.pow(q, c + 1)) / (1 + q);
  let c = Math.max(0, Math.ceil(Math.log((1 - CONFIDENCE) * (1 + q) / 2) / Math.log(q) - 1));
  while (c > 0 && tail(c - 1) <= 1 - CONFIDENCE) c--;
  while (tail(c) > 1 - CONFIDENCE) c++;
  return { stdDev: Math.sqrt(variance), ci95: c, confidence: CONFIDENCE };
}

const gaussianCache = new Map<number, Accuracy>();
/** Above this σ the discrete and continuous Gaussians agree to far better than double precision in what is reported. */
const EXACT_SUM_MAX_SIGMA = 1e5;

/**
 * Discrete Gaussian N_ℤ(0, σ²): variance Σ y² w(y) / Σ w(y) with w(y) = e^(−y²/2σ²), and the 95%
 * interval from the exact cumulative sum — not the normal approximation, which is wrong for small σ
 * (at σ = 0.5, P(Y = 0) ≈ 0.79). Terms beyond |y| > 40σ + 10 are below 1e-300 relative and dropped.
 * For σ > 1e5 the continuous values are used (the difference is < e^(−4π²σ²) relative, CKS20 §2.2).
 */
export function discreteGaussianAccuracy(sigma: number): Accuracy {
  const cached = gaussianCache.get(sigma);
  if (cached) return cached;
  let result: Accuracy;
  if (sigma > EXACT_SUM_MAX_SIGMA) {
    result = { stdDev: sigma, ci95: Math.ceil(1.959963984540054 * sigma), confidence: CONFIDENCE };
  } else {
    const twoS2 = 2 * sigma * sigma;
    const limit = Math.ceil(40 * sigma + 10);
    const w: number[] = new Array(limit + 1);
    let norm = 1;
    let second = 0;
    w[0] = 1;
    for (let y = 1; y <= limit; y++) {
      const wy = Math.exp(-(y * y) / twoS2);
      w[y] = wy;
      norm += 2 * wy;
      second += 2 * y * y * wy;
    }
    let mass = w[0]! / norm;
    let c = 0;
    while (mass < CONFIDENCE && c < limit) {
      c++;
      mass += (2 * w[c]!) / norm;
    }
    result = { stdDev: Math.sqrt(second / norm), ci95: c, confidence: CONFIDENCE };
  }
  if (gaussianCache.size > 256) gaussianCache.clear();
  gaussianCache.set(sigma, result);
  return result;
}

/** Variance of the discrete Gaussian (for tests and reports). */
export function discreteGaussianVariance(sigma: number): number {
  const s = discreteGaussianAccuracy(sigma).stdDev;
  return s * s;
}
