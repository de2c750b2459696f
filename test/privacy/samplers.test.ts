/**
 * Goodness-of-fit tests of the exact samplers against their exact distributions.
 *
 * Every assertion here is a hypothesis test whose false-alarm rate is stated: a correct sampler
 * fails a given assertion with probability at most ALPHA = 1e-6 (χ² tests: p-value < ALPHA;
 * moment tests: |z| above the two-sided 1e-6 normal quantile, z ≈ 4.89). With about forty such
 * assertions in this file, a correct implementation fails this file with probability < 5e-5.
 */
import { describe, expect, it } from 'vitest';
import {
  DiscreteGaussianSampler,
  Entropy,
  bernoulli,
  bernoulliExpNeg,
  discreteLaplace,
  geometric,
  geometricExpNeg,
  rational,
  shuffle,
  uniformBig,
  uniformInt,
} from '../../schema/privacy/index.js';
import { binomialLowerTail, binomialUpperTail, chiSquareGoodnessOfFit, chiSquareSurvival, histogram, normalUpperQuantile } from '../helpers/stats.js';

const ALPHA = 1e-6;
const Z = normalUpperQuantile(ALPHA / 2); // two-sided
const entropy = new Entropy();

function draw(n: number, f: () => number): Map<number, number> {
  const h = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const y = f();
    h.set(y, (h.get(y) ?? 0) + 1);
  }
  return h;
}

function momentsOf(h: Map<number, number>, n: number): { mean: number; variance: number } {
  let s = 0;
  let s2 = 0;
  for (const [y, c] of h) {
    s += y * c;
    s2 += y * y * c;
  }
  const mean = s / n;
  return { mean, variance: s2 / n - mean * mean };
}

/** Exact central moments of a symmetric pmf on ℤ (mean 0). */
function exactMoments(pmf: (y: number) => number, limit: number): { variance: number; fourth: number } {
  let variance = 0;
  let fourth = 0;
  for (let y = 1; y <= limit; y++) {
    const p = 2 * pmf(y);
    variance += y * y * p;
    fourth += y * y * y * y * p;
  }
  return { variance, fourth };
}

function checkMoments(h: Map<number, number>, n: number, pmf: (y: number) => number, limit: number): void {
  const { variance, fourth } = exactMoments(pmf, limit);
  const m = momentsOf(h, n);
  expect(Math.abs(m.mean) / Math.sqrt(variance / n)).toBeLessThan(Z);
  // Var of the sample second moment about the known mean 0 is (μ4 − σ⁴)/n; the sample mean's correction is O(1/n).
  const s2 = m.variance + m.mean * m.mean;
  expect(Math.abs(s2 - variance) / Math.sqrt((fourth - variance * variance) / n)).toBeLessThan(Z);
}

const laplacePmf = (tau: number) => {
  const q = Math.exp(-1 / tau);
  return (y: number): number => ((1 - q) / (1 + q)) * Math.pow(q, Math.abs(y));
};

function gaussianPmf(sigma2: number): (y: number) => number {
  const limit = Math.ceil(40 * Math.sqrt(sigma2) + 10);
  let norm = 1;
  for (let y = 1; y <= limit; y++) norm += 2 * Math.exp(-(y * y) / (2 * sigma2));
  return (y: number) => Math.exp(-(y * y) / (2 * sigma2)) / norm;
}

