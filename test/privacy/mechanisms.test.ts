/**
 * Privacy maps, inverse maps and accuracy of the mechanisms. Exact-value assertions are
 * deterministic; the coverage checks are binomial tests with false-alarm rate 1e-6 each.
 */
import { describe, expect, it } from 'vitest';
import {
  Entropy,
  countSensitivity,
  discreteGaussianAccuracy,
  discreteGaussianWithSigma,
  discreteLaplaceAccuracy,
  discreteLaplaceWithScale,
  gaussianForRho,
  laplaceForEpsilon,
  makeDiscreteGaussian,
  makeDiscreteLaplace,
  rational,
  sumSensitivity,
  type NoiseMechanism,
} from '../../schema/privacy/index.js';
import { codeOf } from '../helpers/errors.js';
import { binomialLowerTail } from '../helpers/stats.js';

const ALPHA = 1e-6;
const entropy = new Entropy();


describe('discrete Laplace privacy map', () => {
  it('ε = Δ₁/t exactly where representable, and ρ = ε²/2', () => {
    const s = countSensitivity({ maxPartitions: 1, maxPerPartition: 3 });
    const exact = makeDiscreteLaplace(rational(3, 1));
    expect(exact.epsilon(s)).toBeGreaterThanOrEqual(1);
    expect(exact.epsilon(s)).toBeLessThan(1 + 1e-15);
    expect(exact.charge(s).rho).toBeGreaterThanOrEqual(0.5);
    expect(exact.charge(s).rho).toBeLessThan(0.5 + 1e-15);
    // The inverse map keeps even the rounded-up ε within the target.
    const m = laplaceForEpsilon(1, s);
    expect(m.epsilon(s)).toBeLessThanOrEqual(1);
    expect(Number(m.param.num) / Number(m.param.den)).toBeLessThanOrEqual(3 * (1 + 2 ** -19));
    expect(m.charge(s).delta).toBe(0);
  });

  it('the inverse map rounds the scale up: never less noise than asked, at most 2^-19 relative more', () => {
    for (const eps of [0.3, 0.1, 0.017, 2.5, 49.9]) {
      for (const l1 of [1, 3, 250]) {
        const s = { l0: 1, lInf: l1, l1, l2Squared: l1 * l1 };
        const m = laplaceForEpsilon(eps, s);
        const t = Number(m.param.num) / Number(m.param.den);
        expect(t).toBeGreaterThanOrEqual(l1 / eps);
        expect((t - l1 / eps) / (l1 / eps)).toBeLessThanOrEqual(2 ** -19); // ceil to the grid, plus at most one step to absorb the rounded-up charge
        expect(m.epsilon(s)!).toBeLessThanOrEqual(eps);
        expect(m.epsilon(s)!).toBeGreaterThan(eps * (1 - 2 ** -19));
      }
    }
  });

  it('refuses bad parameters with stable codes', () => {
    const s = countSensitivity({ maxPartitions: 1, maxPerPartition: 1 });
    expect(codeOf(() => laplaceForEpsilon(Number.NaN, s))).toBe('INVALID_EPSILON');
    expect(codeOf(() => laplaceForEpsilon(0, s))).toBe('INVALID_EPSILON');
    expect(codeOf(() => laplaceForEpsilon(51, s))).toBe('INVALID_EPSILON');
    expect(codeOf(() => laplaceForEpsilon(1, { ...s, l1: 0 }))).toBe('INVALID_SENSITIVITY');
    expect(codeOf(() => laplaceForEpsilon(1, { ...s, l1: 1.5 }))).toBe('INVALID_SENSITIVITY');
    expect(codeOf(() => discreteLaplaceWithScale(-1))).toBe('INVALID_SCALE');
    expect(codeOf(() => discreteLaplaceWithScale(Infinity))).toBe('INVALID_SCALE');
    expect(codeOf(() => makeDiscreteLaplace(rational(0, 1)))).toBe('INVALID_SCALE');
  });
});

