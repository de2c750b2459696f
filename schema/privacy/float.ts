/**
 * Directed rounding for privacy arithmetic in IEEE-754 doubles.
 *
 * Privacy losses are computed in floating point, but never rounded in favour of the releaser:
 * after every operation the result is moved up (or down) by whole ulps so that it bounds the exact
 * real value. One ulp suffices after a correctly rounded operation (+, −, ×, ÷, √); transcendental
 * functions (exp, log) are accurate to within one ulp in V8, so their results are moved by two.
 */

const buffer = new DataView(new ArrayBuffer(8));

/** The smallest double strictly greater than x (x finite). */
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  buffer.setFloat64(0, x);
  let bits = buffer.getBigUint64(0);
  bits = x > 0 ? bits + 1n : bits - 1n;
  buffer.setBigUint64(0, bits);
  return buffer.getFloat64(0);
}

/** The largest double strictly smaller than x (x finite). */
export function nextDown(x: number): number {
  return -nextUp(-x);
}

/** x moved up by `ulps` ulps: an upper bound on a value computed as x with at most `ulps` ulps of error. */
export function up(x: number, ulps = 1): number {
  let y = x;
  for (let i = 0; i < ulps; i++) y = nextUp(y);
  return y;
}

/** x moved down by `ulps` ulps. */
export function down(x: number, ulps = 1): number {
  let y = x;
  for (let i = 0; i < ulps; i++) y = nextDown(y);
  return y;
}

/**
 * The exact value of a finite double as mantissa × 2^exponent with an integer mantissa.
 * (Every finite double is a dyadic rational.)
 */
export function exactDyadic(x: number): { mantissa: bigint; exponent: number } {
  if (!Number.isFinite(x)) throw new RangeError('exactDyadic needs a finite number');
  if (x === 0) return { mantissa: 0n, exponent: 0 };
  buffer.setFloat64(0, x);
  const bits = buffer.getBigUint64(0);
  const sign = bits >> 63n ? -1n : 1n;
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const exponent = (biased === 0 ? 1 : biased) - 1075;
  return { mantissa: sign * mantissa, exponent };
}
