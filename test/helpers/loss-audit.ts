/**
 * Empirical privacy loss of a scalar statistic of a mechanism's output on neighbouring datasets
 * (DP auditing), with rigorous one-sided confidence bounds.
 *
 * An (ε, δ)-DP mechanism satisfies P_D[S] ≤ e^ε · P_D′[S] + δ for every event S and both orders of
 * the pair, i.e. ln((P_D[S] − δ) / P_D′[S]) ≤ ε. For a fixed family of tail events of a scalar T
 * ({T ≤ y} and {T ≥ y} for every integer y of a range fixed in advance, both orders: 4 events per y)
 * we bound this loss from below: a lower confidence bound on the numerator's probability and an upper
 * one on the denominator's, each from the Chernoff–KL inequality
 *   P_p[X ≤ k] ≤ exp(−n · KL(k/n ‖ p)) for p ≥ k/n   (and symmetrically for X ≥ k),
 * which holds for every n and k (no normal approximation, no minimum mass). Each bound has level
 * α/(2m) for m events (Bonferroni), so for a mechanism that keeps its (ε, δ) promise the chance that
 * any event's lower bound exceeds ε is ≤ α. Floating point is fine here: it decides a test, never a
 * sample.
 */

/** KL divergence between Bernoulli(q) and Bernoulli(p), with 0·ln 0 = 0. */
export function bernoulliKl(q: number, p: number): number {
  const a = q > 0 ? q * Math.log(q / p) : 0;
  const b = q < 1 ? (1 - q) * Math.log((1 - q) / (1 - p)) : 0;
  return a + b;
}

/** Upper confidence bound on p from k successes in n trials, level `a` (Chernoff–KL). */
export function binomialUpper(k: number, n: number, a: number): number {
  if (k >= n) return 1;
  const q = k / n;
  const budget = Math.log(1 / a);
  let lo = q;
  let hi = 1;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (n * bernoulliKl(q, mid) > budget) hi = mid;
    else lo = mid;
  }
  return hi; // the side where the bound is exceeded: conservative
}

/** Lower confidence bound on p from k successes in n trials, level `a` (Chernoff–KL). */
export function binomialLower(k: number, n: number, a: number): number {
  if (k <= 0) return 0;
  const q = k / n;
  const budget = Math.log(1 / a);
  let lo = 0;
  let hi = q;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (n * bernoulliKl(q, mid) > budget) lo = mid;
    else hi = mid;
  }
  return lo; // conservative
}

export interface TailAudit {
  /** Largest lower confidence bound on ln((P[S] − δ)/P′[S]) over the family (−Infinity if none is positive). */
  maxLowerBound: number;
  /** Largest point estimate ln((p̂ − δ)/p̂′) over events whose denominator was observed ≥ 100 times. */
  maxEstimate: number;
  /** The event attaining maxLowerBound, e.g. "T ≥ 812 (D′ over D)". */
  event: string;
  /** Number of events in the family (the Bonferroni divisor is 2·events: two bounds per event). */
  events: number;
}

/**
 * Audits tail events of T on the integer range [lo, hi], fixed before sampling (values outside the
 * range still count in the tails). `a` and `b` are draws of T under D and D′ (same length n).
 */
export function auditTails(a: Int32Array, b: Int32Array, lo: number, hi: number, delta: number, alpha: number): TailAudit {
  const n = a.length;
  if (b.length !== n) throw new Error('auditTails needs as many draws under D as under D′');
  const width = hi - lo + 1;
  const events = 4 * width;
  const level = alpha / (2 * events);
  // #{T ≤ y} for y in [lo − 1, hi]: the count below the range, then a running sum over it
  const cumulative = (s: Int32Array): { below: number; c: Float64Array } => {
    const c = new Float64Array(width);
    let below = 0;
    for (let i = 0; i < n; i++) {
      const x = s[i]!;
      if (x < lo) below++;
      else if (x <= hi) c[x - lo]!++;
    }
    let acc = below;
    for (let i = 0; i < width; i++) {
      acc += c[i]!;
      c[i] = acc;
    }
    return { below, c };
  };
  const cA = cumulative(a);
  const cB = cumulative(b);
  const leq = (h: { below: number; c: Float64Array }, y: number): number => (y < lo ? h.below : h.c[Math.min(y, hi) - lo]!);
  let maxLowerBound = -Infinity;
  let maxEstimate = -Infinity;
  let event = 'none';
  const consider = (kNum: number, kDen: number, label: string): void => {
    const pNum = binomialLower(kNum, n, level) - delta;
    const pDen = binomialUpper(kDen, n, level);
    if (pNum > 0) {
      const lb = Math.log(pNum / pDen);
      if (lb > maxLowerBound) {
        maxLowerBound = lb;
        event = label;
      }
    }
    const est = kNum / n - delta;
    if (kDen >= 100 && est > 0) maxEstimate = Math.max(maxEstimate, Math.log(est / (kDen / n)));
  };
  for (let y = lo; y <= hi; y++) {
    const leA = leq(cA, y);
    const leB = leq(cB, y);
    const geA = n - leq(cA, y - 1);
    const geB = n - leq(cB, y - 1);
    consider(leA, leB, `T ≤ ${y} (D over D′)`);
    consider(leB, leA, `T ≤ ${y} (D′ over D)`);
    consider(geA, geB, `T ≥ ${y} (D over D′)`);
    consider(geB, geA, `T ≥ ${y} (D′ over D)`);
  }
  return { maxLowerBound, maxEstimate, event, events };
}
