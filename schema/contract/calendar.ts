/**
 * Calendar buckets as released group keys (ISO 8601, proleptic Gregorian, UTC):
 * weeks are `YYYY-Www` in the ISO week-numbering year, months are `YYYY-MM`. Nodes bucket incident
 * dates the same way; both import this one definition.
 */

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** True when `s` is a real calendar date written `YYYY-MM-DD` (years 1000–9999). */
export function isIsoDate(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (y < 1000 || mo < 1 || mo > 12 || d < 1) return false;
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/** Milliseconds since the epoch of a valid `YYYY-MM-DD` (UTC midnight). */
export function dayStart(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d);
}

/** Whole days in [from, to). */
export function daysBetween(from: string, to: string): number {
  return Math.round((dayStart(to) - dayStart(from)) / DAY_MS);
}

/** `YYYY-MM-DD` of a UTC timestamp. */
function isoDateOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** ISO 8601 week of a valid date, `YYYY-Www` (e.g. `2025-W07`). */
export function isoWeek(date: string): string {
  const t = new Date(dayStart(date));
  const dow = t.getUTCDay() || 7; // Monday = 1 … Sunday = 7
  t.setUTCDate(t.getUTCDate() + 4 - dow); // the week's Thursday decides its year
  const weekYear = t.getUTCFullYear();
  const week = Math.floor((t.getTime() - Date.UTC(weekYear, 0, 1)) / DAY_MS / 7) + 1;
  return `${weekYear}-W${String(week).padStart(2, '0')}`;
}

/** Month of a valid date, `YYYY-MM`. */
export function isoMonth(date: string): string {
  return date.slice(0, 7);
}

/** Every day in [from, to), as `YYYY-MM-DD`, in order. */
export function* days(from: string, to: string): Generator<string> {
  const end = dayStart(to);
  for (let t = dayStart(from); t < end; t += DAY_MS) yield isoDateOf(t);
}
