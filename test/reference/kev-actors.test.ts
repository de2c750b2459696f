import { describe, expect, it } from 'vitest';
import {
  ACTORS,
  KEV,
  KEV_CATALOG_VERSION,
  actorByName,
  cveYear,
  isCataloguedActor,
  isCountry,
  isKevCve,
  isSector,
  kevByCve,
} from '../../schema/reference/index.js';

describe('KEV catalog', () => {
  it('keeps all 1,404 entries of catalog 2025.08.25 with unique, well-formed CVE ids', () => {
    expect(KEV_CATALOG_VERSION).toBe('2025.08.25');
    expect(KEV).toHaveLength(1404);
    expect(new Set(KEV.map((e) => e.cveID)).size).toBe(1404);
    for (const e of KEV) {
      expect(e.cveID).toMatch(/^CVE-\d{4}-\d{4,}$/);
      expect(e.dateAdded).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(e.vendorProject).toBe(e.vendorProject.trim());
      expect(e.product).toBe(e.product.trim());
      expect(typeof e.knownRansomwareCampaignUse).toBe('boolean');
    }
    expect(KEV.filter((e) => e.knownRansomwareCampaignUse)).toHaveLength(293);
  });

  it('looks entries up by CVE id and trims vendor names', () => {
    expect(kevByCve('CVE-2021-44228')).toMatchObject({ vendorProject: 'Apache', product: 'Log4j2' });
    expect(kevByCve(' cve-2021-44228 ')?.cveID).toBe('CVE-2021-44228');
    expect(KEV.find((e) => e.vendorProject.startsWith('SimpleHelp'))?.vendorProject).toBe('SimpleHelp');
    expect(isKevCve('CVE-2021-44228')).toBe(true);
    expect(isKevCve('CVE-1999-0001')).toBe(false);
    expect(kevByCve('not a cve')).toBeUndefined();
    expect(cveYear('CVE-2017-0144')).toBe(2017);
    expect(cveYear('CVE-17-1')).toBeUndefined();
  });
});

describe('actor catalog', () => {
  it('holds the 1,041 galaxy actors with unique names and valid countries and sectors', () => {
    expect(ACTORS).toHaveLength(1041);
    expect(new Set(ACTORS.map((a) => a.name.toLowerCase())).size).toBe(1041);
    for (const a of ACTORS) {
      if (a.country !== undefined) expect(isCountry(a.country), a.name).toBe(true);
      for (const v of a.victims) expect(isCountry(v), `${a.name} victim ${v}`).toBe(true);
      for (const s of a.sectors) expect(isSector(s), `${a.name} sector ${s}`).toBe(true);
    }
    // 477 source entries carry meta.country; one of them is empty and is not kept.
    expect(ACTORS.filter((a) => a.country !== undefined)).toHaveLength(476);
  });

  it('resolves names and synonyms case-insensitively, names before synonyms', () => {
    expect(actorByName('apt28')).toMatchObject({ name: 'APT28', country: 'RU' });
    expect(actorByName('Fancy Bear')?.name).toBe('APT28');
    expect(actorByName('COMMENT PANDA')?.name).toBe('APT1');
    expect(actorByName('APT1')?.victims).toEqual(expect.arrayContaining(['US', 'TW', 'GB', 'FR']));
    expect(actorByName('Nitro')?.sectors).toEqual(['chemical']);
    for (const a of ACTORS) expect(actorByName(a.name)).toBe(a);
    expect(isCataloguedActor('Sandworm')).toBe(true);
    expect(isCataloguedActor('unknown')).toBe(false);
    expect(isCataloguedActor('Definitely Not A Group')).toBe(false);
  });
});
