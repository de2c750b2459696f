/**
 * Exact samplers (Canonne, Kamath, Steinke, "The Discrete Gaussian for Differential Privacy",
 * NeurIPS 2020 — "CKS20" below).
 *
 * Every decision is made by comparing uniformly random integers drawn from an {@link Entropy}
 * with integers: no floating-point transcendental function ever decides a sample. Integer
 * arithmetic stays in the exact range of doubles (< 2^53) on the fast path and switches to bigint
 * whenever an intermediate value would leave it, so the output distributions below are exact
 * (given a perfect entropy source), not approximations.
 *
 * The only inexactness is the entropy source itself; with the OS CSPRNG it is computationally
 * indistinguishable from uniform.
 */
import type { Entropy } from './entropy.js';
import { isqrt, type Rational } from './rational.js';

const TWO32 = 4294967296;
const TWO53 = 9007199254740992;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const TWO53N = 1n << 53n;
/** ⌊√(2^53 − 1)⌋: |m| up to this keeps m² exact in a double. */
const SQRT_MAX_SAFE = 94906265;

/**
 * Uniform integer in {0, …, n−1} for an integer 1 ≤ n ≤ 2^53.
 * Exact: draws 32 (or 53) uniform bits and rejects the top partial block, so each value has
 * probability exactly 1/n. Expected draws < 2.
 */