describe('discrete Gaussian privacy map', () => {
  it('ρ = Δ₂²/(2σ²) exactly where representable', () => {
    const s = countSensitivity({ maxPartitions: 1, maxPerPartition: 1 });
    const m = gaussianForRho(0.5, s);
    // σ² = 1 would give exactly ρ = 0.5, but the charge is rounded up by an ulp, so the inverse map
    // steps σ² up by one grid step (2^-20 relative) to keep the charge within the target.
    expect(Number(m.param.num) / Number(m.param.den)).toBeGreaterThanOrEqual(1);
    expect(Number(m.param.num) / Number(m.param.den)).toBeLessThanOrEqual(1 + 2 ** -19);
    expect(m.charge(s).rho).toBeLessThanOrEqual(0.5);
    expect(m.charge(s).rho).toBeGreaterThan(0.5 * (1 - 2 ** -19));
    expect(makeDiscreteGaussian(rational(1, 1)).charge(s).rho).toBeGreaterThanOrEqual(0.5);
    expect(m.epsilon(s)).toBeUndefined();
  });

  it('σ² for a target ρ is rounded up: the charge never exceeds the target and wastes ≤ 2^-19 relative in σ²', () => {
    for (const rho of [0.001, 0.03, 0.25, 1, 7]) {
      for (const b of [
        { maxPartitions: 1, maxPerPartition: 1 },
        { maxPartitions: 4, maxPerPartition: 3 },
        { maxPartitions: 20, maxPerPartition: 100, multiplicity: 2 },
      ]) {
        const s = countSensitivity(b);
        const m = gaussianForRho(rho, s);
        const sigma2 = Number(m.param.num) / Number(m.param.den);
        expect(sigma2).toBeGreaterThanOrEqual(s.l2Squared / (2 * rho));
        expect((sigma2 - s.l2Squared / (2 * rho)) / (s.l2Squared / (2 * rho))).toBeLessThanOrEqual(2 ** -19); // ceil to the grid, plus at most one step to absorb the rounded-up charge
        expect(m.charge(s).rho).toBeLessThanOrEqual(rho);
        expect(m.charge(s).rho).toBeGreaterThan(rho * (1 - 2 ** -19));
      }
    }
  });

  it('σ given directly is kept exactly when it is on the grid', () => {
    expect(discreteGaussianWithSigma(0.5).param).toEqual(rational(1, 4));
    expect(discreteGaussianWithSigma(3).param).toEqual(rational(9, 1));
  });

  it('refuses bad parameters with stable codes', () => {
    const s = countSensitivity({ maxPartitions: 1, maxPerPartition: 1 });
    for (const rho of [Number.NaN, Infinity, -Infinity, 0, -0.1, 51]) expect(codeOf(() => gaussianForRho(rho, s))).toBe('INVALID_RHO');
    for (const sigma of [Number.NaN, Infinity, 0, -2, 2e7]) expect(codeOf(() => discreteGaussianWithSigma(sigma))).toBe('INVALID_SIGMA');
    expect(codeOf(() => makeDiscreteGaussian(rational(-1, 2)))).toBe('INVALID_SIGMA');
  });
});

describe('accuracy', () => {
  it('discrete Laplace at t = 1/ln 3: Var = 1.5, P[0] = ½, 95% interval = 3 (P(|Z| > 3) = 1/54)', () => {
    const a = discreteLaplaceAccuracy(1 / Math.log(3));
    expect(a.stdDev * a.stdDev).toBeCloseTo(1.5, 12);
    expect(a.ci95).toBe(3);
    expect(a.confidence).toBe(0.95);
  });

  it('discrete Gaussian: exact variances and intervals where the normal approximation is off', () => {
    const half = discreteGaussianAccuracy(0.5);
    expect(half.stdDev ** 2).toBeCloseTo(0.21501, 5);
    expect(half.ci95).toBe(1);
    const one = discreteGaussianAccuracy(1);
    expect(one.stdDev ** 2).toBeCloseTo(0.99999979, 8);
    expect(one.ci95).toBe(2); // P(|Z| ≤ 1) ≈ 0.883 < 0.95 ≤ P(|Z| ≤ 2) ≈ 0.991
    const big = discreteGaussianAccuracy(40);
    // The normal approximation would say ⌈1.96 σ⌉ = 79; the integer support holds mass up to ±78.5, so 78 suffices.
    expect(big.ci95).toBe(78);
  });

  const mechanisms: Array<[string, NoiseMechanism]> = [
    ['Laplace t = 2.5', discreteLaplaceWithScale(2.5)],
    ['Gaussian σ = 0.5', discreteGaussianWithSigma(0.5)],
    ['Gaussian σ = 7', discreteGaussianWithSigma(7)],
  ];
  it.each(mechanisms)('%s: the 95 percent interval covers at least 95 percent of draws (binomial test, α = 1e-6)', (_n, m) => {
    const N = 100_000;
    const { ci95 } = m.accuracy();
    let inside = 0;
    for (let i = 0; i < N; i++) if (Math.abs(m.sample(entropy)) <= ci95) inside++;
    // H0: coverage ≥ 0.95. Reject when seeing so few inside is improbable under coverage 0.95.
    expect(binomialLowerTail(N, 0.95, inside)).toBeGreaterThan(ALPHA);
  });
});

describe('vector release', () => {
  it('adds one independent draw per cell and keeps integer outputs', () => {
    const m = discreteGaussianWithSigma(5);
    const values = Array.from({ length: 1000 }, (_, i) => i);
    const out = m.releaseVector(values, entropy);
    expect(out).toHaveLength(1000);
    expect(out.every(Number.isSafeInteger)).toBe(true);
    const noise = out.map((v, i) => v - i);
    expect(new Set(noise).size).toBeGreaterThan(10); // not one shared draw
  });

  it('refuses to noise a non-integer (sums must be in grid units)', () => {
    expect(codeOf(() => discreteGaussianWithSigma(1).release(1.5))).toBe('INVALID_PARAMETER');
    expect(codeOf(() => discreteLaplaceWithScale(1).release(Number.NaN))).toBe('INVALID_PARAMETER');
  });

  it('sum sensitivity in grid units drives the scale', () => {
    const s = sumSensitivity({ maxPartitions: 2, maxPerPartition: 1, clamp: { lo: 1, hi: 5 } });
    const m = gaussianForRho(0.5, s);
    const sigma2 = Number(m.param.num) / Number(m.param.den);
    expect(sigma2).toBeGreaterThanOrEqual(s.l2Squared); // σ² = Δ₂²/(2·0.5), one grid step up at most
    expect(sigma2).toBeLessThanOrEqual(s.l2Squared * (1 + 2 ** -19));
  });
});
