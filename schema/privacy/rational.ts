/**
 * Exact non-negative rationals over bigint, as used for sampler parameters (noise scales, σ²,
 * probabilities). Only the operations the core needs.
 */
import { exactDyadic } from './float.js';

/** num / den with den > 0, in lowest terms. */
export interface Rational {
  readonly num: bigint;
  readonly den: bigint;
}

export function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** The rational num/den in lowest terms; den must be positive. */
export function rational(num: bigint | number, den: bigint | number = 1n): Rational {
  let n = BigInt(num);
  let d = BigInt(den);
  if (d === 0n) throw new RangeError('rational: zero denominator');
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const g = gcd(n, d);
  return g > 1n ? { num: n / g, den: d / g } : { num: n, den: d };
}

/** ⌈p / q⌉ for p ≥ 0, q > 0. */
export function ceilDiv(p: bigint, q: bigint): bigint {
  return (p + q - 1n) / q;
}

/** ⌊√n⌋ for n ≥ 0 (Newton's method on bigint). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError('isqrt of a negative number');
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  // Correct the float estimate exactly.
  while (x * x > n) x -= 1n;
  while ((x + 1n) * (x + 1n) <= n) x += 1n;
  return x;
}

/**
 * The smallest multiple of 2^-gridBits that is ≥ `numerator / x`, where `numerator` is a
 * non-negative integer and `x` a positive finite double taken at its exact binary value.
 * Used to turn "scale = sensitivity / ε" into an exact rational that never under-noises.
 */
export function ceilQuotientOnGrid(numerator: bigint, x: number, gridBits: number): Rational {
  const { mantissa, exponent } = exactDyadic(x);
  if (mantissa <= 0n) throw new RangeError('ceilQuotientOnGrid needs a positive divisor');
  // numerator / (mantissa · 2^exponent) · 2^gridBits = numerator · 2^(gridBits − exponent) / mantissa
  const shift = gridBits - exponent;
  const p = shift >= 0 ? numerator << BigInt(shift) : numerator;
  const q = shift >= 0 ? mantissa : mantissa << BigInt(-shift);
  return rational(ceilDiv(p, q), 1n << BigInt(gridBits));
}

/** A double approximation of r (for display and accuracy reporting only — never to decide a sample). */
export function toNumber(r: Rational): number {
  const n = Number(r.num);
  const d = Number(r.den);
  if (Number.isFinite(n) && Number.isFinite(d)) return n / d;
  // Scale down both parts to keep them in range.
  const shift = BigInt(Math.max(0, r.den.toString(2).length - 1000));
  return Number(r.num >> shift) / Number(r.den >> shift);
}

export function compare(a: Rational, b: Rational): number {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

/** The smallest multiple of 2^-gridBits that is ≥ x (x a non-negative finite double, at its exact value). */
export function ceilOnGrid(x: number, gridBits: number): Rational {
  const { mantissa, exponent } = exactDyadic(x);
  if (mantissa < 0n) throw new RangeError('ceilOnGrid needs a non-negative number');
  const shift = exponent + gridBits;
  const scaled = shift >= 0 ? mantissa << BigInt(shift) : ceilDiv(mantissa, 1n << BigInt(-shift));
  return rational(scaled, 1n << BigInt(gridBits));
}

/** The exact square of a finite double, as a rational. */
export function exactSquare(x: number): Rational {
  const { mantissa, exponent } = exactDyadic(x);
  const m2 = mantissa * mantissa;
  return exponent >= 0 ? rational(m2 << BigInt(2 * exponent)) : rational(m2, 1n << BigInt(-2 * exponent));
}

/** The smallest multiple of 2^-gridBits that is ≥ r. */
export function ceilRationalOnGrid(r: Rational, gridBits: number): Rational {
  return rational(ceilDiv(r.num << BigInt(gridBits), r.den), 1n << BigInt(gridBits));
}
