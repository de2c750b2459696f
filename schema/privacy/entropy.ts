/**
 * The privacy core's single source of randomness — the only file of the core that touches
 * `node:crypto`.
 *
 * Every noise draw, Bernoulli trial and shuffle in Accord consumes 32-bit words from an
 * {@link Entropy}. By default the words come from the operating system's CSPRNG
 * (`crypto.randomFillSync`), buffered in a pool so that one system call serves thousands of draws.
 * Tests may inject another {@link ByteSource}; product code never does.
 */
import { randomFillSync } from 'node:crypto';

/** Something that fills a buffer with uniformly random bytes. */
export interface ByteSource {
  fill(buffer: Uint8Array): void;
}

/** The operating system's CSPRNG. */
export const cryptoByteSource: ByteSource = {
  fill(buffer: Uint8Array): void {
    randomFillSync(buffer);
  },
};

const DEFAULT_POOL_BYTES = 64 * 1024;

/**
 * A buffered stream of uniformly random 32-bit words drawn from a {@link ByteSource}.
 * Not safe to share across threads (JS is single-threaded per isolate, so it is safe within one).
 */
export class Entropy {
  private readonly bytes: Uint8Array;
  private readonly words: Uint32Array;
  private position: number;

  constructor(private readonly source: ByteSource = cryptoByteSource, poolBytes: number = DEFAULT_POOL_BYTES) {
    const size = Math.max(4, Math.floor(poolBytes / 4) * 4);
    this.bytes = new Uint8Array(size);
    this.words = new Uint32Array(this.bytes.buffer, 0, size / 4);
    this.position = this.words.length; // empty: filled on first use
  }

  /** A uniformly random integer in [0, 2^32). */
  u32(): number {
    if (this.position >= this.words.length) {
      this.source.fill(this.bytes);
      this.position = 0;
    }
    return this.words[this.position++]!;
  }
}

let shared: Entropy | undefined;

/** The process-wide CSPRNG-backed entropy. */
export function defaultEntropy(): Entropy {
  shared ??= new Entropy(cryptoByteSource);
  return shared;
}
