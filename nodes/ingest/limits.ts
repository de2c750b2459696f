/**
 * Defensive limits of every importer. An input beyond a limit is refused with the format's error
 * code and a clear message; nothing of it is stored.
 */

export interface IngestLimits {
  /** Deepest JSON nesting accepted (objects and arrays, the document itself included). */
  maxDepth: number;
  /** Longest JSON string (raw UTF-8 bytes between the quotes) or CSV field, in bytes. */
  maxStringBytes: number;
  /** Largest single STIX object, in bytes of JSON. */
  maxObjectBytes: number;
  /** Largest MISP document, in bytes (MISP events are read whole). */
  maxMispBytes: number;
  /** Largest CSV row, in bytes. */
  maxCsvRowBytes: number;
}

export const DEFAULT_LIMITS: Readonly<IngestLimits> = Object.freeze({
  maxDepth: 64,
  maxStringBytes: 1024 * 1024,
  maxObjectBytes: 16 * 1024 * 1024,
  maxMispBytes: 256 * 1024 * 1024,
  maxCsvRowBytes: 4 * 1024 * 1024,
});

/** `DEFAULT_LIMITS` with the given overrides (non-positive or non-integer overrides are ignored). */
export function resolveLimits(l: Partial<IngestLimits> | undefined): IngestLimits {
  const out: IngestLimits = { ...DEFAULT_LIMITS };
  for (const k of Object.keys(out) as (keyof IngestLimits)[]) {
    const v = l?.[k];
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) out[k] = v;
  }
  return out;
}