describe('uniform integers', () => {
  it.each([2, 3, 10, 1000])('uniformInt(%i) is uniform (χ², α = 1e-6)', (n) => {
    const N = 200_000;
    const h = draw(N, () => uniformInt(entropy, n));
    const r = chiSquareGoodnessOfFit(h, N, (y) => (y >= 0 && y < n ? 1 / n : 0), 0, n - 1);
    expect(r.pValue).toBeGreaterThan(ALPHA);
    for (const y of h.keys()) expect(y >= 0 && y < n).toBe(true);
  });

  it.each([2 ** 32 - 5, 2 ** 40 + 7, 2 ** 53])('uniformInt(%i) spreads evenly over 16 bins (χ², α = 1e-6)', (n) => {
    const N = 160_000;
    const bins = new Map<number, number>();
    let outOfRange = 0;
    for (let i = 0; i < N; i++) {
      const x = uniformInt(entropy, n);
      if (!(x >= 0 && x < n && Number.isInteger(x))) outOfRange++;
      const b = Math.floor((x / n) * 16);
      bins.set(b, (bins.get(b) ?? 0) + 1);
    }
    expect(outOfRange).toBe(0);
    const r = chiSquareGoodnessOfFit(bins, N, (b) => (b >= 0 && b < 16 ? 1 / 16 : 0), 0, 15);
    expect(r.pValue).toBeGreaterThan(ALPHA);
  });

  it('uniformBig(2^70 + 3) spreads evenly over 16 bins and stays in range (χ², α = 1e-6)', () => {
    const n = (1n << 70n) + 3n;
    const N = 80_000;
    const bins = new Map<number, number>();
    for (let i = 0; i < N; i++) {
      const x = uniformBig(entropy, n);
      expect(x >= 0n && x < n).toBe(true);
      const b = Number((x * 16n) / n);
      bins.set(b, (bins.get(b) ?? 0) + 1);
    }
    const r = chiSquareGoodnessOfFit(bins, N, (b) => (b >= 0 && b < 16 ? 1 / 16 : 0), 0, 15);
    expect(r.pValue).toBeGreaterThan(ALPHA);
  });

  it('uniformInt(1) is always 0 and bad n is refused', () => {
    for (let i = 0; i < 100; i++) expect(uniformInt(entropy, 1)).toBe(0);
    expect(() => uniformInt(entropy, 2 ** 53 + 2)).toThrow(RangeError);
    expect(() => uniformBig(entropy, 0n)).toThrow(RangeError);
  });
});

/** Two-sided binomial test: observed k successes of n trials is consistent with p at level ALPHA. */
function expectBinomial(k: number, n: number, p: number): void {
  const lower = binomialLowerTail(n, p, k);
  const upper = binomialUpperTail(n, p, k);
  expect(Math.min(lower, upper)).toBeGreaterThan(ALPHA / 2);
}

describe('Bernoulli samplers', () => {
  it.each([
    [1n, 3n],
    [2n, 7n],
    [(1n << 60n) + 1n, 1n << 61n],
  ])('bernoulli(%s/%s) has the right rate (binomial test, α = 1e-6)', (num, den) => {
    const N = 100_000;
    let k = 0;
    for (let i = 0; i < N; i++) if (bernoulli(entropy, rational(num, den))) k++;
    expectBinomial(k, N, Number(num) / Number(den));
  });

  it.each([
    [0, 1],
    [3, 10],
    [1, 1],
    [5, 2],
    [17, 3],
  ])('bernoulliExpNeg(%i/%i) is Bernoulli(exp(−γ)) (binomial test, α = 1e-6)', (num, den) => {
    const N = 100_000;
    let k = 0;
    for (let i = 0; i < N; i++) if (bernoulliExpNeg(entropy, num, den)) k++;
    const p = Math.exp(-num / den);
    if (num === 0) expect(k).toBe(N);
    else expectBinomial(k, N, p);
  });

  it('bernoulliExpNeg with bigint γ = (3·2^70 + 2^69)/2^70 (= 3.5) takes the exact bigint path', () => {
    const N = 100_000;
    let k = 0;
    const num = 3n * (1n << 70n) + (1n << 69n);
    const den = 1n << 70n;
    for (let i = 0; i < N; i++) if (bernoulliExpNeg(entropy, num, den)) k++;
    expectBinomial(k, N, Math.exp(-3.5));
  });

  it('geometricExpNeg(1) and geometric(1/4) match their pmfs (χ², α = 1e-6)', () => {
    const N = 200_000;
    const g1 = draw(N, () => geometricExpNeg(entropy, 1, 1));
    const q = Math.exp(-1);
    expect(chiSquareGoodnessOfFit(g1, N, (v) => (v < 0 ? 0 : (1 - q) * Math.pow(q, v)), 0, 60).pValue).toBeGreaterThan(ALPHA);
    const g2 = draw(N, () => geometric(entropy, rational(1, 4)));
    expect(chiSquareGoodnessOfFit(g2, N, (v) => (v < 0 ? 0 : 0.25 * Math.pow(0.75, v)), 0, 120).pValue).toBeGreaterThan(ALPHA);
  });
});

