/** Fixed-point ledger amounts: charges round up from the exact double, caps mean their decimal. */
import { describe, expect, test } from 'vitest';
import { Budgets, resolveBudgets } from '../../gateway/ledger/budgets.js';
import { capUnits, chargeUnits, fromUnits } from '../../gateway/ledger/units.js';

describe('ledger units', () => {
  test('a charge is never recorded below its exact value', () => {
    // 0.05 is 0.05000000000000000277… as a double: one pico-ρ more
    expect(chargeUnits({ rho: 0.05, delta: 0 }).rho).toBe(50_000_000_001);
    // 0.25 is exact
    expect(chargeUnits({ rho: 0.25, delta: 0 }).rho).toBe(250_000_000_000);
    // below one unit still costs one unit
    expect(chargeUnits({ rho: 1e-15, delta: 1e-18 })).toEqual({ rho: 1, delta: 1 });
    expect(chargeUnits({ rho: 0, delta: 0 })).toEqual({ rho: 0, delta: 0 });
    for (const x of [0.04999996185305646, 0.1, 0.3, 1 / 3, 2.5e-7, 12.345678901234]) {
      const u = chargeUnits({ rho: x, delta: x / 1000 });
      expect(u.rho / 1e12).toBeGreaterThanOrEqual(x);
      expect(u.rho / 1e12 - x).toBeLessThanOrEqual(1e-12 + x * 1e-15);
      expect(u.delta / 1e15).toBeGreaterThanOrEqual(x / 1000);
    }
  });

  test('a cap is the decimal it is written as', () => {
    expect(capUnits({ rho: 0.3, delta: 1e-5 })).toEqual({ rho: 300_000_000_000, delta: 10_000_000_000 });
    expect(capUnits({ rho: 1, delta: 0 }).rho).toBe(1_000_000_000_000);
    expect(capUnits({ rho: 1000, delta: 1 })).toEqual({ rho: 1e15, delta: 1e15 });
    expect(capUnits({ rho: 1e-13, delta: 0 }).rho).toBe(0); // finer than a unit: rounded down
    expect(fromUnits(capUnits({ rho: 0.123456789012, delta: 0 })).rho).toBe(0.123456789012);
    // twenty charges of the deployment ρ fit a cap of 1
    const charge = chargeUnits({ rho: 0.04999996185305646, delta: 0 }).rho;
    expect(20 * charge).toBeLessThanOrEqual(capUnits({ rho: 1, delta: 0 }).rho);
    expect(() => capUnits({ rho: -1, delta: 0 })).toThrow(/ρ must be/);
    expect(() => chargeUnits({ rho: Number.NaN, delta: 0 })).toThrow();
  });

  test('budgets: defaults, node caps, member overrides (most specific first), validation', () => {
    const b = new Budgets(
      resolveBudgets({
        nodeCap: { rho: 5 },
        nodeCaps: { 'cert-fr': { rho: 10 } },
        allocation: { rho: 1 },
        allocations: [
          { member: 'm1', rho: 2 },
          { member: 'm1', node: 'cert-fr', rho: 3 },
        ],
      }),
    );
    expect(b.nodeCap('cert-de').rho).toBe(5e12);
    expect(b.nodeCap('cert-fr').rho).toBe(10e12);
    expect(b.nodeCap('cert-fr').delta).toBe(5e10); // δ defaults to the default cap's (1e-4 in femto-units)
    expect(b.allocation('m2', 'cert-de').rho).toBe(1e12);
    expect(b.allocation('m1', 'cert-de').rho).toBe(2e12);
    expect(b.allocation('m1', 'cert-fr').rho).toBe(3e12);
    expect(() => resolveBudgets({ allocation: { rho: -1 } })).toThrow(/allocation.rho/);
    expect(() => resolveBudgets({ allocations: [{ rho: 1 } as never] })).toThrow(/member/);
    expect(() => resolveBudgets({ nodeCap: { rho: 1e6 } })).toThrow(/nodeCap.rho/);
  });
});
