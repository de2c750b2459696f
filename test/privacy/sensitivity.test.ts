import { describe, expect, it } from 'vitest';
import { countSensitivity, gridBounds, sumSensitivity, toGridUnits, validateBounds } from '../../schema/privacy/index.js';
import { AccordError } from '../../schema/errors.js';
import { codeOf, thrown } from '../helpers/errors.js';


describe('sensitivity from contribution bounds', () => {
  it('counts: l0 = K·L0, lInf = K·L∞, l1 = K·L0·L∞, l2² = K²·L0·L∞²', () => {
    expect(countSensitivity({ maxPartitions: 3, maxPerPartition: 2 })).toEqual({ l0: 3, lInf: 2, l1: 6, l2Squared: 12 });
    expect(countSensitivity({ maxPartitions: 3, maxPerPartition: 2, multiplicity: 2 })).toEqual({ l0: 6, lInf: 4, l1: 12, l2Squared: 48 });
    expect(countSensitivity({ maxPartitions: 1, maxPerPartition: 1 })).toEqual({ l0: 1, lInf: 1, l1: 1, l2Squared: 1 });
  });

  it('sums use the clamp rounded outward to the grid', () => {
    expect(sumSensitivity({ maxPartitions: 2, maxPerPartition: 3, clamp: { lo: 0, hi: 5 } })).toEqual({ l0: 2, lInf: 15, l1: 30, l2Squared: 450 });
    // [−1.3, 2.6] on the grid 2^-1: [−3, 6] half-units, M = 6.
    expect(gridBounds(-1.3, 2.6, -1)).toEqual({ lo: -3, hi: 6, maxAbsUnits: 6 });
    expect(sumSensitivity({ maxPartitions: 1, maxPerPartition: 1, clamp: { lo: -1.3, hi: 2.6 }, gridExponent: -1 }).lInf).toBe(6);
  });

  it('grid rounding stays inside the outward-rounded clamp', () => {
    for (const k of [-3, 0, 2]) {
      const g = gridBounds(-7.3, 11.2, k);
      for (let v = -20; v <= 20; v += 0.37) {
        const u = toGridUnits(v, -7.3, 11.2, k);
        expect(Number.isInteger(u)).toBe(true);
        expect(u).toBeGreaterThanOrEqual(g.lo);
        expect(u).toBeLessThanOrEqual(g.hi);
      }
    }
  });

  it('brute force: no neighbouring pair of bounded histograms differs by more than the stated L1 / L2²', () => {
    // One unit's bounded contribution: ≤ L0 groups, ≤ L∞ rows each, values within the grid clamp;
    // across K nodes each node bounds separately. Random worst-ish cases must respect the formulas.
    const b = { maxPartitions: 3, maxPerPartition: 2, clamp: { lo: -2, hi: 3 }, multiplicity: 2 };
    const s = sumSensitivity(b);
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let trial = 0; trial < 2000; trial++) {
      const delta = new Map<number, number>();
      for (let node = 0; node < b.multiplicity; node++) {
        const groups = new Set<number>();
        while (groups.size < 1 + rnd(b.maxPartitions)) groups.add(rnd(5));
        for (const g of groups) {
          const rows = 1 + rnd(b.maxPerPartition);
          for (let r = 0; r < rows; r++) {
            const v = toGridUnits(rnd(2) ? 3 : -2, -2, 3, 0);
            delta.set(g, (delta.get(g) ?? 0) + v);
          }
        }
      }
      let l1 = 0;
      let l2 = 0;
      for (const d of delta.values()) {
        l1 += Math.abs(d);
        l2 += d * d;
        expect(Math.abs(d)).toBeLessThanOrEqual(s.lInf);
      }
      expect(l1).toBeLessThanOrEqual(s.l1);
      expect(l2).toBeLessThanOrEqual(s.l2Squared);
    }
  });

  it('refuses malformed bounds with INVALID_BOUNDS naming the field', () => {
    expect(codeOf(() => countSensitivity({ maxPartitions: 0, maxPerPartition: 1 }))).toBe('INVALID_BOUNDS');
    expect(codeOf(() => countSensitivity({ maxPartitions: 1.5, maxPerPartition: 1 }))).toBe('INVALID_BOUNDS');
    expect(codeOf(() => countSensitivity({ maxPartitions: Number.NaN, maxPerPartition: 1 }))).toBe('INVALID_BOUNDS');
    expect(codeOf(() => countSensitivity({ maxPartitions: 1, maxPerPartition: 2.2 }))).toBe('INVALID_BOUNDS');
    expect(codeOf(() => countSensitivity({ maxPartitions: 1, maxPerPartition: 1, multiplicity: 0 }))).toBe('INVALID_BOUNDS');
    expect(codeOf(() => sumSensitivity({ maxPartitions: 1, maxPerPartition: 1, clamp: { lo: 5, hi: 1 } }))).toBe('INVALID_BOUNDS');
    expect(codeOf(() => sumSensitivity({ maxPartitions: 1, maxPerPartition: 1, clamp: { lo: Number.NaN, hi: 1 } }))).toBe('INVALID_BOUNDS');
    expect(codeOf(() => sumSensitivity({ maxPartitions: 1, maxPerPartition: 1 }))).toBe('INVALID_BOUNDS');
    expect(codeOf(() => sumSensitivity({ maxPartitions: 1, maxPerPartition: 1, clamp: { lo: 0, hi: 1 }, gridExponent: 0.5 }))).toBe('INVALID_BOUNDS');
    expect(codeOf(() => countSensitivity({ maxPartitions: 10_000, maxPerPartition: 1_000_000, multiplicity: 1000 }))).toBe('INVALID_BOUNDS');
    const e = thrown(() => validateBounds({ maxPartitions: 1, maxPerPartition: -3 }));
    expect(e).toBeInstanceOf(AccordError);
    expect((e as AccordError).details).toEqual({ parameter: 'maxPerPartition' });
    expect((e as AccordError).message).toMatch(/maxPerPartition/);
  });
});
