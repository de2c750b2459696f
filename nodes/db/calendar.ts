/** Calendar helpers for incident dates (ISO 8601, proleptic Gregorian, UTC). */

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

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

/**
 * The ISO 8601 week of a valid `YYYY-MM-DD` date, written `YYYY-Www` (e.g. `2025-W07`); the year is the
 * ISO week-numbering year, which differs from the calendar year around 1 January.
 */
export function isoWeek(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d));
  const dow = t.getUTCDay() || 7; // Monday = 1 … Sunday = 7
  t.setUTCDate(t.getUTCDate() + 4 - dow); // the Thursday of the same week decides the year
  const weekYear = t.getUTCFullYear();
  const jan1 = Date.UTC(weekYear, 0, 1);
  const week = Math.floor((t.getTime() - jan1) / 86_400_000 / 7) + 1;
  return `${weekYear}-W${String(week).padStart(2, '0')}`;
}

/** The month of a valid `YYYY-MM-DD` date, written `YYYY-MM`. */
export function isoMonth(date: string): string {
  return date.slice(0, 7);
}
