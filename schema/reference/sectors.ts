/**
 * The sector taxonomy Accord groups by — a public key domain.
 *
 * Primary sector ids (the group-by domain, 21 ids, in `SECTOR_IDS` order):
 * - the 16 US critical-infrastructure sectors (CISA / DHS-CIIP; source values in `cisa`), under stable
 *   kebab-case ids: chemical, commercial-facilities, communications, critical-manufacturing, dams,
 *   defense-industrial-base, emergency-services, energy, financial-services, food-agriculture,
 *   government-facilities, healthcare-public-health, information-technology, nuclear, transportation, water;
 * - the EU NIS2 sectors (Annex I and II) that have no CISA counterpart: space, postal-courier,
 *   waste-management, research;
 * - `other`: organisations outside both taxonomies (legal, non-profit, media, construction, …), so that
 *   a known-but-non-critical sector is still a released key and never a silent drop.
 * Every other NIS2 sector maps onto exactly one of these (see each sector's `nis2`); where the match is
 * approximate, the sector's `note` says so.
 *
 * `sectorFromStix` maps every value of the STIX 2.1 `industry-sector-ov` vocabulary (§10.16, plus `legal`
 * from the errata) onto a primary id; `sectorFromName` is a best-effort free-text mapping for ingestion
 * (MISP galaxy sector names, MISP victim object values, NIS2 and CISA names), returning `undefined`
 * when it does not know a name — callers report unknowns, they never drop them silently.
 * Sources and licences: `catalog/SOURCES.md`.
 */

/** Primary sector ids, in display order. */
export const SECTOR_IDS = [
  'chemical',
  'commercial-facilities',
  'communications',
  'critical-manufacturing',
  'dams',
  'defense-industrial-base',
  'emergency-services',
  'energy',
  'financial-services',
  'food-agriculture',
  'government-facilities',
  'healthcare-public-health',
  'information-technology',
  'nuclear',
  'transportation',
  'water',
  'space',
  'postal-courier',
  'waste-management',
  'research',
  'other',
] as const;

export type SectorId = (typeof SECTOR_IDS)[number];

export interface Sector {
  readonly id: SectorId;
  readonly name: string;
  /** Where the id comes from: a CISA sector, a NIS2-only sector, or Accord's catch-all. */
  readonly origin: 'cisa' | 'nis2' | 'accord';
  /** The `dhs-ciip-sectors` taxonomy value, for CISA sectors. */
  readonly cisa?: string;
  /** `nis2` taxonomy `impact-sectors-impacted` values that map onto this sector. */
  readonly nis2: readonly string[];
  /** NIS2 annex of the sector, when it is (or contains) a NIS2 sector. */
  readonly nis2Annex?: 'I' | 'II' | 'I+II';
  /** Caveat on the mapping, when it is approximate. */
  readonly note?: string;
}

function sector(s: Sector): Sector {
  return Object.freeze({ ...s, nis2: Object.freeze([...s.nis2]) });
}

