/**
 * The `reference` subgraph: the public catalogs Accord releases group keys from (the CISA Known
 * Exploited Vulnerabilities catalog, ISO 3166-1 countries with their UN M49 regions, the sector
 * taxonomy), served in-process from `schema/reference`.
 *
 * Its three entities (`Vulnerability` by `cve`, `Country` by `code`, `Sector` by `id`) let the query
 * planner join noised aggregates from the `analyst` subgraph to public descriptions: `analyst` returns
 * entity stubs carrying only the key, and the planner sends those keys here in an `_entities`
 * fetch. Nothing else ever reaches this subgraph — no count, no noise, no member identity — and
 * nothing here depends on who asks; `onRequest` lets tests record every operation it receives to
 * prove it.
 */
import type { GraphQLDataSource } from '@apollo/gateway';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import type { Logger } from 'pino';
import { AccordError } from '../../../schema/errors.js';
import {
  COUNTRIES,
  KEV,
  KEV_CATALOG_VERSION,
  REGIONS,
  SECTORS,
  countryByAlpha2,
  cveYear,
  kevByCve,
  sectorById,
  type Country,
  type KevEntry,
  type Sector,
} from '../../../schema/reference/index.js';
import { createLogger } from '../../log.js';
import { CatalogLocalDataSource } from '../local-datasource.js';
import type { LocalSubgraph } from '../supergraph.js';

export const REFERENCE_SUBGRAPH_NAME = 'reference';

/** Largest `first` of `vulnerabilities`. */
export const MAX_VULNERABILITY_PAGE = 500;

export const REFERENCE_SDL = /* GraphQL */ `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

"""
A CVE, described from the CISA Known Exploited Vulnerabilities (KEV) catalog bundled with the
gateway (version: \`kevCatalogVersion\`). Any well-formed CVE id resolves: one that is not in the
catalog has \`inKev: false\` and every descriptive field null.
"""
type Vulnerability @key(fields: "cve") {
  "CVE id, upper case (e.g. CVE-2021-44228)."
  cve: String!
  "True when the CVE is in the bundled KEV catalog; false otherwise (then the fields below, except year, are null)."
  inKev: Boolean!
  "Year part of the CVE id (the year the id was assigned, not when it was exploited); null for a malformed id."
  year: Int
  "Vendor or project (KEV vendorProject)."
  vendor: String
  "Affected product (KEV product)."
  product: String
  "Vulnerability name (KEV vulnerabilityName)."
  name: String
  "Date the CVE was added to the KEV catalog, YYYY-MM-DD."
  dateAdded: String
  "True when CISA knows of its use in ransomware campaigns (KEV knownRansomwareCampaignUse 'Known'); false when unknown."
  knownRansomwareUse: Boolean
}

"One page of KEV catalog entries, newest first (the catalog's order)."
type VulnerabilityPage {
  "Entries matching the filter, over all pages."
  total: Int!
  "The entries of this page."
  items: [Vulnerability!]!
  "The \`after\` of the next page, or null when this page is the last."
  nextAfter: Int
}

"An ISO 3166-1 country with its UN M49 region and sub-region."
type Country @key(fields: "code") {
  "ISO 3166-1 alpha-2 code, upper case (e.g. DE)."
  code: String!
  "ISO 3166-1 alpha-3 code, upper case (e.g. DEU)."
  alpha3: String!
  "ISO 3166-1 numeric (= M49 country) code, three digits (e.g. 276)."
  numeric: String!
  "ISO 3166-1 English short name (e.g. Korea, Republic of)."
  name: String!
  "Common short name when it differs from name (e.g. South Korea); null otherwise."
  shortName: String
  "UN M49 region (e.g. Europe). Antarctica, which M49 leaves without one, is its own region."
  region: String!
  "UN M49 sub-region (e.g. Western Europe)."
  subregion: String!
  "M49 region code, three digits (e.g. 150); null where M49 has none (Antarctica)."
  regionCode: String
  "M49 sub-region code, three digits (e.g. 155); null where M49 has none (Antarctica)."
  subregionCode: String
}

"Where a sector id comes from."
enum SectorOrigin {
  "One of the 16 US critical-infrastructure sectors (CISA)."
  CISA
  "An EU NIS2 sector with no CISA counterpart."
  NIS2
  "Accord's catch-all for organisations outside both taxonomies."
  ACCORD
}

"A primary sector of Accord's taxonomy: the CISA critical-infrastructure sectors, the NIS2 sectors without a CISA counterpart, and other."
type Sector @key(fields: "id") {
  "Stable kebab-case id (e.g. financial-services)."
  id: String!
  "Display name (e.g. Financial Services)."
  name: String!
  "Where the id comes from."
  origin: SectorOrigin!
  "The dhs-ciip-sectors taxonomy value, for CISA sectors; null otherwise."
  cisa: String
  "nis2 taxonomy impact-sectors-impacted values that map onto this sector (may be empty)."
  nis2: [String!]!
  "NIS2 annex of the sector (I, II or I+II) when it is or contains a NIS2 sector; null otherwise."
  nis2Annex: String
  "Caveat on the mapping when it is approximate; null otherwise."
  note: String
}

type Query {
  "One CVE (any case; surrounding spaces ignored). A well-formed id not in the catalog has inKev false. A malformed id is INVALID_QUERY."
  vulnerability(
    "CVE id, e.g. CVE-2021-44228."
    cve: String!
  ): Vulnerability
  "KEV catalog entries matching every given filter, newest first, one page at a time. Malformed arguments are INVALID_QUERY."
  vulnerabilities(
    "Vendor or project, exact match ignoring case and surrounding spaces (e.g. microsoft)."
    vendor: String
    "Only entries with (true) or without (false) known ransomware campaign use."
    ransomware: Boolean
    "Added to the catalog on or after this day, YYYY-MM-DD."
    addedFrom: String
    "Added to the catalog on or before this day, YYYY-MM-DD."
    addedTo: String
    "Page size, 0 to ${MAX_VULNERABILITY_PAGE}."
    first: Int = 50
    "Entries to skip (0 or more): the nextAfter of the previous page."
    after: Int = 0
  ): VulnerabilityPage!
  "The country with this ISO 3166-1 alpha-2 code (any case), or null when there is none."
  country(
    "ISO 3166-1 alpha-2 code, e.g. FR."
    code: String!
  ): Country
  "Every ISO 3166-1 country in the source's order (alphabetical by ISO name), or those of one UN M49 region. An unknown region is INVALID_QUERY."
  countries(
    "UN M49 region name, any case (Africa, Americas, Antarctica, Asia, Europe, Oceania)."
    region: String
  ): [Country!]!
  "The sector with this id (any case), or null when there is none."
  sector(
    "Sector id, e.g. energy."
    id: String!
  ): Sector
  "Every primary sector, in display order."
  sectors: [Sector!]!
  "Version of the bundled KEV catalog (e.g. 2025.08.25)."
  kevCatalogVersion: String!
}
`;

