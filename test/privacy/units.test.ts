/** The one fixed-point unit system of every ledger (schema/privacy/units.ts). */
import { describe, expect, it } from 'vitest';
import { AccordError } from '../../schema/errors.js';
import { exactDyadic } from '../../schema/privacy/float.js';
import {
  capUnits,
  chargeUnits,
  DELTA_UNITS,
  deltaCapUnits,
  deltaChargeUnits,
  deltaFromUnits,
  fromUnits,
  MAX_DELTA,
  MAX_RHO,
  RHO_UNITS,
  rhoCapUnits,
  rhoChargeUnits,
  rhoFromUnits,
} from '../../schema/privacy/units.js';

/** True when u − 1 < x · scale ≤ u exactly, with x = mantissa · 2^exponent. */
function isCeiling(u: number, x: number, scale: bigint): boolean {
  const { mantissa, exponent } = exactDyadic(x);
  const scaled = exponent >= 0 ? mantissa * scale * 2n ** BigInt(exponent) : mantissa * scale; // x·scale·2^-min(exponent,0)
  const den = exponent >= 0 ? 1n : 2n ** BigInt(-exponent);
  return (BigInt(u) - 1n) * den < scaled && scaled <= BigInt(u) * den;
}

const SAMPLES = [0, 5e-324, 1e-18, 1e-15, 1e-13, 1e-12, 1.5e-12, 2.5e-7, 4.999e-7, 1e-5, 0.04999996185305646, 0.05, 0.1, 0.125, 0.3, 0.30000000000000004, 1 / 3, 0.7, 1, 12.345678901234, 49.99, 50];

describe('fixed-point privacy units', () => {
  it('uses one unit for ρ (pico) and one for δ (femto)', () => {
    expect(RHO_UNITS).toBe(10n ** 12n);
    expect(DELTA_UNITS).toBe(10n ** 15n);
    // the largest amounts in one row stay exact as JS numbers
    expect(Number.isSafeInteger(rhoChargeUnits(MAX_RHO))).toBe(true);
    expect(Number.isSafeInteger(deltaChargeUnits(MAX_DELTA))).toBe(true);
  });

  it('rounds a charge up from the exact binary value of the double', () => {
    for (const x of SAMPLES) {
      expect(isCeiling(rhoChargeUnits(x), x, RHO_UNITS), `ρ ${x}`).toBe(true);
      if (x <= MAX_DELTA) expect(isCeiling(deltaChargeUnits(x), x, DELTA_UNITS), `δ ${x}`).toBe(true);
    }
    // the double 0.1 is 0.1000000000000000055…: one pico-ρ more than 10¹¹
    expect(rhoChargeUnits(0.1)).toBe(100_000_000_001);
    expect(rhoChargeUnits(0.125)).toBe(125_000_000_000);
    // anything above zero costs at least one unit
    expect(chargeUnits({ rho: 5e-324, delta: 5e-324 })).toEqual({ rho: 1, delta: 1 });
    // 5e-7 is 4.9999999999999997…e-7 as a double: a per-query δ of that size is exact in femto-δ
    expect(deltaChargeUnits(5e-7)).toBe(500_000_000);
    expect(rhoChargeUnits(0)).toBe(0);
  });

  it('reads a cap as the decimal it is written as, rounded down', () => {
    expect(capUnits({ rho: 0.3, delta: 1e-5 })).toEqual({ rho: 300_000_000_000, delta: 10_000_000_000 });
    expect(rhoCapUnits(0.30000000000000004)).toBe(300_000_000_000);
    expect(rhoCapUnits(1e-13)).toBe(0);
    expect(deltaCapUnits(1e-16)).toBe(0);
    expect(capUnits({ rho: MAX_RHO, delta: MAX_DELTA })).toEqual({ rho: 1e15, delta: 1e15 });
  });

  it('never lets charges exceed a cap: n charges fit exactly when n·charge ≤ cap in units', () => {
    const cases: Array<[cap: number, charge: number, fits: number]> = [
      [1, 0.05, 19], // 0.05 is slightly above one twentieth
      [1, 0.04999996185305646, 20],
      [0.5, 0.125, 4],
    ];
    for (const [cap, charge, fits] of cases) {
      const c = rhoChargeUnits(charge);
      const k = rhoCapUnits(cap);
      expect(Math.floor(k / c), `${charge} into ${cap}`).toBe(fits);
      expect(fits * c).toBeLessThanOrEqual(k);
      // and the real amounts spent stay within the cap the operator wrote
      expect(fits * charge).toBeLessThanOrEqual(cap * (1 + 1e-15));
    }
    // δ: a node cap of 1e-5 holds twenty queries of δ = 5e-7, and a slightly larger δ only nineteen
    expect(Math.floor(deltaCapUnits(1e-5) / deltaChargeUnits(5e-7))).toBe(20);
    expect(Math.floor(deltaCapUnits(1e-5) / deltaChargeUnits(5.0000001e-7))).toBe(19);
  });

  it('a node charging a gateway grant records at least what the gateway recorded, at most one unit more', () => {
    for (const x of SAMPLES) {
      const rho = rhoChargeUnits(x);
      const again = rhoChargeUnits(rhoFromUnits(rho));
      expect(again - rho, `ρ ${x}`).toBeGreaterThanOrEqual(0);
      expect(again - rho, `ρ ${x}`).toBeLessThanOrEqual(1);
      if (x > MAX_DELTA) continue;
      const delta = deltaChargeUnits(x);
      const deltaAgain = deltaChargeUnits(deltaFromUnits(delta));
      expect(deltaAgain - delta, `δ ${x}`).toBeGreaterThanOrEqual(0);
      expect(deltaAgain - delta, `δ ${x}`).toBeLessThanOrEqual(1);
    }
  });

  it('converts back to the nearest double', () => {
    expect(fromUnits({ rho: 100_000_000_000, delta: 1 })).toEqual({ rho: 0.1, delta: 1e-15 });
    expect(rhoFromUnits(rhoCapUnits(0.123456789012))).toBe(0.123456789012);
    expect(deltaFromUnits(deltaCapUnits(1e-5))).toBe(1e-5);
  });

  it('refuses amounts outside the ledger range: charges INVALID_PARAMETER, caps CONFIG_INVALID', () => {
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof AccordError ? e.code : 'other';
      }
      return undefined;
    };
    for (const bad of [-1e-12, Number.NaN, Number.POSITIVE_INFINITY, MAX_RHO * 1.0001]) {
      expect(codeOf(() => rhoChargeUnits(bad)), String(bad)).toBe('INVALID_PARAMETER');
      expect(codeOf(() => rhoCapUnits(bad)), String(bad)).toBe('CONFIG_INVALID');
    }
    expect(codeOf(() => deltaChargeUnits(1.5))).toBe('INVALID_PARAMETER');
    expect(codeOf(() => deltaCapUnits(-1))).toBe('CONFIG_INVALID');
    expect(codeOf(() => chargeUnits({ rho: 0.1, delta: 2 }))).toBe('INVALID_PARAMETER');
  });
});
