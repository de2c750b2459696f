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
  return { stdDev: Math.sqrt(variance), ci95: noiseHalfWidth('discrete-laplace', t, CONFIDENCE), confidence: CONFIDENCE };
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
  let stdDev = sigma;
  if (sigma <= EXACT_SUM_MAX_SIGMA) {
    const twoS2 = 2 * sigma * sigma;
    const limit = Math.ceil(40 * sigma + 10);
    let norm = 1;
    let second = 0;
    for (let y = 1; y <= limit; y++) {
      const wy = Math.exp(-(y * y) / twoS2);
      norm += 2 * wy;
      second += 2 * y * y * wy;
    }
    stdDev = Math.sqrt(second / norm);
  }
  const result: Accuracy = { stdDev, ci95: noiseHalfWidth('discrete-gaussian', sigma, CONFIDENCE), confidence: CONFIDENCE };
  if (gaussianCache.size > 256) gaussianCache.clear();
  gaussianCache.set(sigma, result);
  return result;
}

/** Variance of the discrete Gaussian (for tests and reports). */
export function discreteGaussianVariance(sigma: number): number {
  const s = discreteGaussianAccuracy(sigma).stdDev;
  return s * s;
}

const halfWidthCache = new Map<string, number>();
/** The standard normal 97.5% quantile (two-sided 95%). */
const Z_975 = 1.959963984540054;

/**
 * Smallest integer c with P(|noise| ≤ c) ≥ `confidence` for the mechanism's noise, from the exact
 * discrete distribution (continuous Gaussian quantile above σ = 1e5). Used where several releases
 * combine into one figure (a ratio of two noisy values): each part at 1 − (1 − 0.95)/parts keeps
 * the combined interval at ≥ 95% by the union bound.
 */
export function noiseHalfWidth(kind: 'discrete-laplace' | 'discrete-gaussian', scale: number, confidence: number): number {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError('confidence must be in (0, 1)');
  const key = `${kind}:${scale}:${confidence}`;
  const hit = halfWidthCache.get(key);
  if (hit !== undefined) return hit;
  let c = 0;
  if (kind === 'discrete-laplace') {
    const q = Math.exp(-1 / scale);
    const tail = (x: number): number => (2 * Math.pow(q, x + 1)) / (1 + q);
    c = Math.max(0, Math.ceil(Math.log((1 - confidence) * (1 + q) / 2) / Math.log(q) - 1));
    while (c > 0 && tail(c - 1) <= 1 - confidence) c--;
    while (tail(c) > 1 - confidence) c++;
  } else if (scale > EXACT_SUM_MAX_SIGMA) {
    c = Math.ceil((confidence === CONFIDENCE ? Z_975 : normalQuantile(0.5 + confidence / 2)) * scale);
  } else {
    const twoS2 = 2 * scale * scale;
    const limit = Math.ceil(40 * scale + 10);
    let norm = 1;
    for (let y = 1; y <= limit; y++) norm += 2 * Math.exp(-(y * y) / twoS2);
    let mass = 1 / norm;
    while (mass < confidence && c < limit) {
      c++;
      mass += (2 * Math.exp(-(c * c) / twoS2)) / norm;
    }
  }
  if (halfWidthCache.size > 1024) halfWidthCache.clear();
  halfWidthCache.set(key, c);
  return c;
}

/** Standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}
