/**
 * ISO 3166-1 countries joined to their UN M49 region and sub-region — a public key domain.
 *
 * Data: `catalog/countries.json` (see `catalog/SOURCES.md`). Two source rows carry no M49 region and are
 * given one here, so that every country has a region and region keys form a complete partition:
 * - `AQ` Antarctica has an empty region in M49: it becomes region "Antarctica", sub-region "Antarctica"
 *   (no numeric code).
 * - `TW` Taiwan is null in the source: it becomes "Asia" / "Eastern Asia" (142 / 030), the grouping the
 *   source uses for its neighbours.
 * Kosovo (`XK`) is not an ISO 3166-1 code and is not in the domain.
 */
import rows from './catalog/countries.json' with { type: 'json' };

export interface Country {
  /** ISO 3166-1 alpha-2, upper case (e.g. `DE`). */
  readonly alpha2: string;
  /** ISO 3166-1 alpha-3, upper case (e.g. `DEU`). */
  readonly alpha3: string;
  /** ISO 3166-1 numeric / M49 country code, three digits. */
  readonly numeric: string;
  /** ISO 3166-1 English short name (e.g. `Korea, Republic of`). */
  readonly name: string;
  /** Common short name when it differs from `name` (e.g. `South Korea`). */
  readonly shortName?: string;
  /** UN M49 region (e.g. `Europe`). */
  readonly region: string;
  /** UN M49 sub-region (e.g. `Western Europe`). */
  readonly subregion: string;
  /** M49 region code, or `''` when M49 has none (Antarctica). */
  readonly regionCode: string;
  /** M49 sub-region code, or `''` when M49 has none (Antarctica). */
  readonly subregionCode: string;
}

interface CountryRow {
  alpha2: string;
  alpha3: string;
  numeric: string;
  name: string;
  shortName?: string;
  region: string | null;
  subregion: string | null;
  regionCode: string | null;
  subregionCode: string | null;
}

/** Regions given where M49 gives none (documented in the file header). */
const REGION_OVERRIDES: Readonly<Record<string, Pick<Country, 'region' | 'subregion' | 'regionCode' | 'subregionCode'>>> = {
  AQ: { region: 'Antarctica', subregion: 'Antarctica', regionCode: '', subregionCode: '' },
  TW: { region: 'Asia', subregion: 'Eastern Asia', regionCode: '142', subregionCode: '030' },
};

function toCountry(row: CountryRow): Country {
  const override = REGION_OVERRIDES[row.alpha2];
  const c: Country = {
    alpha2: row.alpha2,
    alpha3: row.alpha3,
    numeric: row.numeric,
    name: row.name,
    ...(row.shortName ? { shortName: row.shortName } : {}),
    region: override?.region ?? row.region ?? '',
    subregion: override?.subregion ?? row.subregion ?? '',
    regionCode: override?.regionCode ?? row.regionCode ?? '',
    subregionCode: override?.subregionCode ?? row.subregionCode ?? '',
  };
  return Object.freeze(c);
}

/** All 249 ISO 3166-1 countries, in the source's order (alphabetical by ISO name). */
export const COUNTRIES: readonly Country[] = Object.freeze((rows as CountryRow[]).map(toCountry));

const BY_ALPHA2 = new Map(COUNTRIES.map((c) => [c.alpha2, c]));
const BY_ALPHA3 = new Map(COUNTRIES.map((c) => [c.alpha3, c]));

/**
 * Region → its sub-regions (sorted), regions sorted by name. Every country's (region, sub-region)
 * pair appears here exactly once; every region has at least one sub-region.
 */
export const REGIONS: Readonly<Record<string, readonly string[]>> = (() => {
  const m = new Map<string, Set<string>>();
  for (const c of COUNTRIES) {
    let s = m.get(c.region);
    if (!s) m.set(c.region, (s = new Set()));
    s.add(c.subregion);
  }
  const out: Record<string, readonly string[]> = {};
  for (const r of [...m.keys()].sort()) out[r] = Object.freeze([...m.get(r)!].sort());
  return Object.freeze(out);
})();

/** All sub-region names, sorted. */
export const SUBREGIONS: readonly string[] = Object.freeze([...new Set(Object.values(REGIONS).flat())].sort());

