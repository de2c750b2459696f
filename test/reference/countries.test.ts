import { describe, expect, it } from 'vitest';
import {
  COUNTRIES,
  REGIONS,
  SUBREGIONS,
  countryByAlpha2,
  countryByAlpha3,
  countryByName,
  isCountry,
  isRegion,
  isSubregion,
  regionOf,
  subregionOf,
} from '../../schema/reference/index.js';

describe('countries', () => {
  it('holds all 249 ISO 3166-1 countries with unique codes', () => {
    expect(COUNTRIES).toHaveLength(249);
    expect(new Set(COUNTRIES.map((c) => c.alpha2)).size).toBe(249);
    expect(new Set(COUNTRIES.map((c) => c.alpha3)).size).toBe(249);
    for (const c of COUNTRIES) {
      expect(c.alpha2).toMatch(/^[A-Z]{2}$/);
      expect(c.alpha3).toMatch(/^[A-Z]{3}$/);
      expect(c.numeric).toMatch(/^\d{3}$/);
    }
  });

  it('gives every country a region and sub-region, including Antarctica and Taiwan', () => {
    for (const c of COUNTRIES) {
      expect(c.region, c.alpha2).not.toBe('');
      expect(c.subregion, c.alpha2).not.toBe('');
      expect(REGIONS[c.region]).toContain(c.subregion);
    }
    expect(regionOf('TW')).toBe('Asia');
    expect(subregionOf('TW')).toBe('Eastern Asia');
    expect(regionOf('AQ')).toBe('Antarctica');
  });

  it('joins to M49 regions', () => {
    expect(countryByAlpha2('de')).toMatchObject({ alpha3: 'DEU', region: 'Europe', subregion: 'Western Europe' });
    expect(regionOf('BR')).toBe('Americas');
    expect(subregionOf('BR')).toBe('Latin America and the Caribbean');
    expect(Object.keys(REGIONS)).toEqual(['Africa', 'Americas', 'Antarctica', 'Asia', 'Europe', 'Oceania']);
    expect(REGIONS.Europe).toEqual(['Eastern Europe', 'Northern Europe', 'Southern Europe', 'Western Europe']);
    expect(isRegion('Europe')).toBe(true);
    expect(isRegion('Middle East')).toBe(false);
    expect(isSubregion('Western Asia')).toBe(true);
    expect(SUBREGIONS).toContain('Antarctica');
  });

  it('rejects unknown and non-canonical codes', () => {
    expect(isCountry('DE')).toBe(true);
    expect(isCountry('de')).toBe(false);
    expect(isCountry('XK')).toBe(false);
    expect(isCountry('EU')).toBe(false);
    expect(countryByAlpha2('ZZ')).toBeUndefined();
    expect(regionOf('ZZ')).toBeUndefined();
    expect(countryByAlpha3('fra')?.alpha2).toBe('FR');
  });

  it('resolves everyday names and refuses non-countries', () => {
    expect(countryByName('United States')?.alpha2).toBe('US');
    expect(countryByName('South Korea')?.alpha2).toBe('KR');
    expect(countryByName('Russia')?.alpha2).toBe('RU');
    expect(countryByName('The Philippines')?.alpha2).toBe('PH');
    expect(countryByName('Turkey')?.alpha2).toBe('TR');
    expect(countryByName('Côte d’Ivoire')?.alpha2).toBe('CI');
    expect(countryByName('UK')?.alpha2).toBe('GB');
    expect(countryByName('deu')?.alpha2).toBe('DE');
    expect(countryByName('Europe')).toBeUndefined();
    expect(countryByName('NATO')).toBeUndefined();
  });
});