/** What a Vulnerability resolves to. */
interface VulnerabilityView {
  cve: string;
  inKev: boolean;
  year: number | null;
  vendor: string | null;
  product: string | null;
  name: string | null;
  dateAdded: string | null;
  knownRansomwareUse: boolean | null;
}

const CVE_PATTERN = /^CVE-\d{4}-\d{4,}$/;
const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

function normaliseCve(cve: unknown): string {
  return typeof cve === 'string' ? cve.trim().toUpperCase() : '';
}

function kevView(e: KevEntry): VulnerabilityView {
  return {
    cve: e.cveID,
    inKev: true,
    year: cveYear(e.cveID) ?? null,
    vendor: e.vendorProject,
    product: e.product,
    name: e.vulnerabilityName,
    dateAdded: e.dateAdded,
    knownRansomwareUse: e.knownRansomwareCampaignUse,
  };
}

/** The view of any CVE id: the catalog's entry, or `inKev: false` with null fields. */
function vulnerabilityView(cve: string): VulnerabilityView {
  const entry = kevByCve(cve);
  if (entry) return kevView(entry);
  return { cve, inKev: false, year: cveYear(cve) ?? null, vendor: null, product: null, name: null, dateAdded: null, knownRansomwareUse: null };
}

function countryView(c: Country) {
  return {
    code: c.alpha2,
    alpha3: c.alpha3,
    numeric: c.numeric,
    name: c.name,
    shortName: c.shortName ?? null,
    region: c.region,
    subregion: c.subregion,
    regionCode: c.regionCode || null,
    subregionCode: c.subregionCode || null,
  };
}

function sectorView(s: Sector) {
  return {
    id: s.id,
    name: s.name,
    origin: s.origin.toUpperCase(),
    cisa: s.cisa ?? null,
    nis2: s.nis2,
    nis2Annex: s.nis2Annex ?? null,
    note: s.note ?? null,
  };
}

function countryByCode(code: unknown) {
  const c = typeof code === 'string' ? countryByAlpha2(code.trim().toUpperCase()) : undefined;
  return c ? countryView(c) : null;
}

function sectorByAnyCase(id: unknown) {
  const s = typeof id === 'string' ? sectorById(id.trim().toLowerCase()) : undefined;
  return s ? sectorView(s) : null;
}

/** A calendar day `YYYY-MM-DD` (checked as a real date), or INVALID_QUERY naming the argument. */
function day(value: string, argument: string): string {
  const d = new Date(`${value}T00:00:00Z`);
  if (!DAY_PATTERN.test(value) || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) {
    throw new AccordError('INVALID_QUERY', `${argument} must be a calendar day YYYY-MM-DD (got "${value}").`, { argument });
  }
  return value;
}

interface VulnerabilitiesArgs {
  vendor?: string | null;
  ransomware?: boolean | null;
  addedFrom?: string | null;
  addedTo?: string | null;
  first?: number | null;
  after?: number | null;
}

