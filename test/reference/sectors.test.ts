import { describe, expect, it } from 'vitest';
import {
  SECTORS,
  SECTOR_IDS,
  STIX_INDUSTRY_SECTORS,
  isSector,
  sectorById,
  sectorFromCisa,
  sectorFromName,
  sectorFromNis2,
  sectorFromStix,
} from '../../schema/reference/index.js';

// STIX 2.1 §10.16 industry-sector-ov, plus `legal` from the errata.
const STIX_VOCAB = [
  'agriculture', 'aerospace', 'automotive', 'chemical', 'commercial', 'communications', 'construction', 'defense',
  'education', 'energy', 'entertainment', 'financial-services', 'government', 'government-emergency-services',
  'government-local', 'government-national', 'government-public-services', 'government-regional', 'healthcare',
  'hospitality-leisure', 'infrastructure', 'infrastructure-dams', 'infrastructure-nuclear', 'infrastructure-water',
  'insurance', 'legal', 'manufacturing', 'mining', 'non-profit', 'pharmaceuticals', 'retail', 'technology',
  'telecommunications', 'telecommunications-wireless', 'transportation', 'utilities',
];

// The source taxonomies' values (dhs-ciip-sectors and nis2 impact-sectors-impacted).
const CISA_VALUES = [
  'chemical', 'commercial-facilities', 'communications', 'critical-manufacturing', 'dams', 'dib', 'emergency-services',
  'energy', 'financial-services', 'food-agriculture', 'government-facilities', 'healthcare-public', 'it', 'nuclear',
  'transport', 'water',
];
const NIS2_VALUES = [
  'energy', 'transport', 'banking', 'financial', 'health', 'drinking-water', 'waste-water', 'digital-infrastructure',
  'ict-services', 'public-administration', 'space', 'courier', 'waste-management', 'chemical', 'food', 'manufacturing',
  'digital-providers', 'research',
];

// MISP galaxy `sector` cluster values (MISP/misp-galaxy clusters/sector.json, CC0 / BSD-2-Clause).
const GALAXY_SECTOR_NAMES = [
  'Unknown', 'Other', 'Academia - University', 'Activists', 'Aerospace', 'Agriculture', 'Arts', 'Bank', 'Chemical',
  'Citizens', 'Civil Aviation', 'Country', 'Culture', 'Data Broker', 'Defense', 'Development', 'Diplomacy',
  'Education', 'Electric', 'Electronic', 'Employment', 'Energy', 'Entertainment', 'Environment', 'Finance', 'Food',
  'Game', 'Gas', 'Government, Administration', 'Health', 'Higher education', 'Hotels', 'Infrastructure',
  'Intelligence', 'IT', 'IT - Hacker', 'IT - ISP', 'IT - Security', 'Justice', 'Manufacturing', 'Maritime',
  'Military', 'Multi-sector', 'News - Media', 'NGO', 'Oil', 'Payment', 'Pharmacy', 'Police - Law enforcement',
  'Research - Innovation', 'Satellite navigation', 'Security systems', 'Social networks', 'Space', 'Steel',
  'Telecoms', 'Think Tanks', 'Trade', 'Transport', 'Travel', 'Turbine', 'Tourism', 'Life science', 'Biomedical',
  'High tech', 'Opposition', 'Political party', 'Hospitality', 'Automotive', 'Metal', 'Railway', 'Water',
  'Smart meter', 'Retail', 'Technology', 'Engineering', 'Mining', 'Sport', 'Restaurant', 'Semi-conductors',
  'Insurance', 'Legal', 'Shipping', 'Logistic', 'Construction', 'Industrial', 'Communication equipment',
  'Security Service', 'Tax firm', 'Television broadcast', 'Separatists', 'Dissidents', 'Digital services',
  'Digital infrastructure', 'Security actors', 'eCommerce', 'Islamic forums', 'Journalist', 'Streaming service',
  'Publishing industry', 'Islamic organisation', 'Casino', 'Consulting', 'Online marketplace',
  'DNS service provider', 'Veterinary', 'Marketing', 'Video Sharing', 'Advertising', 'Investment', 'Accounting',
  'Programming', 'Managed Services Provider', 'Lawyers', 'Civil society', 'Petrochemical', 'Immigration',
  'Non-profit organisation',
];

describe('sectors', () => {
  it('has 21 unique kebab-case primary ids in SECTOR_IDS order', () => {
    expect(SECTORS.map((s) => s.id)).toEqual([...SECTOR_IDS]);
    expect(new Set(SECTOR_IDS).size).toBe(21);
    for (const id of SECTOR_IDS) {
      expect(id).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(isSector(id)).toBe(true);
      expect(sectorById(id)?.id).toBe(id);
    }
    expect(isSector('Energy')).toBe(false);
    expect(isSector('banking')).toBe(false);
  });

  it('covers the 16 CISA sectors and each NIS2 sector exactly once', () => {
    expect(SECTORS.filter((s) => s.origin === 'cisa')).toHaveLength(16);
    expect(CISA_VALUES.map(sectorFromCisa).every((x) => x !== undefined)).toBe(true);
    expect(new Set(CISA_VALUES.map(sectorFromCisa)).size).toBe(16);
    const nis2 = SECTORS.flatMap((s) => s.nis2);
    expect([...nis2].sort()).toEqual([...NIS2_VALUES].sort());
    expect(sectorFromNis2('banking')).toBe('financial-services');
    expect(sectorFromNis2('space')).toBe('space');
    expect(sectorFromNis2('courier')).toBe('postal-courier');
  });

  it('maps every STIX industry-sector-ov value onto a primary id', () => {
    expect([...STIX_INDUSTRY_SECTORS].sort()).toEqual([...STIX_VOCAB].sort());
    for (const v of STIX_VOCAB) expect(isSector(sectorFromStix(v) ?? ''), v).toBe(true);
    expect(sectorFromStix('infrastructure-nuclear')).toBe('nuclear');
    expect(sectorFromStix('government-local')).toBe('government-facilities');
    expect(sectorFromStix('telecommunications-wireless')).toBe('communications');
    expect(sectorFromStix('legal')).toBe('other');
    expect(sectorFromStix('Energy')).toBe('energy');
    expect(sectorFromStix('electricity')).toBeUndefined();
    expect(sectorFromStix('toString')).toBeUndefined();
  });

  it('maps free text best-effort and returns undefined for unknowns', () => {
    expect(sectorFromName('Electricity')).toBe('energy');
    expect(sectorFromName('  Oil & Gas ')).toBe('energy');
    expect(sectorFromName('Government, Administration')).toBe('government-facilities');
    expect(sectorFromName('Healthcare and Public Health')).toBe('healthcare-public-health');
    expect(sectorFromName('ICT service management (business-to-business)')).toBe('information-technology');
    expect(sectorFromName('financial services sector')).toBe('financial-services');
    expect(sectorFromName('Hospitals')).toBe('healthcare-public-health');
    expect(sectorFromName('Telecoms')).toBe('communications');
    expect(sectorFromName('Unknown')).toBeUndefined();
    expect(sectorFromName('Multi-sector')).toBeUndefined();
    expect(sectorFromName('quantum basket weaving')).toBeUndefined();
    expect(sectorFromName('')).toBeUndefined();
  });

  it('knows the MISP galaxy sector names that name a sector', () => {
    const unknown = GALAXY_SECTOR_NAMES.filter((v) => sectorFromName(v) === undefined);
    expect(unknown.sort()).toEqual(['Country', 'Multi-sector', 'Security actors', 'Security systems', 'Unknown']);
  });
});