/** The primary sectors, in `SECTOR_IDS` order. */
export const SECTORS: readonly Sector[] = Object.freeze([
  sector({ id: 'chemical', name: 'Chemical', origin: 'cisa', cisa: 'chemical', nis2: ['chemical'], nis2Annex: 'II' }),
  sector({
    id: 'commercial-facilities',
    name: 'Commercial Facilities',
    origin: 'cisa',
    cisa: 'commercial-facilities',
    nis2: [],
    note: 'Also holds retail, lodging, entertainment and media, as in the CISA sector profile.',
  }),
  sector({
    id: 'communications',
    name: 'Communications',
    origin: 'cisa',
    cisa: 'communications',
    nis2: ['digital-infrastructure'],
    nis2Annex: 'I',
    note: 'NIS2 digital infrastructure (networks, IXPs, data centres, trust services) maps here approximately.',
  }),
  sector({
    id: 'critical-manufacturing',
    name: 'Critical Manufacturing',
    origin: 'cisa',
    cisa: 'critical-manufacturing',
    nis2: ['manufacturing'],
    nis2Annex: 'II',
  }),
  sector({ id: 'dams', name: 'Dams', origin: 'cisa', cisa: 'dams', nis2: [] }),
  sector({ id: 'defense-industrial-base', name: 'Defense Industrial Base', origin: 'cisa', cisa: 'dib', nis2: [] }),
  sector({ id: 'emergency-services', name: 'Emergency Services', origin: 'cisa', cisa: 'emergency-services', nis2: [] }),
  sector({ id: 'energy', name: 'Energy', origin: 'cisa', cisa: 'energy', nis2: ['energy'], nis2Annex: 'I' }),
  sector({
    id: 'financial-services',
    name: 'Financial Services',
    origin: 'cisa',
    cisa: 'financial-services',
    nis2: ['banking', 'financial'],
    nis2Annex: 'I',
  }),
  sector({ id: 'food-agriculture', name: 'Food and Agriculture', origin: 'cisa', cisa: 'food-agriculture', nis2: ['food'], nis2Annex: 'II' }),
  sector({
    id: 'government-facilities',
    name: 'Government Facilities',
    origin: 'cisa',
    cisa: 'government-facilities',
    nis2: ['public-administration'],
    nis2Annex: 'I',
    note: 'Includes education facilities, as the CISA sector does.',
  }),
  sector({
    id: 'healthcare-public-health',
    name: 'Healthcare and Public Health',
    origin: 'cisa',
    cisa: 'healthcare-public',
    nis2: ['health'],
    nis2Annex: 'I',
  }),
  sector({
    id: 'information-technology',
    name: 'Information Technology',
    origin: 'cisa',
    cisa: 'it',
    nis2: ['ict-services', 'digital-providers'],
    nis2Annex: 'I+II',
  }),
  sector({ id: 'nuclear', name: 'Nuclear Reactors, Materials, and Waste', origin: 'cisa', cisa: 'nuclear', nis2: [] }),
  sector({ id: 'transportation', name: 'Transportation Systems', origin: 'cisa', cisa: 'transport', nis2: ['transport'], nis2Annex: 'I' }),
  sector({
    id: 'water',
    name: 'Water and Wastewater Systems',
    origin: 'cisa',
    cisa: 'water',
    nis2: ['drinking-water', 'waste-water'],
    nis2Annex: 'I',
  }),
  sector({ id: 'space', name: 'Space', origin: 'nis2', nis2: ['space'], nis2Annex: 'I' }),
  sector({ id: 'postal-courier', name: 'Postal and Courier Services', origin: 'nis2', nis2: ['courier'], nis2Annex: 'II' }),
  sector({ id: 'waste-management', name: 'Waste Management', origin: 'nis2', nis2: ['waste-management'], nis2Annex: 'II' }),
  sector({ id: 'research', name: 'Research', origin: 'nis2', nis2: ['research'], nis2Annex: 'II' }),
  sector({
    id: 'other',
    name: 'Other',
    origin: 'accord',
    nis2: [],
    note: 'Organisations outside the CISA and NIS2 sectors (legal, non-profit, construction, mining, civil society, …).',
  }),
]);

const BY_ID: ReadonlyMap<string, Sector> = new Map(SECTORS.map((s) => [s.id, s]));

/** The sector with this primary id (exact, lower-case kebab), or `undefined`. Never throws. */
export function sectorById(id: string): Sector | undefined {
  return BY_ID.get(id);
}

/** True when `id` is a primary sector id. */
export function isSector(id: string): id is SectorId {
  return BY_ID.has(id);
}

/** Sector id for a `nis2` taxonomy `impact-sectors-impacted` value, or `undefined`. */
export function sectorFromNis2(value: string): SectorId | undefined {
  const v = typeof value === 'string' ? value.trim().toLowerCase() : '';
  return SECTORS.find((s) => s.nis2.includes(v))?.id;
}

/** Sector id for a `dhs-ciip-sectors` taxonomy value, or `undefined`. */
export function sectorFromCisa(value: string): SectorId | undefined {
  const v = typeof value === 'string' ? value.trim().toLowerCase() : '';
  return SECTORS.find((s) => s.cisa === v)?.id;
}