function vulnerabilities(args: VulnerabilitiesArgs) {
  const first = args.first ?? 50;
  const after = args.after ?? 0;
  if (!Number.isInteger(first) || first < 0 || first > MAX_VULNERABILITY_PAGE) {
    throw new AccordError('INVALID_QUERY', `first must be an integer from 0 to ${MAX_VULNERABILITY_PAGE} (got ${first}).`, { argument: 'first' });
  }
  if (!Number.isInteger(after) || after < 0) {
    throw new AccordError('INVALID_QUERY', `after must be 0 or more (got ${after}).`, { argument: 'after' });
  }
  let vendor: string | undefined;
  if (args.vendor != null) {
    vendor = args.vendor.trim().toLowerCase();
    if (vendor === '') throw new AccordError('INVALID_QUERY', 'vendor must not be empty; leave it out to match every vendor.', { argument: 'vendor' });
  }
  const from = args.addedFrom != null ? day(args.addedFrom, 'addedFrom') : undefined;
  const to = args.addedTo != null ? day(args.addedTo, 'addedTo') : undefined;
  if (from !== undefined && to !== undefined && from > to) {
    throw new AccordError('INVALID_QUERY', `addedFrom (${from}) is after addedTo (${to}).`, { argument: 'addedFrom' });
  }
  const ransomware = args.ransomware ?? undefined;
  const matching = KEV.filter(
    (e) =>
      (vendor === undefined || e.vendorProject.toLowerCase() === vendor) &&
      (ransomware === undefined || e.knownRansomwareCampaignUse === ransomware) &&
      (from === undefined || e.dateAdded >= from) &&
      (to === undefined || e.dateAdded <= to),
  );
  const items = matching.slice(after, after + first).map(kevView);
  const end = after + items.length;
  return { total: matching.length, items, nextAfter: end < matching.length && first > 0 ? end : null };
}

const REGION_BY_LOWER: ReadonlyMap<string, string> = new Map(Object.keys(REGIONS).map((r) => [r.toLowerCase(), r]));

function countries(region: string | null | undefined) {
  if (region == null) return COUNTRIES.map(countryView);
  const name = REGION_BY_LOWER.get(region.trim().toLowerCase());
  if (!name) {
    throw new AccordError('INVALID_QUERY', `Unknown UN M49 region "${region}"; use one of ${Object.keys(REGIONS).join(', ')}.`, {
      argument: 'region',
      regions: Object.keys(REGIONS),
    });
  }
  return COUNTRIES.filter((c) => c.region === name).map(countryView);
}

const resolvers = {
  Query: {
    vulnerability: (_: unknown, { cve }: { cve: string }) => {
      const id = normaliseCve(cve);
      if (!CVE_PATTERN.test(id)) throw new AccordError('INVALID_QUERY', `cve must be a CVE id like CVE-2021-44228 (got "${cve}").`, { argument: 'cve' });
      return vulnerabilityView(id);
    },
    vulnerabilities: (_: unknown, args: VulnerabilitiesArgs) => vulnerabilities(args),
    country: (_: unknown, { code }: { code: string }) => countryByCode(code),
    countries: (_: unknown, { region }: { region?: string | null }) => countries(region),
    sector: (_: unknown, { id }: { id: string }) => sectorByAnyCase(id),
    sectors: () => SECTORS.map(sectorView),
    kevCatalogVersion: () => KEV_CATALOG_VERSION,
  },
  Vulnerability: {
    // Any key resolves: a CVE the catalog lacks (or a malformed id) is simply not in KEV.
    __resolveReference: (ref: { cve?: unknown }) => vulnerabilityView(normaliseCve(ref.cve)),
  },
  Country: {
    __resolveReference: (ref: { code?: unknown }) => countryByCode(ref.code),
  },
  Sector: {
    __resolveReference: (ref: { id?: unknown }) => sectorByAnyCase(ref.id),
  },
};

export interface ReferenceSubgraphOptions {
  /** Called with every operation the subgraph receives, before it runs (tests record them). */
  onRequest?: (request: { query: string; variables: unknown }) => void;
  /** Where internal errors are logged; a stderr logger at level info by default. */
  logger?: Logger;
}

/** The reference subgraph with its in-process data source. */
export function buildReferenceSubgraph(options: ReferenceSubgraphOptions = {}): LocalSubgraph {
  const typeDefs = parse(REFERENCE_SDL);
  const inner = new CatalogLocalDataSource(buildSubgraphSchema([{ typeDefs, resolvers: resolvers as never }]), options.logger ?? createLogger('info'));
  const { onRequest } = options;
  const dataSource: GraphQLDataSource = onRequest
    ? {
        process: (opts) => {
          onRequest({ query: opts.request.query ?? '', variables: opts.request.variables });
          return inner.process(opts);
        },
      }
    : inner;
  return { name: REFERENCE_SUBGRAPH_NAME, typeDefs, dataSource };
}
