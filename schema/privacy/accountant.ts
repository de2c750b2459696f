/**
 * Privacy accounting in (approximate) ρ-zero-concentrated differential privacy.
 *
 * A charge is (ρ, δ): ρ-zCDP except with probability δ (Bun & Steinke 2016, "approximate zCDP";
 * δ comes only from partition selection). Charges compose by adding both parts (sequential
 * composition). A pure ε-DP mechanism is ε²/2-zCDP (Bun & Steinke 2016, Prop. 1.4). A ρ-zCDP
 * charge is reported as (ε, δ)-DP by the tighter of
 *   • Bun & Steinke 2016, Prop. 1.3:   ε = ρ + 2√(ρ ln(1/δ))
 *   • CKS20, Corollary 13:             ε = inf_{α>1} αρ + (ln(1/δ) + (α−1) ln(1 − 1/α) − ln α) / (α − 1)
 * Every computation rounds up: the reported loss is never below the exact one.
 */
import { AccordError } from '../errors.js';
import { up } from './float.js';
import { validateDelta, validateEpsilon, validateRho } from './validate.js';

export interface PrivacyCharge {
  /** ρ of ρ-zCDP. */
  readonly rho: number;
  /** δ of approximate zCDP (0 unless partition selection was used). */
  readonly delta: number;
}

export const ZERO_CHARGE: PrivacyCharge = Object.freeze({ rho: 0, delta: 0 });

/** ε-DP ⇒ (ε²/2)-zCDP. */
export function epsilonToRho(epsilon: number): number {
  validateEpsilon(epsilon);
  return up((epsilon * epsilon) / 2, 2);
}

/** Sequential composition: (Σρ, Σδ), rounded up. */
export function compose(...charges: PrivacyCharge[]): PrivacyCharge {
  let rho = 0;
  let delta = 0;
  for (const c of charges) {
    if (!(c.rho >= 0) || !(c.delta >= 0) || !Number.isFinite(c.rho) || !Number.isFinite(c.delta)) {
      throw new AccordError('INVALID_RHO', 'A privacy charge must have finite, non-negative ρ and δ.');
    }
    rho = c.rho === 0 ? rho : up(rho + c.rho);
    delta = c.delta === 0 ? delta : up(delta + c.delta);
  }
  return { rho, delta };
}

/** Bun–Steinke conversion ε = ρ + 2√(ρ ln(1/δ)), rounded up. */
export function rhoToEpsilonBS(rho: number, delta: number): number {
  validateRho(rho);
  validateDelta(delta);
  const logInv = up(-Math.log(delta), 2);
  return up(rho + up(2 * up(Math.sqrt(up(rho * logInv)))), 1);
}

/** The CKS20 Corollary 13 bound at one order α > 1, rounded up (valid for every α). */
export function cksEpsilonAt(rho: number, delta: number, alpha: number): number {
  const am1 = alpha - 1;
  const body = -Math.log(delta) + am1 * Math.log1p(-1 / alpha) - Math.log(alpha);
  // Each transcendental term is within 1 ulp; the sum and quotient add a few more roundings.
  const value = alpha * rho + body / am1;
  // A relative slack far above the accumulated rounding error (a few ulps per term) keeps the
  // result an upper bound on the exact expression at this α.
  const slack = (alpha * rho + Math.abs(body) / am1 + 1) * 1e-13;
  return up(value + slack, 2);
}

/**
 * CKS20 conversion at the best order α found by golden-section search on log(α − 1) ∈ [−20, 20]
 * (the bound is unimodal in α). Any α gives a valid bound, so the search cannot under-report;
 * it only decides how tight the report is.
 */
export function cksBestOrder(rho: number, delta: number): { alpha: number; epsilon: number } {
  validateRho(rho);
  validateDelta(delta);
  const f = (x: number): number => cksEpsilonAt(rho, delta, 1 + Math.exp(x));
  let lo = -20;
  let hi = 20;
  const g = (Math.sqrt(5) - 1) / 2;
  let x1 = hi - g * (hi - lo);
  let x2 = lo + g * (hi - lo);
  let f1 = f(x1);
  let f2 = f(x2);
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    if (f1 < f2) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - g * (hi - lo);
      f1 = f(x1);
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + g * (hi - lo);
      f2 = f(x2);
    }
  }
  return f1 < f2 ? { alpha: 1 + Math.exp(x1), epsilon: f1 } : { alpha: 1 + Math.exp(x2), epsilon: f2 };
}

/** CKS20 conversion ρ-zCDP ⇒ (ε, δ)-DP (Corollary 13), rounded up. */
export function rhoToEpsilonCKS(rho: number, delta: number): number {
  return cksBestOrder(rho, delta).epsilon;
}

/** ρ-zCDP ⇒ (ε, δ)-DP: the tighter of the Bun–Steinke and CKS20 bounds. */
export function rhoToEpsilon(rho: number, delta: number): number {
  return Math.min(rhoToEpsilonBS(rho, delta), rhoToEpsilonCKS(rho, delta));
}

/**
 * The (ε, δ)-DP statement of an approximate-zCDP charge: a (ρ, δ₀) charge is (ε, δ₀ + δ)-DP with
 * ε = rhoToEpsilon(ρ, δ). `delta` is the conversion δ (e.g. the deployment's δ).
 */
export function chargeToDp(charge: PrivacyCharge, delta: number): { epsilon: number; delta: number } {
  validateDelta(delta);
  if (charge.rho === 0) return { epsilon: 0, delta: charge.delta };
  return { epsilon: rhoToEpsilon(charge.rho, delta), delta: up(charge.delta + delta) };
}

/**
 * An in-memory ledger with a cap: `spend` succeeds only if the composed total stays within the cap
 * (both ρ and δ), otherwise it throws BUDGET_EXHAUSTED and changes nothing. (The durable,
 * concurrent ledger lives with the gateway's storage and uses the same rule.)
 */
export class Accountant {
  private total: PrivacyCharge = ZERO_CHARGE;

  constructor(readonly cap: PrivacyCharge) {
    if (!(cap.rho > 0) || !Number.isFinite(cap.rho)) validateRho(cap.rho);
    if (!(cap.delta >= 0) || cap.delta > 0.01) throw new AccordError('INVALID_DELTA', 'The δ cap must be in [0, 0.01].');
  }

  get spent(): PrivacyCharge {
    return this.total;
  }

  /** What is left (never negative). */
  remaining(): PrivacyCharge {
    return { rho: Math.max(0, this.cap.rho - this.total.rho), delta: Math.max(0, this.cap.delta - this.total.delta) };
  }

  /** Would this charge fit? */
  canSpend(charge: PrivacyCharge): boolean {
    const next = compose(this.total, charge);
    return next.rho <= this.cap.rho && next.delta <= this.cap.delta;
  }

  /** Records the charge or throws BUDGET_EXHAUSTED (all or nothing). */
  spend(charge: PrivacyCharge): PrivacyCharge {
    const next = compose(this.total, charge);
    if (next.rho > this.cap.rho || next.delta > this.cap.delta) {
      throw new AccordError('BUDGET_EXHAUSTED', 'The privacy budget for this period does not cover this query; ask for less (coarser groups, larger scale) or wait for the next period.');
    }
    this.total = next;
    return next;
  }
}
