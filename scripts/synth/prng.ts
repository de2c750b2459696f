/**
 * Small seeded pseudo-random generator for synthetic data: xoshiro128** (Blackman & Vigna 2018) seeded
 * through cyrb128 string hashing and SplitMix32. Deterministic across runs and platforms for a given
 * seed and stream name. This is NOT a privacy noise source — privacy noise comes from the privacy core's
 * cryptographic sampler; nothing here may be used for it.
 */

/** 128-bit hash of a string as four 32-bit words (cyrb128). */
export function hash128(s: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < s.length; i++) {
    const k = s.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/** 32-bit hash of a string (first word of `hash128`). */
export function hash32(s: string): number {
  return hash128(s)[0];
}

function splitmix32(x: number): () => number {
  let a = x >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** xoshiro128** over a 128-bit state. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** A generator for `(seed, stream)`: different streams of one seed are independent sequences. */
  constructor(seed: number | string, stream = '') {
    const h = hash128(`${String(seed)}\u0000${stream}`);
    const sm = splitmix32(h[0] ^ h[1] ^ h[2] ^ h[3]);
    this.a = (h[0] ^ sm()) >>> 0;
    this.b = (h[1] ^ sm()) >>> 0;
    this.c = (h[2] ^ sm()) >>> 0;
    this.d = (h[3] ^ sm()) >>> 0;
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const b = this.b;
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    this.c ^= this.a;
    this.d ^= b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Uniform float in [0, 1) on a 2^-32 grid. */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n) for 1 ≤ n ≤ 2^32 (bias < 2^-32·n, irrelevant for synthetic data). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi] inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  /** Fisher–Yates shuffle of a copy. */
  shuffled<T>(xs: readonly T[]): T[] {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }

  /** `bytes` random bytes as lower-case hex. */
  hex(bytes: number): string {
    let s = '';
    for (let i = 0; i < bytes; i += 4) {
      const x = this.u32();
      s += HEX[x & 255]! + HEX[(x >>> 8) & 255]! + HEX[(x >>> 16) & 255]! + HEX[x >>> 24]!;
    }
    return s.slice(0, bytes * 2);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Sampler over indices 0..n-1 with the given non-negative weights (cumulative table + binary search).
 * `sample` returns an index with probability weight/total; `samplePrefix(k)` samples among the first k.
 * Throws `RangeError` when the weights are empty, negative, non-finite or all zero.
 */
export class Weighted {
  readonly cum: Float64Array;

  constructor(weights: ArrayLike<number>) {
    if (weights.length === 0) throw new RangeError('Weighted: no weights');
    this.cum = new Float64Array(weights.length);
    let acc = 0;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i]!;
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError('Weighted: weights must be finite and non-negative');
      acc += w;
      this.cum[i] = acc;
    }
    if (!(acc > 0)) throw new RangeError('Weighted: all weights are zero');
  }

  get total(): number {
    return this.cum[this.cum.length - 1]!;
  }

  sample(rng: Rng): number {
    return this.samplePrefix(rng, this.cum.length);
  }

  /** Sample among indices [0, k); returns -1 when their total weight is zero. */
  samplePrefix(rng: Rng, k: number): number {
    if (k <= 0) return -1;
    const total = this.cum[k - 1]!;
    if (!(total > 0)) return -1;
    const u = rng.float() * total;
    let lo = 0;
    let hi = k - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cum[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** Zipf–Mandelbrot weights 1/(rank + q)^s for ranks 1..n. */
export function zipfWeights(n: number, s = 1, q = 0): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = 1 / Math.pow(i + 1 + q, s);
  return out;
}