describe('discrete Laplace (CKS20 Alg. 2)', () => {
  // τ = 9102392266/10^10 ≈ 1/ln 3: P[0] ≈ 1/2 and Var ≈ 1.5 (exactly ½ and 1.5 at τ = 1/ln 3).
  const cases: Array<[string, bigint, bigint]> = [
    ['≈1/ln 3', 9102392266n, 10_000_000_000n],
    ['1', 1n, 1n],
    ['7/3', 7n, 3n],
    ['10', 10n, 1n],
    ['100.5', 201n, 2n],
  ];
  it.each(cases)('scale %s fits the exact pmf (χ², α = 1e-6) with the right mean and variance', (_name, t, s) => {
    const tau = Number(t) / Number(s);
    const N = 1_000_000;
    const h = draw(N, () => discreteLaplace(entropy, Number(t), Number(s)));
    const pmf = laplacePmf(tau);
    const limit = Math.ceil(tau * 60 + 10);
    const r = chiSquareGoodnessOfFit(h, N, pmf, -limit, limit);
    expect(r.df).toBeGreaterThan(2);
    expect(r.pValue).toBeGreaterThan(ALPHA);
    checkMoments(h, N, pmf, limit);
  });

  it('at scale ≈ 1/ln 3 the exact pmf has P[0] ≈ 1/2 and Var ≈ 1.5', () => {
    const pmf = laplacePmf(1 / Math.log(3));
    expect(pmf(0)).toBeCloseTo(0.5, 12);
    expect(exactMoments(pmf, 200).variance).toBeCloseTo(1.5, 10);
  });
});

describe('discrete Gaussian (CKS20 Alg. 3)', () => {
  const cases: Array<[string, bigint, bigint]> = [
    ['σ = 0.5', 1n, 4n],
    ['σ = 1', 1n, 1n],
    ['σ = 3', 9n, 1n],
    ['σ² = 1001/7', 1001n, 7n],
    ['σ² = (2^61+1)/2^55 (bigint path)', (1n << 61n) + 1n, 1n << 55n],
  ];
  it.each(cases)('%s fits the exact pmf (χ², α = 1e-6) with the right mean and variance', (_name, a, b) => {
    const sigma2 = Number(a) / Number(b);
    const sampler = new DiscreteGaussianSampler(rational(a, b));
    const N = 600_000;
    const h = draw(N, () => sampler.sample(entropy));
    const pmf = gaussianPmf(sigma2);
    const limit = Math.ceil(40 * Math.sqrt(sigma2) + 10);
    const r = chiSquareGoodnessOfFit(h, N, pmf, -limit, limit);
    expect(r.df).toBeGreaterThan(1);
    expect(r.pValue).toBeGreaterThan(ALPHA);
    checkMoments(h, N, pmf, limit);
  });

  it('exact variances match the published values: Var(σ=0.5) ≈ 0.21501, Var(σ=1) ≈ 0.99999979', () => {
    expect(exactMoments(gaussianPmf(0.25), 100).variance).toBeCloseTo(0.21501, 5);
    expect(exactMoments(gaussianPmf(1), 100).variance).toBeCloseTo(0.99999979, 8);
  });

  it('refuses a non-positive σ²', () => {
    expect(() => new DiscreteGaussianSampler(rational(0, 1))).toThrow(RangeError);
  });
});

describe('shuffle', () => {
  it('gives every permutation of 3 items equal probability (χ², α = 1e-6)', () => {
    const N = 120_000;
    const codes = new Map<number, number>();
    for (let i = 0; i < N; i++) {
      const p = shuffle(entropy, [0, 1, 2]);
      const code = p[0]! * 9 + p[1]! * 3 + p[2]!;
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    expect(codes.size).toBe(6);
    let stat = 0;
    for (const c of codes.values()) stat += (c - N / 6) ** 2 / (N / 6);
    expect(chiSquareSurvival(stat, 5)).toBeGreaterThan(ALPHA);
  });
});

describe('the test statistics themselves', () => {
  it('detect a wrong distribution (negative control): Laplace samples of scale 1.1 against the scale-1 pmf', () => {
    const N = 1_000_000;
    const h = draw(N, () => discreteLaplace(entropy, 11, 10));
    const r = chiSquareGoodnessOfFit(h, N, laplacePmf(1), -80, 80);
    expect(r.pValue).toBeLessThan(ALPHA);
  });

  it('survival function matches known χ² quantiles', () => {
    expect(chiSquareSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(18.307038053275146, 10)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(124.3421134, 100)).toBeCloseTo(0.05, 4);
  });
  void histogram;
});