export interface StixSectorMapping {
  readonly sector: SectorId;
  /** False when the STIX value is broader or narrower than the sector it maps to. */
  readonly exact: boolean;
}

const m = (sector: SectorId, exact = true): StixSectorMapping => Object.freeze({ sector, exact });

/**
 * STIX 2.1 `industry-sector-ov` (§10.16) plus `legal` (errata) → primary sector id.
 * Every vocabulary value has an entry.
 */
export const STIX_SECTOR_MAP: Readonly<Record<string, StixSectorMapping>> = Object.freeze({
  agriculture: m('food-agriculture'),
  aerospace: m('critical-manufacturing', false),
  automotive: m('critical-manufacturing'),
  chemical: m('chemical'),
  commercial: m('commercial-facilities'),
  communications: m('communications'),
  construction: m('other', false),
  defense: m('defense-industrial-base'),
  education: m('government-facilities', false),
  energy: m('energy'),
  entertainment: m('commercial-facilities', false),
  'financial-services': m('financial-services'),
  government: m('government-facilities'),
  'government-emergency-services': m('emergency-services'),
  'government-local': m('government-facilities'),
  'government-national': m('government-facilities'),
  'government-public-services': m('government-facilities'),
  'government-regional': m('government-facilities'),
  healthcare: m('healthcare-public-health'),
  'hospitality-leisure': m('commercial-facilities', false),
  infrastructure: m('other', false),
  'infrastructure-dams': m('dams'),
  'infrastructure-nuclear': m('nuclear'),
  'infrastructure-water': m('water'),
  insurance: m('financial-services', false),
  legal: m('other', false),
  manufacturing: m('critical-manufacturing', false),
  mining: m('other', false),
  'non-profit': m('other', false),
  pharmaceuticals: m('healthcare-public-health', false),
  retail: m('commercial-facilities', false),
  technology: m('information-technology'),
  telecommunications: m('communications'),
  'telecommunications-wireless': m('communications'),
  transportation: m('transportation'),
  utilities: m('energy', false),
});

/** The STIX 2.1 `industry-sector-ov` values (with `legal`), in vocabulary order. */
export const STIX_INDUSTRY_SECTORS: readonly string[] = Object.freeze(Object.keys(STIX_SECTOR_MAP));

/**
 * Primary sector id for a STIX 2.1 `industry-sector-ov` value (exact vocabulary spelling, case-insensitive),
 * or `undefined` for a value outside the vocabulary. Never throws.
 */
export function sectorFromStix(value: string): SectorId | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim().toLowerCase();
  return Object.prototype.hasOwnProperty.call(STIX_SECTOR_MAP, v) ? STIX_SECTOR_MAP[v]!.sector : undefined;
}

/**
 * Free-text names and synonyms → primary id. Covers the MISP galaxy sector names, the MISP victim
 * object's sector values, the CISA and NIS2 names, and everyday words. Keys are normalised (see `normalise`).
 * Names deliberately absent (they name no sector): "unknown", "multi-sector", "country", "security actors".
 */
