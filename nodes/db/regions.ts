import { countryByAlpha2 } from '../../schema/reference/countries.js';

/** UN M49 placement of a country; null where none is known. */
export interface CountryRegion {
  region: string | null;
  subregion: string | null;
}

/**
 * Maps an ISO 3166-1 alpha-2 code (upper case) to its UN M49 region and sub-region.
 * Returns undefined for a code that is not a known country; the node refuses such records.
 */
export type RegionLookup = (alpha2: string) => CountryRegion | undefined;

/** The lookup over the public reference data (schema/reference: ISO 3166-1 joined to UN M49). */
export const m49RegionLookup: RegionLookup = (alpha2) => {
  const c = /^[A-Z]{2}$/.test(alpha2) ? countryByAlpha2(alpha2) : undefined;
  if (!c) return undefined;
  return { region: c.region === '' ? null : c.region, subregion: c.subregion === '' ? null : c.subregion };
};
