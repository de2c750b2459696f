/**
 * Node specifications for synthetic federations: what each node covers (countries, sectors) and how
 * many organisations report to it. `DEMO_NODES` is the three-node demo; `federationNodes(n)` gives the
 * first n nodes of a larger European federation (benchmarks use 3 and 10).
 */
import type { SectorId } from '../../schema/reference/sectors.js';

export interface NodeSpec {
  /** Node id, lower-case kebab (e.g. `cert-de`); also the output file name. */
  id: string;
  /** Human-readable name. */
  label: string;
  kind: 'national-cert' | 'sector-isac';
  /** Countries in scope (ISO alpha-2) → relative weight of organisations located there. */
  countries: Readonly<Record<string, number>>;
  /** Sectors in scope → relative weight of organisations; default `CERT_SECTOR_WEIGHTS`. */
  sectors?: Readonly<Partial<Record<SectorId, number>>>;
  /** Number of organisations reporting to the node. */
  organisations: number;
  /** Incidents for this node; default the federation's `incidentsPerNode`. */
  incidents?: number;
  /** Zipf exponent of incidents per organisation (default 1: a few organisations report most incidents). */
  zipf?: number;
  /** Number of node-local malware names that occur only a few times (default 8). */
  localTools?: number;
}

/** Organisation mix of a national CERT's constituency (relative weights). */
export const CERT_SECTOR_WEIGHTS: Readonly<Record<SectorId, number>> = {
  'government-facilities': 14,
  'healthcare-public-health': 12,
  'information-technology': 12,
  'critical-manufacturing': 10,
  'financial-services': 9,
  'commercial-facilities': 9,
  energy: 7,
  transportation: 6,
  communications: 5,
  water: 3,
  chemical: 3,
  'food-agriculture': 3,
  research: 3,
  other: 4,
  'emergency-services': 2,
  'defense-industrial-base': 2,
  'postal-courier': 1,
  'waste-management': 1,
  nuclear: 0.5,
  dams: 0.5,
  space: 0.5,
};

/** Organisation mix of an energy and utilities ISAC. */
export const ENERGY_ISAC_SECTOR_WEIGHTS: Readonly<Partial<Record<SectorId, number>>> = {
  energy: 75,
  water: 18,
  nuclear: 4,
  dams: 3,
};

export const CERT_DE: NodeSpec = {
  id: 'cert-de',
  label: 'National CERT — Germany and neighbours',
  kind: 'national-cert',
  countries: { DE: 72, AT: 11, CH: 9, LI: 1, CZ: 4, DK: 3 },
  organisations: 1500,
};

export const CERT_FR: NodeSpec = {
  id: 'cert-fr',
  label: 'National CERT — France and neighbours',
  kind: 'national-cert',
  countries: { FR: 76, BE: 12, LU: 6, MC: 2, AD: 1 },
  organisations: 1200,
};

export const ISAC_ENERGY: NodeSpec = {
  id: 'isac-energy',
  label: 'European energy and utilities ISAC',
  kind: 'sector-isac',
  countries: {
    DE: 14, FR: 12, IT: 10, ES: 9, PL: 7, NL: 6, SE: 5, AT: 4, BE: 4, CZ: 4, DK: 3, FI: 3,
    PT: 3, RO: 3, GR: 3, IE: 2, NO: 3, HU: 2, SK: 2, BG: 2, HR: 1, SI: 1, LT: 1, LV: 1, EE: 1,
  },
  sectors: ENERGY_ISAC_SECTOR_WEIGHTS,
  organisations: 320,
};

/** The three-node demo federation: two national CERTs and an energy ISAC. */
export const DEMO_NODES: readonly NodeSpec[] = [CERT_DE, CERT_FR, ISAC_ENERGY];

const MORE_CERTS: readonly NodeSpec[] = [
  { id: 'cert-it', label: 'National CERT — Italy, San Marino, Vatican, Malta', kind: 'national-cert', countries: { IT: 90, SM: 2, VA: 1, MT: 7 }, organisations: 1100 },
  { id: 'cert-es', label: 'National CERT — Spain and Portugal', kind: 'national-cert', countries: { ES: 78, PT: 22 }, organisations: 1000 },
  { id: 'cert-pl', label: 'National CERT — Poland, Slovakia', kind: 'national-cert', countries: { PL: 82, SK: 18 }, organisations: 800 },
  { id: 'cert-nl', label: 'National CERT — Netherlands', kind: 'national-cert', countries: { NL: 100 }, organisations: 700 },
  { id: 'cert-se', label: 'Nordic CERT — Sweden, Norway, Iceland', kind: 'national-cert', countries: { SE: 60, NO: 36, IS: 4 }, organisations: 650 },
  { id: 'cert-fi', label: 'Nordic-Baltic CERT — Finland, Estonia, Latvia, Lithuania', kind: 'national-cert', countries: { FI: 45, EE: 15, LV: 17, LT: 23 }, organisations: 500 },
  { id: 'cert-ro', label: 'National CERT — Romania, Bulgaria, Moldova', kind: 'national-cert', countries: { RO: 62, BG: 32, MD: 6 }, organisations: 550 },
  { id: 'cert-gr', label: 'National CERT — Greece, Cyprus', kind: 'national-cert', countries: { GR: 88, CY: 12 }, organisations: 450 },
  { id: 'cert-hu', label: 'National CERT — Hungary, Slovenia, Croatia', kind: 'national-cert', countries: { HU: 55, SI: 20, HR: 25 }, organisations: 450 },
  { id: 'cert-ie', label: 'National CERT — Ireland', kind: 'national-cert', countries: { IE: 100 }, organisations: 400 },
];

/** All predefined nodes, demo nodes first. */
export const ALL_NODES: readonly NodeSpec[] = [...DEMO_NODES, ...MORE_CERTS];

/**
 * The first `count` predefined nodes (demo nodes first). Throws `RangeError` when `count` is not an
 * integer in [1, ALL_NODES.length].
 */
export function federationNodes(count: number): NodeSpec[] {
  if (!Number.isInteger(count) || count < 1 || count > ALL_NODES.length) {
    throw new RangeError(`node count must be an integer between 1 and ${ALL_NODES.length}`);
  }
  return ALL_NODES.slice(0, count).map((n) => ({ ...n }));
}