const SYNONYMS: Readonly<Record<string, SectorId>> = {
  // chemical
  chemicals: 'chemical',
  petrochemical: 'chemical',
  'manufacture production and distribution of chemicals': 'chemical',
  // commercial facilities
  arts: 'commercial-facilities',
  culture: 'commercial-facilities',
  entertainment: 'commercial-facilities',
  game: 'commercial-facilities',
  gaming: 'commercial-facilities',
  casino: 'commercial-facilities',
  hotels: 'commercial-facilities',
  hotel: 'commercial-facilities',
  hospitality: 'commercial-facilities',
  'hospitality leisure': 'commercial-facilities',
  lodging: 'commercial-facilities',
  tourism: 'commercial-facilities',
  travel: 'commercial-facilities',
  retail: 'commercial-facilities',
  trade: 'commercial-facilities',
  ecommerce: 'commercial-facilities',
  'e commerce': 'commercial-facilities',
  sport: 'commercial-facilities',
  sports: 'commercial-facilities',
  'real estate': 'commercial-facilities',
  'news media': 'commercial-facilities',
  media: 'commercial-facilities',
  'streaming service': 'commercial-facilities',
  'publishing industry': 'commercial-facilities',
  publishing: 'commercial-facilities',
  commercial: 'commercial-facilities',
  // communications
  telecoms: 'communications',
  telecom: 'communications',
  telecommunications: 'communications',
  'telecommunications wireless': 'communications',
  'telecommunications internet service provider': 'communications',
  'it isp': 'communications',
  isp: 'communications',
  'internet service provider': 'communications',
  'television broadcast': 'communications',
  broadcasting: 'communications',
  'digital infrastructure': 'communications',
  // critical manufacturing
  manufacturing: 'critical-manufacturing',
  manufacture: 'critical-manufacturing',
  industrial: 'critical-manufacturing',
  industry: 'critical-manufacturing',
  aerospace: 'critical-manufacturing',
  automotive: 'critical-manufacturing',
  electronic: 'critical-manufacturing',
  electronics: 'critical-manufacturing',
  'semi conductors': 'critical-manufacturing',
  semiconductors: 'critical-manufacturing',
  steel: 'critical-manufacturing',
  metal: 'critical-manufacturing',
  turbine: 'critical-manufacturing',
  engineering: 'critical-manufacturing',
  'communication equipment': 'critical-manufacturing',
  // dams
  dam: 'dams',
  'infrastructure dams': 'dams',
  // defense
  defense: 'defense-industrial-base',
  defence: 'defense-industrial-base',
  dib: 'defense-industrial-base',
  military: 'defense-industrial-base',
  'defence industry': 'defense-industrial-base',
  'defense industry': 'defense-industrial-base',
  // emergency services
  'police law enforcement': 'emergency-services',
  'law enforcement': 'emergency-services',
  police: 'emergency-services',
  'fire services': 'emergency-services',
  'government emergency services': 'emergency-services',
  // energy
  electric: 'energy',
  electricity: 'energy',
  'electricity undertaking': 'energy',
  power: 'energy',
  gas: 'energy',
  oil: 'energy',
  'oil and gas': 'energy',
  hydrogen: 'energy',
  'district heating and cooling': 'energy',
  'district heating': 'energy',
  'smart meter': 'energy',
  utilities: 'energy',
  utility: 'energy',
  // financial services
  finance: 'financial-services',
  financial: 'financial-services',
  'financial services': 'financial-services',
  'financial market infrastructures': 'financial-services',
  bank: 'financial-services',
  banking: 'financial-services',
  banks: 'financial-services',
  payment: 'financial-services',
  payments: 'financial-services',
  insurance: 'financial-services',
  investment: 'financial-services',
  // food and agriculture
  food: 'food-agriculture',
  agriculture: 'food-agriculture',
  restaurant: 'food-agriculture',
  veterinary: 'food-agriculture',
  'production processing and distribution of food': 'food-agriculture',
  // government facilities
  government: 'government-facilities',
  'government administration': 'government-facilities',
  'public administration': 'government-facilities',
  'government local': 'government-facilities',
  'government national': 'government-facilities',
  'government regional': 'government-facilities',
  'government public services': 'government-facilities',
  diplomacy: 'government-facilities',
  intelligence: 'government-facilities',
  justice: 'government-facilities',
  'security service': 'government-facilities',
  immigration: 'government-facilities',
  education: 'government-facilities',
  // healthcare
  health: 'healthcare-public-health',
  healthcare: 'healthcare-public-health',
  'public health': 'healthcare-public-health',
  hospital: 'healthcare-public-health',
  hospitals: 'healthcare-public-health',
  pharmacy: 'healthcare-public-health',
  pharmaceuticals: 'healthcare-public-health',
  pharmaceutical: 'healthcare-public-health',
  'life science': 'healthcare-public-health',
  biomedical: 'healthcare-public-health',
  // information technology
  it: 'information-technology',
  ict: 'information-technology',
  technology: 'information-technology',
  'high tech': 'information-technology',
  'it security': 'information-technology',
  'ict service management': 'information-technology',
  'ict service management business to business': 'information-technology',
  'managed services provider': 'information-technology',
  'telecommunications managed service provider': 'information-technology',
  'telecommunications hosting provider': 'information-technology',
  'hosting provider': 'information-technology',
  'digital services': 'information-technology',
  'digital providers': 'information-technology',
  'social networks': 'information-technology',
  'online marketplace': 'information-technology',
  'video sharing': 'information-technology',
  'data broker': 'information-technology',
  'dns service provider': 'information-technology',
  programming: 'information-technology',
  software: 'information-technology',
  // nuclear
  'infrastructure nuclear': 'nuclear',
  'nuclear reactors materials and waste': 'nuclear',
  // transportation
  transport: 'transportation',
  transportation: 'transportation',
  'transportation systems': 'transportation',
  'civil aviation': 'transportation',
  aviation: 'transportation',
  airport: 'transportation',
  'air transportation': 'transportation',
  maritime: 'transportation',
  shipping: 'transportation',
  railway: 'transportation',
  rail: 'transportation',
  logistic: 'transportation',
  logistics: 'transportation',
  // water
  'drinking water': 'water',
  'waste water': 'water',
  wastewater: 'water',
  'infrastructure water': 'water',
  'water and water systems': 'water',
  'water and wastewater systems': 'water',
  // NIS2-only
  'satellite navigation': 'space',
  postal: 'postal-courier',
  post: 'postal-courier',
  courier: 'postal-courier',
  'postal and courier services': 'postal-courier',
  'postal service providers': 'postal-courier',
  waste: 'waste-management',
  'research innovation': 'research',
  'academia university': 'research',
  academia: 'research',
  university: 'research',
  'higher education': 'research',
  // other
  legal: 'other',
  lawyers: 'other',
  'non profit': 'other',
  'non profit organisation': 'other',
  'non profit organization': 'other',
  ngo: 'other',
  'civil society': 'other',
  'think tanks': 'other',
  'think tank': 'other',
  activists: 'other',
  dissidents: 'other',
  dissident: 'other',
  opposition: 'other',
  separatists: 'other',
  'political party': 'other',
  journalist: 'other',
  citizens: 'other',
  'faith based organization': 'other',
  'islamic organisation': 'other',
  'islamic forums': 'other',
  'international organization': 'other',
  construction: 'other',
  mining: 'other',
  consulting: 'other',
  accounting: 'other',
  'tax firm': 'other',
  marketing: 'other',
  advertising: 'other',
  employment: 'other',
  environment: 'other',
  development: 'other',
  'it hacker': 'other',
  infrastructure: 'other',
};

