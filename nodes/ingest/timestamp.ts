/**
 * RFC 3339 timestamps as STIX 2.1 uses them (§3.2: UTC, trailing `Z`, optional sub-second digits) and
 * their canonical fixed-width form, which orders versions by plain string comparison.
 */

const TS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,}))?Z$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function leap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

export interface Timestamp {
  /** `YYYY-MM-DDTHH:MM:SS.fffffffffZ` (nine fractional digits; more are cut). */
  canonical: string;
  /** `YYYY-MM-DD`. */
  date: string;
}

/**
 * Parses a STIX timestamp. Returns undefined unless `s` is `YYYY-MM-DDTHH:MM:SS[.s+]Z` naming a real
 * calendar instant (month 1–12, a day of that month, hour ≤ 23, minute ≤ 59, second ≤ 60 for a leap
 * second). Never throws.
 */
export function parseTimestamp(s: unknown): Timestamp | undefined {
  if (typeof s !== 'string' || s.length > 64) return undefined;
  const hit = CACHE.get(s);
  if (hit !== undefined) return hit;
  const t = parse(s);
  if (t) {
    if (CACHE.size >= 20_000) CACHE.clear();
    CACHE.set(s, t);
  }
  return t;
}

/** Recently parsed timestamps (bundles repeat them a lot); bounded. */
const CACHE = new Map<string, Timestamp>();

function parse(s: string): Timestamp | undefined {
  const m = TS.exec(s);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const se = Number(m[6]);
  if (mo < 1 || mo > 12 || d < 1) return undefined;
  const maxDay = mo === 2 && leap(y) ? 29 : DAYS[mo - 1]!;
  if (d > maxDay || h > 23 || mi > 59 || se > 60) return undefined;
  const frac = (m[7] ?? '').slice(0, 9).padEnd(9, '0');
  const date = `${m[1]}-${m[2]}-${m[3]}`;
  return Object.freeze({ canonical: `${date}T${m[4]}:${m[5]}:${m[6]}.${frac}Z`, date });
}

/** The canonical timestamp of a Unix time in whole seconds (MISP timestamps), or undefined when out of range. */
export function timestampFromUnixSeconds(v: unknown): Timestamp | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,12}$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 253402300799) return undefined;
  const iso = new Date(n * 1000).toISOString();
  return parseTimestamp(iso);
}
