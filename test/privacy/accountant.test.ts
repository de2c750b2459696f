import { describe, expect, it } from 'vitest';
import {
  Accountant,
  chargeToDp,
  compose,
  epsilonToRho,
  rhoToEpsilon,
  rhoToEpsilonBS,
  rhoToEpsilonCKS,
  cksBestOrder,
} from '../../schema/privacy/index.js';
import { nextUp } from '../../schema/privacy/float.js';
import { codeOf, thrown } from '../helpers/errors.js';

/** δ achieved at (ε, α) by CKS20 Corollary 13. */
function cksDelta(rho: number, eps: number, alpha: number): number {
  return (Math.exp((alpha - 1) * (alpha * rho - eps)) / (alpha - 1)) * Math.pow(1 - 1 / alpha, alpha);
}

describe('conversions', () => {
  it('pure ε → ρ = ε²/2, rounded up', () => {
    expect(epsilonToRho(1)).toBeGreaterThanOrEqual(0.5);
    expect(epsilonToRho(1)).toBeLessThan(0.5 + 1e-15);
    expect(epsilonToRho(0.1)).toBeGreaterThanOrEqual(0.005);
    expect(epsilonToRho(0.1)).toBeLessThan(0.005 * (1 + 1e-14));
  });

  it('Bun–Steinke: ε = ρ + 2√(ρ ln(1/δ)), never below the closed form', () => {
    for (const [rho, delta] of [
      [0.5, 1e-6],
      [0.01, 1e-9],
      [2, 1e-5],
    ] as const) {
      const exact = rho + 2 * Math.sqrt(rho * Math.log(1 / delta));
      const got = rhoToEpsilonBS(rho, delta);
      expect(got).toBeGreaterThanOrEqual(exact);
      expect((got - exact) / exact).toBeLessThan(1e-13);
    }
    // ρ = 0.5, δ = 1e-6: 0.5 + 2√(0.5 · 6 ln 10) = 5.7565217697…
    expect(rhoToEpsilonBS(0.5, 1e-6)).toBeCloseTo(5.75652177, 7);
  });

  it('CKS20 is valid (some α achieves δ at the reported ε), tighter than Bun–Steinke, and near the true infimum', () => {
    for (const rho of [0.001, 0.05, 0.5, 3, 20]) {
      for (const delta of [1e-5, 1e-8, 1e-12]) {
        const eps = rhoToEpsilonCKS(rho, delta);
        expect(eps).toBeLessThanOrEqual(rhoToEpsilonBS(rho, delta));
        // Validity: at the order α the search chose, the δ achieved at the reported ε is ≤ δ.
        const { alpha: chosen } = cksBestOrder(rho, delta);
        expect(cksDelta(rho, eps, chosen)).toBeLessThanOrEqual(delta);
        // Tightness: compare with the optimum over a dense α grid.
        let bestEps = Infinity;
        for (let x = -15; x <= 15; x += 0.001) {
          const alpha = 1 + Math.exp(x);
          const body = Math.log(1 / delta) + (alpha - 1) * Math.log1p(-1 / alpha) - Math.log(alpha);
          bestEps = Math.min(bestEps, alpha * rho + body / (alpha - 1));
        }
        // Near-optimal: at most 1e-6 relative above the dense-grid optimum (it may be slightly below it,
        // since grid points miss the exact optimum).
        expect((eps - bestEps) / bestEps).toBeLessThan(1e-6);
      }
    }
  });

  it('rhoToEpsilon takes the tighter bound', () => {
    expect(rhoToEpsilon(0.5, 1e-6)).toBe(Math.min(rhoToEpsilonBS(0.5, 1e-6), rhoToEpsilonCKS(0.5, 1e-6)));
    expect(rhoToEpsilon(0.5, 1e-6)).toBeLessThan(5.3);
  });

  it('chargeToDp adds the charge’s own δ (from partition selection) to the conversion δ', () => {
    const dp = chargeToDp({ rho: 0.1, delta: 1e-7 }, 1e-6);
    expect(dp.delta).toBeGreaterThanOrEqual(1.1e-6);
    expect(dp.epsilon).toBe(rhoToEpsilon(0.1, 1e-6));
    expect(chargeToDp({ rho: 0, delta: 0 }, 1e-6)).toEqual({ epsilon: 0, delta: 0 });
  });

  it('refuses bad ρ and δ with stable codes', () => {
    for (const rho of [Number.NaN, 0, -1, Infinity, 51]) expect(codeOf(() => rhoToEpsilon(rho, 1e-6))).toBe('INVALID_RHO');
    for (const delta of [Number.NaN, 0, -1e-9, 1, 0.5, Infinity]) expect(codeOf(() => rhoToEpsilon(0.1, delta))).toBe('INVALID_DELTA');
    for (const eps of [Number.NaN, 0, -1, Infinity, 50.5]) expect(codeOf(() => epsilonToRho(eps))).toBe('INVALID_EPSILON');
  });
});