/** The country with this ISO alpha-2 code (case-insensitive), or `undefined`. Never throws. */
export function countryByAlpha2(code: string): Country | undefined {
  return typeof code === 'string' ? BY_ALPHA2.get(code.toUpperCase()) : undefined;
}

/** The country with this ISO alpha-3 code (case-insensitive), or `undefined`. Never throws. */
export function countryByAlpha3(code: string): Country | undefined {
  return typeof code === 'string' ? BY_ALPHA3.get(code.toUpperCase()) : undefined;
}

/** True when `code` is an ISO 3166-1 alpha-2 code in its canonical upper-case form. */
export function isCountry(code: string): boolean {
  return typeof code === 'string' && BY_ALPHA2.has(code);
}

/** True when `name` is a UN M49 region name in the domain (exact spelling). */
export function isRegion(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(REGIONS, name);
}

/** True when `name` is a UN M49 sub-region name in the domain (exact spelling). */
export function isSubregion(name: string): boolean {
  return SUBREGIONS.includes(name);
}

/** M49 region of a country (alpha-2, case-insensitive), or `undefined` for an unknown code. */
export function regionOf(alpha2: string): string | undefined {
  return countryByAlpha2(alpha2)?.region;
}

/** M49 sub-region of a country (alpha-2, case-insensitive), or `undefined` for an unknown code. */
export function subregionOf(alpha2: string): string | undefined {
  return countryByAlpha2(alpha2)?.subregion;
}

/** Everyday names and spellings seen in threat-intelligence feeds that neither source spells. */
const NAME_ALIASES: Readonly<Record<string, string>> = {
  'united states': 'US',
  usa: 'US',
  'u.s.': 'US',
  us: 'US',
  uk: 'GB',
  'great britain': 'GB',
  britain: 'GB',
  'czech republic': 'CZ',
  russia: 'RU',
  'south korea': 'KR',
  'north korea': 'KP',
  'republic of korea': 'KR',
  palestine: 'PS',
  macao: 'MO',
  macau: 'MO',
  'hong kong': 'HK',
  turkey: 'TR',
  vietnam: 'VN',
  laos: 'LA',
  iran: 'IR',
  syria: 'SY',
  moldova: 'MD',
  bolivia: 'BO',
  venezuela: 'VE',
  tanzania: 'TZ',
  brunei: 'BN',
  'ivory coast': 'CI',
  "cote d'ivoire": 'CI',
  netherlands: 'NL',
  'the netherlands': 'NL',
  holland: 'NL',
  'lebonon': 'LB',
  swaziland: 'SZ',
  burma: 'MM',
  'east timor': 'TL',
  'cape verde': 'CV',
  'vatican city': 'VA',
  macedonia: 'MK',
};

function normaliseName(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[’`]/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
}

const BY_NAME: ReadonlyMap<string, Country> = (() => {
  const m = new Map<string, Country>();
  for (const c of COUNTRIES) {
    m.set(normaliseName(c.name), c);
    if (c.shortName) m.set(normaliseName(c.shortName), c);
  }
  for (const [alias, code] of Object.entries(NAME_ALIASES)) {
    const c = BY_ALPHA2.get(code);
    if (c && !m.has(alias)) m.set(alias, c);
  }
  return m;
})();

/**
 * Best-effort lookup of a country by name (ISO name, common short name, or a known alias; case- and
 * accent-insensitive; a leading "the" is ignored), or by alpha-2 / alpha-3 code. Returns `undefined`
 * for anything else (regions such as "Europe", organisations, typos it does not know) — callers report
 * unknowns rather than guessing. Never throws.
 */
export function countryByName(name: string): Country | undefined {
  if (typeof name !== 'string') return undefined;
  const trimmed = name.trim();
  const byCode =
    (/^[A-Za-z]{2}$/.test(trimmed) && countryByAlpha2(trimmed)) || (/^[A-Za-z]{3}$/.test(trimmed) && countryByAlpha3(trimmed));
  if (byCode) return byCode;
  const n = normaliseName(trimmed);
  return BY_NAME.get(n) ?? (n.startsWith('the ') ? BY_NAME.get(n.slice(4)) : undefined);
}