function normalise(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

const BY_NAME: ReadonlyMap<string, SectorId> = (() => {
  const out = new Map<string, SectorId>();
  for (const s of SECTORS) {
    out.set(normalise(s.id), s.id);
    out.set(normalise(s.name), s.id);
    if (s.cisa) out.set(normalise(s.cisa), s.id);
    for (const v of s.nis2) out.set(normalise(v), s.id);
  }
  for (const [v, map] of Object.entries(STIX_SECTOR_MAP)) if (!out.has(normalise(v))) out.set(normalise(v), map.sector);
  for (const [k, id] of Object.entries(SYNONYMS)) out.set(normalise(k), id);
  return out;
})();

/**
 * Best-effort primary sector id for a free-text sector name: case-, accent- and punctuation-insensitive,
 * knows the primary ids and names, the CISA, NIS2 and STIX values, MISP galaxy and victim-object sector
 * names and common synonyms; a trailing "sector"/"sectors" and a plural "s" are tolerated.
 * Returns `undefined` when the name is unknown or names no sector (e.g. "Unknown", "Multi-sector");
 * callers must report such names, not drop them. Never throws.
 */
export function sectorFromName(freeText: string): SectorId | undefined {
  if (typeof freeText !== 'string') return undefined;
  let n = normalise(freeText);
  if (!n) return undefined;
  const hit = BY_NAME.get(n);
  if (hit) return hit;
  n = n.replace(/ sectors?$/, '');
  return BY_NAME.get(n) ?? (n.endsWith('s') ? BY_NAME.get(n.slice(0, -1)) : undefined);
}