describe('composition and the in-memory accountant', () => {
  it('sequential composition adds ρ and δ and never rounds down', () => {
    const c = compose({ rho: 0.1, delta: 1e-9 }, { rho: 0.2, delta: 0 }, { rho: 0.3, delta: 2e-9 });
    expect(c.rho).toBeGreaterThanOrEqual(0.6);
    expect(c.rho).toBeLessThan(0.6 + 1e-15);
    expect(c.delta).toBeGreaterThanOrEqual(3e-9);
    // 0.1 + 0.2 rounds to 0.30000000000000004 in IEEE; repeated tiny charges must never sum below the exact total.
    let total = { rho: 0, delta: 0 };
    for (let i = 0; i < 1000; i++) total = compose(total, { rho: 0.001, delta: 0 });
    expect(total.rho).toBeGreaterThanOrEqual(1);
    expect(compose()).toEqual({ rho: 0, delta: 0 });
    expect(codeOf(() => compose({ rho: -1, delta: 0 }))).toBe('INVALID_RHO');
    expect(codeOf(() => compose({ rho: Number.NaN, delta: 0 }))).toBe('INVALID_RHO');
  });

  it('spends until the cap, then refuses with BUDGET_EXHAUSTED and changes nothing', () => {
    const acc = new Accountant({ rho: 1, delta: 1e-6 });
    for (let i = 0; i < 3; i++) acc.spend({ rho: 0.25, delta: 0 });
    expect(acc.spent.rho).toBeGreaterThanOrEqual(0.75);
    expect(acc.spent.rho).toBeLessThan(0.75 + 1e-15);
    expect(acc.canSpend({ rho: 0.25, delta: 0 })).toBe(false); // 0.75 + 0.25 rounds up above 1
    expect(acc.canSpend({ rho: 0.2, delta: 0 })).toBe(true);
    const before = { ...acc.spent }; // a copy: `spent` may be the accountant's own object
    const refusal = thrown(() => acc.spend({ rho: 0.3, delta: 0 }));
    expect(refusal).toBeInstanceOf(Error);
    expect((refusal as { code?: string }).code).toBe('BUDGET_EXHAUSTED');
    expect((refusal as Error).message).not.toMatch(/\d\.\d/); // no budget figures in the message
    expect({ ...acc.spent }).toEqual(before);
    expect(codeOf(() => acc.spend({ rho: 0.01, delta: 2e-6 }))).toBe('BUDGET_EXHAUSTED');
    expect({ ...acc.spent }).toEqual(before);
    expect(acc.remaining().rho).toBeCloseTo(0.25, 12);
  });

  it('keeps its promise over any sequence of charges: spent never exceeds the cap, covers every accepted charge, and each refusal changes nothing', () => {
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31; // deterministic, test-only
    for (let run = 0; run < 50; run++) {
      const cap = { rho: 0.1 + next() * 2, delta: next() < 0.5 ? 0 : 1e-6 };
      const acc = new Accountant(cap);
      let accepted = 0;
      let refused = 0;
      const exactRho: number[] = [];
      for (let i = 0; i < 40; i++) {
        const charge = { rho: next() * cap.rho * 0.3 + 1e-9, delta: next() < 0.8 ? 0 : 4e-7 };
        const fits = acc.canSpend(charge);
        const before = { ...acc.spent };
        const code = codeOf(() => acc.spend(charge));
        if (fits) {
          expect(code).toBeUndefined();
          accepted++;
          exactRho.push(charge.rho);
        } else {
          expect(code).toBe('BUDGET_EXHAUSTED');
          expect({ ...acc.spent }).toEqual(before);
          refused++;
        }
        expect(acc.spent.rho).toBeLessThanOrEqual(cap.rho);
        expect(acc.spent.delta).toBeLessThanOrEqual(cap.delta);
        // never rounds down: at least the sum of the accepted charges (summed in ascending order, the most accurate float sum)
        expect(acc.spent.rho).toBeGreaterThanOrEqual([...exactRho].sort((a, b) => a - b).reduce((a, b) => a + b, 0) * (1 - 1e-15));
      }
      expect(accepted).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(0);
    }
  });

  it('nextUp really moves up', () => {
    expect(nextUp(1)).toBeGreaterThan(1);
    expect(nextUp(-1)).toBeGreaterThan(-1);
    expect(nextUp(0)).toBeGreaterThan(0);
  });
});
