/**
 * Statistics for hypothesis tests of the privacy core. Floating point is fine here: these decide
 * whether a test passes, never a sample.
 */

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9).
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularised upper incomplete gamma Q(s, x) (series for x < s+1, continued fraction otherwise). */
export function gammaQ(s: number, x: number): number {
  if (x <= 0) return 1;
  const lg = logGamma(s);
  if (x < s + 1) {
    let sum = 1 / s;
    let term = sum;
    for (let n = 1; n < 10_000; n++) {
      term *= x / (s + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return 1 - sum * Math.exp(-x + s * Math.log(x) - lg);
  }
  // Lentz's continued fraction.
  let b = x + 1 - s;
  let c = 1 / 1e-300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - s);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.exp(-x + s * Math.log(x) - lg) * h;
}

/** P(χ²_df ≥ x). */
export function chiSquareSurvival(x: number, df: number): number {
  return gammaQ(df / 2, x / 2);
}

export interface ChiSquareResult {
  statistic: number;
  df: number;
  pValue: number;
  bins: number;
}

/**
 * Pearson's χ² goodness of fit of observed integer samples against an exact pmf on ℤ.
 * Values are binned individually where the expected count is ≥ 20; the two tails are pooled.
 */
export function chiSquareGoodnessOfFit(counts: Map<number, number>, n: number, pmf: (y: number) => number, lo: number, hi: number): ChiSquareResult {
  // Find the central range where each expected count ≥ 20.
  let left = 0;
  while (left - 1 >= lo && n * pmf(left - 1) >= 20) left--;
  let right = 0;
  while (right + 1 <= hi && n * pmf(right + 1) >= 20) right++;
  let statistic = 0;
  let bins = 0;
  let centralP = 0;
  let centralObs = 0;
  for (let y = left; y <= right; y++) {
    const e = n * pmf(y);
    const o = counts.get(y) ?? 0;
    statistic += ((o - e) * (o - e)) / e;
    centralP += pmf(y);
    centralObs += o;
    bins++;
  }
  // Tails pooled into one bin each side (probabilities computed as complements split by symmetry is not assumed).
  let leftP = 0;
  let leftObs = 0;
  for (let y = lo; y < left; y++) leftP += pmf(y);
  let rightP = 0;
  let rightObs = 0;
  for (let y = right + 1; y <= hi; y++) rightP += pmf(y);
  for (const [y, c] of counts) {
    if (y < left) leftObs += c;
    else if (y > right) rightObs += c;
  }
  // Mass outside [lo, hi] is negligible by construction of lo/hi; fold it into the tails.
  const rest = Math.max(0, 1 - centralP - leftP - rightP);
  leftP += rest / 2;
  rightP += rest / 2;
  for (const [p, o] of [[leftP, leftObs], [rightP, rightObs]] as const) {
    if (n * p >= 5) {
      statistic += ((o - n * p) * (o - n * p)) / (n * p);
      bins++;
    } else if (o > 0 && n * p < 1e-3) {
      // Observations where (essentially) none can occur: an outright failure.
      statistic = Infinity;
    }
  }
  void centralObs;
  const df = bins - 1;
  return { statistic, df, pValue: chiSquareSurvival(statistic, df), bins };
}

/** One-sided standard normal quantile z with P(Z > z) = p (Acklam's rational approximation, |error| < 1.2e-9 relative). */
export function normalUpperQuantile(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const q0 = 1 - p; // lower-tail probability of the quantile
  const pl = 0.02425;
  let x: number;
  if (q0 < pl) {
    const q = Math.sqrt(-2 * Math.log(q0));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (q0 <= 1 - pl) {
    const q = q0 - 0.5;
    const r = q * q;
    x = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(p));
    x = -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  return x;
}

/** P(X ≥ k) for X ~ Binomial(n, p), by summing the pmf in log space. */
export function binomialUpperTail(n: number, p: number, k: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  const logC = (m: number): number => logGamma(n + 1) - logGamma(m + 1) - logGamma(n - m + 1);
  let total = 0;
  for (let m = k; m <= n; m++) total += Math.exp(logC(m) + m * Math.log(p) + (n - m) * Math.log1p(-p));
  return Math.min(1, total);
}

/** P(X ≤ k) for X ~ Binomial(n, p). */
export function binomialLowerTail(n: number, p: number, k: number): number {
  return 1 - binomialUpperTail(n, p, k + 1);
}

/** Histogram of integer samples. */
export function histogram(samples: Iterable<number>): Map<number, number> {
  const h = new Map<number, number>();
  for (const s of samples) h.set(s, (h.get(s) ?? 0) + 1);
  return h;
}
