/**
 * Partition selection. The threshold property is checked exactly against the discrete tails;
 * the release-rate checks are binomial tests with false-alarm rate 1e-6 each.
 */
import { describe, expect, it } from 'vitest';
import {
  Entropy,
  countSensitivity,
  discreteGaussianWithSigma,
  gaussianForRho,
  laplaceForEpsilon,
  partitionThreshold,
  selectPartitions,
  toNumber,
  type NoiseMechanism,
} from '../../schema/privacy/index.js';
import { AccordError } from '../../schema/errors.js';
import { binomialUpperTail } from '../helpers/stats.js';

const ALPHA = 1e-6;
const entropy = new Entropy();

function exactUpperTail(m: NoiseMechanism, x: number): number {
  if (m.kind === 'discrete-laplace') {
    const q = Math.exp(-1 / m.scale);
    return Math.pow(q, x) / (1 + q);
  }
  const s2 = toNumber(m.param);
  const limit = Math.ceil(40 * Math.sqrt(s2) + 10) + x;
  let norm = 1;
  let tail = 0;
  for (let y = 1; y <= limit; y++) {
    const w = Math.exp(-(y * y) / (2 * s2));
    norm += 2 * w;
    if (y >= x) tail += w;
  }
  return tail / norm;
}

describe('partition selection threshold', () => {
  const cases: Array<[string, () => NoiseMechanism, { maxPartitions: number; maxPerPartition: number }, number]> = [
    ['Laplace ε = 1, L0 = 1', () => laplaceForEpsilon(1, countSensitivity({ maxPartitions: 1, maxPerPartition: 1 })), { maxPartitions: 1, maxPerPartition: 1 }, 1e-6],
    ['Laplace ε = 0.5, L0 = 5, L∞ = 2', () => laplaceForEpsilon(0.5, countSensitivity({ maxPartitions: 5, maxPerPartition: 2 })), { maxPartitions: 5, maxPerPartition: 2 }, 1e-8],
    ['Gaussian ρ = 0.1, L0 = 1', () => gaussianForRho(0.1, countSensitivity({ maxPartitions: 1, maxPerPartition: 1 })), { maxPartitions: 1, maxPerPartition: 1 }, 1e-6],
    ['Gaussian ρ = 0.05, L0 = 8, L∞ = 3', () => gaussianForRho(0.05, countSensitivity({ maxPartitions: 8, maxPerPartition: 3 })), { maxPartitions: 8, maxPerPartition: 3 }, 1e-9],
  ];

  it.each(cases)('%s: a key only one unit holds is released with probability ≤ δ/l0, and τ is not wastefully high', (_n, make, b, delta) => {
    const m = make();
    const s = countSensitivity(b);
    const tau = partitionThreshold(m, s, delta);
    expect(Number.isInteger(tau)).toBe(true);
    const x = tau - s.lInf; // noise needed to push a count of lInf up to τ
    expect(exactUpperTail(m, x)).toBeLessThanOrEqual(delta / s.l0);
    // The smallest exactly sufficient x, for comparison: τ is within 25% (+2) of it.
    let best = 1;
    while (exactUpperTail(m, best) > delta / s.l0) best++;
    expect(x).toBeLessThanOrEqual(Math.ceil(best * 1.25) + 2);
  });

  it('releases a single-unit key no more often than δ allows (binomial test at δ = 0.01, α = 1e-6)', () => {
    const m = discreteGaussianWithSigma(2);
    const s = countSensitivity({ maxPartitions: 1, maxPerPartition: 1 });
    const delta = 0.01;
    const tau = partitionThreshold(m, s, delta);
    const N = 200_000;
    let released = 0;
    for (let i = 0; i < N; i++) if (s.lInf + m.sample(entropy) >= tau) released++;
    expect(binomialUpperTail(N, delta, released)).toBeGreaterThan(ALPHA);
  });

  it('keeps keys far above τ, drops keys below, and returns survivors in shuffled order', () => {
    const cells = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, noisy: i < 25 ? 1000 : 0 }));
    const orders = new Set<string>();
    for (let r = 0; r < 20; r++) {
      const kept = selectPartitions(cells, 10, entropy);
      expect(kept).toHaveLength(25);
      expect(kept.every((c) => c.noisy >= 10)).toBe(true);
      orders.add(kept.map((c) => c.key).join(','));
    }
    expect(orders.size).toBeGreaterThan(1); // 20 identical orders of 25 items has probability (1/25!)^19
  });

  it('refuses a bad δ', () => {
    const m = discreteGaussianWithSigma(2);
    const s = countSensitivity({ maxPartitions: 1, maxPerPartition: 1 });
    for (const d of [0, 1, Number.NaN, 0.5]) {
      expect(() => partitionThreshold(m, s, d)).toThrow(AccordError);
    }
  });
});