export function uniformInt(entropy: Entropy, n: number): number {
  if (n <= TWO32) {
    if (n === TWO32) return entropy.u32();
    const limit = TWO32 - (TWO32 % n);
    for (;;) {
      const u = entropy.u32();
      if (u < limit) return u % n;
    }
  }
  if (n > TWO53 || !Number.isInteger(n)) throw new RangeError('uniformInt: n must be an integer in [1, 2^53]');
  const limit = TWO53 - (TWO53 % n);
  for (;;) {
    const u = (entropy.u32() & 0x1fffff) * TWO32 + entropy.u32();
    if (u < limit) return u % n;
  }
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Uniform bigint in {0, …, n−1} for n ≥ 1. Exact (rejection sampling on ⌈log2 n⌉ bits). */
export function uniformBig(entropy: Entropy, n: bigint): bigint {
  if (n < 1n) throw new RangeError('uniformBig: n must be ≥ 1');
  if (n <= TWO53N) return BigInt(uniformInt(entropy, Number(n)));
  const bits = bitLength(n - 1n);
  const words = Math.ceil(bits / 32);
  const mask = (1n << BigInt(bits)) - 1n;
  for (;;) {
    let x = 0n;
    for (let i = 0; i < words; i++) x = (x << 32n) | BigInt(entropy.u32());
    x &= mask;
    if (x < n) return x;
  }
}

/** Bernoulli(p) for rational p = num/den ∈ [0, 1]: true with probability exactly num/den. */
export function bernoulli(entropy: Entropy, p: Rational): boolean {
  if (p.num < 0n || p.num > p.den) throw new RangeError('bernoulli: p must be in [0, 1]');
  return uniformBig(entropy, p.den) < p.num;
}

/** Bernoulli(1/2) from one random bit. */
export function fairCoin(entropy: Entropy): boolean {
  return (entropy.u32() & 1) === 1;
}

/**
 * Bernoulli(exp(−n/d)) for 0 ≤ n ≤ d (γ ∈ [0, 1]), safe integers. CKS20 Algorithm 1, first branch:
 * K ← 1; repeat { A ← Bernoulli(γ/K); if A = 0 stop; K ← K+1 }; return [K odd].
 * P[K odd] = Σ_k odd (γ^(k−1)/(k−1)! − γ^k/k!) = e^(−γ).
 */
function bernoulliExpNegUnit(entropy: Entropy, n: number, d: number): boolean {
  let k = 1;
  for (;;) {
    const dk = d * k;
    if (dk > TWO53) return bernoulliExpNegUnitBig(entropy, BigInt(n), BigInt(d), BigInt(k));
    if (uniformInt(entropy, dk) >= n) break;
    k++;
  }
  return (k & 1) === 1;
}

/** The bigint continuation of {@link bernoulliExpNegUnit} from a given K (the same loop, exactly). */
function bernoulliExpNegUnitBig(entropy: Entropy, n: bigint, d: bigint, startK: bigint): boolean {
  let k = startK;
  for (;;) {
    if (uniformBig(entropy, d * k) >= n) break;
    k++;
  }
  return (k & 1n) === 1n;
}

/**
 * Bernoulli(exp(−γ)) for rational γ = num/den ≥ 0 (CKS20 Algorithm 1).
 * For γ > 1 it uses exp(−γ) = exp(−1)^⌊γ⌋ · exp(−(γ − ⌊γ⌋)): ⌊γ⌋ independent Bernoulli(exp(−1))
 * trials (stopping at the first failure), then one Bernoulli(exp(−frac(γ))).
 * Returns true with probability exactly exp(−γ).
 */
export function bernoulliExpNeg(entropy: Entropy, num: number | bigint, den: number | bigint): boolean {
  if (typeof num === 'number' && typeof den === 'number' && num <= MAX_SAFE && den <= MAX_SAFE) {
    let n = num;
    while (n > den) {
      if (!bernoulliExpNegUnit(entropy, 1, 1)) return false;
      n -= den;
    }
    return bernoulliExpNegUnit(entropy, n, den);
  }
  const d = BigInt(den);
  let n = BigInt(num);
  if (n < 0n || d < 1n) throw new RangeError('bernoulliExpNeg: need γ ≥ 0');
  if (n > d) {
    const whole = n / d;
    for (let i = 0n; i < whole; i++) if (!bernoulliExpNegUnit(entropy, 1, 1)) return false;
    n -= whole * d;
  }
  if (n <= TWO53N && d <= TWO53N) return bernoulliExpNegUnit(entropy, Number(n), Number(d));
  return bernoulliExpNegUnitBig(entropy, n, d, 1n);
}

/**
 * Geometric on {0, 1, 2, …} with P[V = v] = (1 − e^(−γ)) · e^(−γ v), γ = num/den > 0:
 * the number of successes of Bernoulli(exp(−γ)) before the first failure (CKS20 Alg. 2, inner loop).
 */
export function geometricExpNeg(entropy: Entropy, num: number | bigint, den: number | bigint): number {
  let v = 0;
  while (bernoulliExpNeg(entropy, num, den)) v++;
  return v;
}

/**
 * Geometric on {0, 1, 2, …} with P[G = g] = (1 − p)^g · p for rational p ∈ (0, 1]:
 * the number of failures of Bernoulli(p) before the first success. Expected 1/p trials.
 */
export function geometric(entropy: Entropy, p: Rational): number {
  if (p.num <= 0n) throw new RangeError('geometric: p must be > 0');
  let g = 0;
  while (!bernoulli(entropy, p)) g++;
  return g;
}

/** ⌊x / s⌋ for safe non-negative integers, exactly. */
function floorDiv(x: number, s: number): number {
  if (s === 1) return x;
  let q = Math.floor(x / s);
  const r = x - q * s;
  if (r < 0) q -= 1;
  else if (r >= s) q += 1;
  return q;
}

/**
 * Discrete Laplace with scale τ = t/s (CKS20 Algorithm 2), for integers t, s ≥ 1 with t, s ≤ 2^40:
 *
 *   P[Y = y] = (e^(1/τ) − 1) / (e^(1/τ) + 1) · e^(−|y|/τ),  y ∈ ℤ.
 *
 * U uniform on {0..t−1} accepted with probability e^(−U/t), plus t·V with V geometric
 * (e^(−1)), gives X with P[X = x] ∝ e^(−x/t); Y = ⌊X/s⌋ has P ∝ e^(−y s/t); a fair sign with
 * "−0" rejected makes it two-sided.
 */
export function discreteLaplace(entropy: Entropy, t: number, s = 1): number {
  for (;;) {
    const u = t === 1 ? 0 : uniformInt(entropy, t);
    if (u !== 0 && !bernoulliExpNegUnit(entropy, u, t)) continue;
    let v = 0;
    while (bernoulliExpNegUnit(entropy, 1, 1)) v++;
    const x = u + t * v;
    if (x > MAX_SAFE) {
      // Unreachable for t ≤ 2^40 unless V ≥ 2^13 (probability < e^(−8192)); stay exact regardless.
      const y = (BigInt(u) + BigInt(t) * BigInt(v)) / BigInt(s);
      if (y > BigInt(MAX_SAFE)) throw new RangeError('discreteLaplace: sample outside the safe integer range');
      const sign = fairCoin(entropy);
      return sign ? -Number(y) : Number(y);
    }
    const y = floorDiv(x, s);
    const negative = fairCoin(entropy);
    if (negative && y === 0) continue;
    return negative ? -y : y;
  }
}

/**
 * Discrete Gaussian N_ℤ(0, σ²) for rational σ² = a/b > 0 (CKS20 Algorithm 3):
 *
 *   P[Y = y] = e^(−y²/2σ²) / Σ_{z∈ℤ} e^(−z²/2σ²),  y ∈ ℤ.
 *
 * With t = ⌊σ⌋ + 1: draw Y from the discrete Laplace with scale t and accept with probability
 * exp(−(|Y| − σ²/t)² / 2σ²) = exp(−(|Y|·b·t − a)² / (2·a·b·t²)), evaluated exactly.
 */
export class DiscreteGaussianSampler {
  readonly sigma2: Rational;
  /** ⌊σ⌋ + 1 */
  readonly t: number;
  private readonly a: bigint;
  private readonly b: bigint;
  private readonly bt: bigint;
  private readonly den: bigint;
  private readonly aN: number;
  private readonly btN: number;
  private readonly denN: number;
  private readonly fast: boolean;

  constructor(sigma2: Rational) {
    if (sigma2.num <= 0n || sigma2.den <= 0n) throw new RangeError('DiscreteGaussianSampler: σ² must be > 0');
    this.sigma2 = sigma2;
    this.a = sigma2.num;
    this.b = sigma2.den;
    // ⌊σ⌋ = ⌊√⌊a/b⌋⌋ (floor of a square root commutes with flooring the radicand).
    const floorSigma = isqrt(this.a / this.b);
    if (floorSigma + 1n > 1n << 40n) throw new RangeError('DiscreteGaussianSampler: σ too large');
    this.t = Number(floorSigma + 1n);
    this.bt = this.b * BigInt(this.t);
    this.den = 2n * this.a * this.b * BigInt(this.t) * BigInt(this.t);
    this.fast = this.a <= TWO53N && this.bt <= TWO53N && this.den <= TWO53N;
    this.aN = Number(this.a);
    this.btN = Number(this.bt);
    this.denN = Number(this.den);
  }

  sample(entropy: Entropy): number {
    for (;;) {
      const y = discreteLaplace(entropy, this.t, 1);
      const absY = y < 0 ? -y : y;
      if (this.fast) {
        const ybt = absY * this.btN;
        if (ybt <= MAX_SAFE) {
          const m = ybt - this.aN;
          if (m >= -SQRT_MAX_SAFE && m <= SQRT_MAX_SAFE) {
            if (bernoulliExpNeg(entropy, m * m, this.denN)) return y;
            continue;
          }
        }
      }
      const m = BigInt(absY) * this.bt - this.a;
      if (bernoulliExpNeg(entropy, m * m, this.den)) return y;
    }
  }
}

/** One draw from N_ℤ(0, σ²); see {@link DiscreteGaussianSampler}. */
export function discreteGaussian(entropy: Entropy, sigma2: Rational): number {
  return new DiscreteGaussianSampler(sigma2).sample(entropy);
}

/** Fisher–Yates shuffle in place with exact uniform indices; every permutation equally likely. */
export function shuffle<T>(entropy: Entropy, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = uniformInt(entropy, i + 1);
    const tmp = items[i]!;
    items[i] = items[j]!;
    items[j] = tmp;
  }
  return items;
}
