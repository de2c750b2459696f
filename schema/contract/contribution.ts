/**
 * The contribution protocol between the gateway and the nodes (DESIGN §2.1, §4).
 *
 * A node answers exactly one kind of question: "for this admitted aggregate query, what are your
 * bounded partial aggregates per group?". Nothing else is reachable through a node's federated
 * schema. Every node publishes the same SDL ({@link CONTRIBUTION_SDL}); the gateway compares the
 * canonical hash of what a node serves with {@link contributionSdlHash} at registration and refuses
 * a node that drifts.
 */

/** What is aggregated. */
export const MEASURES = ['INCIDENTS', 'ORGANISATIONS', 'SEVERITY_SUM'] as const;
export type Measure = (typeof MEASURES)[number];

/**
 * Group-by dimensions. Every dimension value is either from a public domain (country, region,
 * sub-region, sector, week, month, TLP, KEV CVE ids, catalogued actors) or from node data
 * (tool/malware family names, uncatalogued actors), which the gateway releases only through
 * partition selection.
 */
export const DIMENSIONS = ['COUNTRY', 'REGION', 'SUBREGION', 'SECTOR', 'WEEK', 'MONTH', 'EXPLOIT', 'TOOL', 'ACTOR', 'TLP', 'VINTAGE'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/**
 * Exploit vintage buckets: the age of an exploited vulnerability when it was exploited, in days
 * d = incident date − the exploit's public disclosure date. One key per (incident, exploited
 * vulnerability with a known disclosure date); tools and exploits without a disclosure date have
 * no vintage. Buckets (public domain, fixed order):
 *   ZERO_DAY        d ≤ 0      (exploited on or before the day it was disclosed)
 *   UNDER_30_DAYS   1 ≤ d < 30
 *   UNDER_1_YEAR    30 ≤ d < 365
 *   ONE_TO_3_YEARS  365 ≤ d < 1095
 *   OVER_3_YEARS    d ≥ 1095
 */
export const VINTAGE_BUCKETS = ['ZERO_DAY', 'UNDER_30_DAYS', 'UNDER_1_YEAR', 'ONE_TO_3_YEARS', 'OVER_3_YEARS'] as const;
export type VintageBucket = (typeof VINTAGE_BUCKETS)[number];
/** Lower bounds (days, inclusive) of the buckets after ZERO_DAY. */
export const VINTAGE_LOWER_DAYS = { UNDER_30_DAYS: 1, UNDER_1_YEAR: 30, ONE_TO_3_YEARS: 365, OVER_3_YEARS: 1095 } as const;

/** The vintage bucket of an exploitation `ageDays` = incident date − disclosure date (days). */
export function vintageBucket(ageDays: number): VintageBucket {
  if (ageDays < VINTAGE_LOWER_DAYS.UNDER_30_DAYS) return 'ZERO_DAY';
  if (ageDays < VINTAGE_LOWER_DAYS.UNDER_1_YEAR) return 'UNDER_30_DAYS';
  if (ageDays < VINTAGE_LOWER_DAYS.ONE_TO_3_YEARS) return 'UNDER_1_YEAR';
  if (ageDays < VINTAGE_LOWER_DAYS.OVER_3_YEARS) return 'ONE_TO_3_YEARS';
  return 'OVER_3_YEARS';
}

/** Filters; every list is an "in" filter, absent means no restriction. Dates are ISO `YYYY-MM-DD`. */
export interface ContributionFilter {
  countries?: string[];
  regions?: string[];
  subregions?: string[];
  sectors?: string[];
  exploits?: string[];
  tools?: string[];
  actors?: string[];
  tlp?: string[];
  /**
   * Indicator keyed hashes (see `indicator.ts`): only incidents carrying one of these indicators
   * count. The gateway hashes the analyst's value under the federation indicator key; nodes match
   * the hash they stored at ingestion and never see the value.
   */
  indicators?: string[];
  /** Inclusive start date. */
  from?: string;
  /** Exclusive end date. */
  to?: string;
}

/**
 * The public contribution bounds a node applies per privacy unit (organisation), in SQL.
 * `clampLo`/`clampHi`/`gridExponent` matter only for sum measures: each value is clamped to
 * [clampLo, clampHi] and rounded to the nearest multiple of 2^gridExponent, and the node reports
 * sums in grid units (integers).
 */
export interface ContributionBounds {
  maxPartitions: number;
  maxPerPartition: number;
  clampLo?: number;
  clampHi?: number;
  gridExponent?: number;
}

export interface ContributionRequest {
  /** Fingerprint of the canonical query the gateway admitted (hex). */
  queryId: string;
  measure: Measure;
  groupBy: Dimension[];
  filter?: ContributionFilter;
  bounds: ContributionBounds;
}

export interface ContributionGroup {
  /** One value per `groupBy` dimension, in the same order. */
  key: string[];
  /** Bounded count: Σ over units of min(rows of the unit in the group, maxPerPartition). */
  count: number;
  /** Bounded clamped sum in grid units (integer); null for count measures. */
  sum: number | null;
  /**
   * SEVERITY_SUM only: how many of the rows counted in `count` (the same bounded rows) had a
   * service disruption; null for the other measures.
   */
  disrupted: number | null;
}

export interface Contribution {
  /** The node's public id. */
  node: string;
  queryId: string;
  /**
   * Distinct privacy units that contributed after bounding. Exact and private: the gateway
   * uses it only to check the partials against the bounds, never releases it.
   */
  units: number;
  groups: ContributionGroup[];
}

/** The contribution SDL every node publishes (without federation's own additions). */
export const CONTRIBUTION_SDL = /* GraphQL */ `
enum Measure { ${MEASURES.join(' ')} }

enum Dimension { ${DIMENSIONS.join(' ')} }

input ContributionFilter {
  countries: [String!]
  regions: [String!]
  subregions: [String!]
  sectors: [String!]
  exploits: [String!]
  tools: [String!]
  actors: [String!]
  tlp: [String!]
  indicators: [String!]
  from: String
  to: String
}

input ContributionBounds {
  maxPartitions: Int!
  maxPerPartition: Int!
  clampLo: Float
  clampHi: Float
  gridExponent: Int
}

input ContributionRequest {
  queryId: String!
  measure: Measure!
  groupBy: [Dimension!]!
  filter: ContributionFilter
  bounds: ContributionBounds!
}

type ContributionGroup {
  key: [String!]!
  count: Int!
  sum: Float
  disrupted: Int
}

type Contribution {
  node: String!
  queryId: String!
  units: Int!
  groups: [ContributionGroup!]!
}

type Query {
  contribution(request: ContributionRequest!): Contribution!
}
`;

/** The operation the gateway sends to every node. */
export const CONTRIBUTION_OPERATION = /* GraphQL */ `
query Contribution($request: ContributionRequest!) {
  contribution(request: $request) { node queryId units groups { key count sum disrupted } }
}
`;

/** HTTP header carrying the signed grant (access-control issue). */
export const GRANT_HEADER = 'accord-grant';
