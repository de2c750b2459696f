/**
 * The reference subgraph, composed with a stand-in for the analyst subgraph that returns counts and
 * entity stubs, behind an in-process Apollo gateway: the planner joins public catalog fields onto
 * the stubs, the reference subgraph receives only entity keys (never a count), and its root fields
 * validate their arguments with catalog error codes.
 */
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CatalogLocalDataSource } from '../../gateway/federation/local-datasource.js';
import { ANALYST_SDL, ANALYST_SUBGRAPH_NAME } from '../../gateway/federation/subgraphs/analyst.js';
import { PLATFORM_SDL, PLATFORM_SUBGRAPH_NAME } from '../../gateway/federation/subgraphs/platform.js';
import { buildReferenceSubgraph, REFERENCE_SUBGRAPH_NAME } from '../../gateway/federation/subgraphs/reference.js';
import { composeSupergraph, type LocalSubgraph } from '../../gateway/federation/supergraph.js';
import { makeFormatError } from '../../gateway/http/errors.js';
import { COUNTRIES, KEV, KEV_CATALOG_VERSION, kevByCve, REGIONS, SECTORS } from '../../schema/reference/index.js';
import { quietLogger } from './helpers.js';

/** A stand-in for the analyst subgraph: counts keyed by public ids, the keys as entity stubs. */
const HITS_SDL = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  type Vulnerability @key(fields: "cve", resolvable: false) {
    cve: String!
  }
  type Country @key(fields: "code", resolvable: false) {
    code: String!
  }
  type Sector @key(fields: "id", resolvable: false) {
    id: String!
  }
  type Hit {
    count: Int!
    exploit: Vulnerability
    country: Country
    sector: Sector
  }
  type Query {
    hits: [Hit!]!
  }
`;

/** Counts are primes no catalog value contains, so a leak into the reference subgraph is visible. */
const HITS = [
  { count: 7919, exploit: { cve: 'CVE-2021-44228' }, country: { code: 'FR' }, sector: { id: 'energy' } },
  { count: 104729, exploit: { cve: 'cve-2021-44228' }, country: { code: 'de' }, sector: { id: 'mining' } },
  { count: 1299709, exploit: { cve: 'CVE-1999-99999' }, country: { code: 'ZZ' }, sector: { id: 'other' } },
];
const KNOWN_CVE = 'CVE-2021-44228';

interface Recorded {
  query: string;
  variables: unknown;
}

const recorded: Recorded[] = [];
let server: ApolloServer;

function hitsSubgraph(): LocalSubgraph {
  const typeDefs = parse(HITS_SDL);
  const schema = buildSubgraphSchema([{ typeDefs, resolvers: { Query: { hits: () => HITS } } as never }]);
  return { name: 'hits', typeDefs, dataSource: new CatalogLocalDataSource(schema, quietLogger) };
}

interface Result {
  data?: Record<string, any> | null;
  errors?: ReadonlyArray<{ message: string; path?: ReadonlyArray<string | number>; extensions?: Record<string, unknown> }>;
}

async function run(query: string, variables?: Record<string, unknown>): Promise<Result> {
  const res = await server.executeOperation({ query, ...(variables ? { variables } : {}) });
  if (res.body.kind !== 'single') throw new Error('expected a single result');
  return res.body.singleResult as Result;
}

beforeAll(async () => {
  process.env.APOLLO_TELEMETRY_DISABLED = 'true';
  const subgraphs = [hitsSubgraph(), buildReferenceSubgraph({ logger: quietLogger, onRequest: (r) => recorded.push(r) })];
  const supergraphSdl = composeSupergraph(subgraphs);
  const byName = new Map(subgraphs.map((s) => [s.name, s.dataSource]));
  const gateway = new ApolloGateway({
    supergraphSdl,
    logger: quietLogger,
    buildService: ({ name }) => {
      const ds = byName.get(name);
      if (!ds) throw new Error(`no data source for ${name}`);
      return ds;
    },
  });
  server = new ApolloServer({ gateway, formatError: makeFormatError(quietLogger), includeStacktraceInErrorResponses: false });
  await server.start();
});

afterAll(async () => {
  await server?.stop();
});

test('composes with the gateway’s own subgraphs: no root field or type clashes', () => {
  const sdl = composeSupergraph([
    { name: ANALYST_SUBGRAPH_NAME, typeDefs: parse(ANALYST_SDL) },
    { name: PLATFORM_SUBGRAPH_NAME, typeDefs: parse(PLATFORM_SDL) },
    buildReferenceSubgraph({ logger: quietLogger }),
  ]);
  for (const field of ['vulnerability(', 'vulnerabilities(', 'country(', 'countries(', 'sector(', 'sectors:', 'kevCatalogVersion:']) {
    expect(sdl).toContain(`${field}`);
  }
  expect(sdl).toContain(`join__graph(name: "${REFERENCE_SUBGRAPH_NAME}"`);
});

describe('entity joins', () => {
  let result: Result;
  let seen: Recorded[];

  beforeAll(async () => {
    recorded.length = 0;
    result = await run(/* GraphQL */ `
      {
        hits {
          count
          exploit { cve inKev year vendor product name dateAdded knownRansomwareUse }
          country { code name alpha3 region subregion regionCode }
          sector { id name origin cisa nis2 nis2Annex }
        }
      }
    `);
    seen = recorded.splice(0);
  });

  test('the planner joins KEV, country and sector fields onto the stubs', () => {
    expect(result.errors).toBeUndefined();
    const hits = result.data!.hits as any[];
    expect(hits.map((h) => h.count)).toEqual([7919, 104729, 1299709]);
    const kev = kevByCve(KNOWN_CVE)!;
    expect(kev).toBeDefined();
    expect(hits[0].exploit).toEqual({
      cve: KNOWN_CVE,
      inKev: true,
      year: 2021,
      vendor: kev.vendorProject,
      product: kev.product,
      name: kev.vulnerabilityName,
      dateAdded: kev.dateAdded,
      knownRansomwareUse: kev.knownRansomwareCampaignUse,
    });
    expect(hits[0].exploit).toMatchObject({ vendor: 'Apache', product: 'Log4j2', dateAdded: '2021-12-10' });
    // A lower-case key is normalised before the catalog lookup.
    expect(hits[1].exploit).toMatchObject({ inKev: true, vendor: 'Apache', dateAdded: '2021-12-10' });
    expect(hits[0].country).toEqual({ code: 'FR', name: 'France', alpha3: 'FRA', region: 'Europe', subregion: 'Western Europe', regionCode: '150' });
    expect(hits[1].country).toMatchObject({ name: 'Germany', alpha3: 'DEU' });
    expect(hits[0].sector).toEqual({ id: 'energy', name: 'Energy', origin: 'CISA', cisa: 'energy', nis2: ['energy'], nis2Annex: 'I' });
    expect(hits[2].sector).toMatchObject({ id: 'other', origin: 'ACCORD', cisa: null, nis2: [], nis2Annex: null });
  });

  test('a CVE the catalog lacks resolves with inKev false and null fields; unknown country and sector are null', () => {
    const hits = result.data!.hits as any[];
    expect(hits[2].exploit).toEqual({
      cve: 'CVE-1999-99999',
      inKev: false,
      year: 1999,
      vendor: null,
      product: null,
      name: null,
      dateAdded: null,
      knownRansomwareUse: null,
    });
    expect(hits[2].country).toBeNull();
    expect(hits[1].sector).toBeNull();
  });

  test('the reference subgraph received only _entities fetches carrying key fields, never a count', () => {
    expect(seen.length).toBeGreaterThan(0);
    const keyOf: Record<string, string> = { Vulnerability: 'cve', Country: 'code', Sector: 'id' };
    const representations: Array<Record<string, unknown>> = [];
    for (const r of seen) {
      const doc = parse(r.query);
      expect(doc.definitions).toHaveLength(1);
      const op = doc.definitions[0]!;
      expect(op.kind).toBe('OperationDefinition');
      if (op.kind !== 'OperationDefinition') continue;
      expect(op.selectionSet.selections.map((s) => (s.kind === 'Field' ? s.name.value : s.kind))).toEqual(['_entities']);
      expect(r.query).not.toMatch(/\bcount\b/);
      const vars = r.variables as { representations?: unknown };
      expect(Object.keys(vars)).toEqual(['representations']);
      expect(Array.isArray(vars.representations)).toBe(true);
      representations.push(...(vars.representations as Array<Record<string, unknown>>));
    }
    for (const rep of representations) {
      const typename = rep.__typename as string;
      expect(Object.keys(keyOf)).toContain(typename);
      expect(Object.keys(rep).sort()).toEqual(['__typename', keyOf[typename]!].sort());
      expect(typeof rep[keyOf[typename]!]).toBe('string');
    }
    // Every stub's key arrived (the planner may deduplicate equal representations).
    const keys = new Set(representations.map((rep) => `${rep.__typename}:${rep[keyOf[rep.__typename as string]!]}`));
    for (const h of HITS) {
      expect(keys).toContain(`Vulnerability:${h.exploit.cve}`);
      expect(keys).toContain(`Country:${h.country.code}`);
      expect(keys).toContain(`Sector:${h.sector.id}`);
    }
    const wire = JSON.stringify(seen);
    for (const h of HITS) expect(wire).not.toContain(String(h.count));
  });
});

describe('root fields', () => {
  test('vulnerability: any case, unknown → inKev false', async () => {
    const r = await run(`{ a: vulnerability(cve: " cve-2021-44228 ") { cve inKev vendor } b: vulnerability(cve: "CVE-2000-0001") { cve inKev vendor } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({
      a: { cve: KNOWN_CVE, inKev: true, vendor: 'Apache' },
      b: { cve: 'CVE-2000-0001', inKev: false, vendor: null },
    });
  });

  test('vulnerabilities filters and pages over the catalog, newest first', async () => {
    const microsoft = KEV.filter((e) => e.vendorProject.toLowerCase() === 'microsoft');
    const r = await run(`{ vulnerabilities(vendor: "MICROSOFT", first: 3) { total nextAfter items { cve vendor } } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data!.vulnerabilities).toEqual({
      total: microsoft.length,
      nextAfter: 3,
      items: microsoft.slice(0, 3).map((e) => ({ cve: e.cveID, vendor: e.vendorProject })),
    });

    const q = `query Page($after: Int) { vulnerabilities(ransomware: true, addedFrom: "2023-01-01", addedTo: "2023-12-31", first: 500, after: $after) { total nextAfter items { cve dateAdded knownRansomwareUse } } }`;
    const expected = KEV.filter((e) => e.knownRansomwareCampaignUse && e.dateAdded >= '2023-01-01' && e.dateAdded <= '2023-12-31');
    expect(expected.length).toBeGreaterThan(0);
    const page = (await run(q, { after: 0 })).data!.vulnerabilities;
    expect(page.total).toBe(expected.length);
    expect(page.items.map((i: any) => i.cve)).toEqual(expected.map((e) => e.cveID));
    expect(page.items.every((i: any) => i.knownRansomwareUse === true && i.dateAdded.startsWith('2023-'))).toBe(true);

    const all = await run(`{ vulnerabilities(first: 500, after: ${KEV.length - 2}) { total nextAfter items { cve } } }`);
    expect(all.data!.vulnerabilities).toEqual({ total: KEV.length, nextAfter: null, items: KEV.slice(-2).map((e) => ({ cve: e.cveID })) });
  });

  test('country, countries and sectors', async () => {
    const r = await run(`{
      fr: country(code: "fr") { code name region subregion numeric }
      xx: country(code: "XX") { code }
      all: countries { code }
      europe: countries(region: "europe") { code region }
      sectors { id origin }
      energy: sector(id: "Energy") { id name }
      nope: sector(id: "mining") { id }
      kevCatalogVersion
    }`);
    expect(r.errors).toBeUndefined();
    const d = r.data!;
    expect(d.fr).toEqual({ code: 'FR', name: 'France', region: 'Europe', subregion: 'Western Europe', numeric: '250' });
    expect(d.xx).toBeNull();
    expect(d.all).toHaveLength(COUNTRIES.length);
    expect(d.europe.map((c: any) => c.code)).toEqual(COUNTRIES.filter((c) => c.region === 'Europe').map((c) => c.alpha2));
    expect(d.europe.every((c: any) => c.region === 'Europe')).toBe(true);
    expect(d.sectors.map((s: any) => s.id)).toEqual(SECTORS.map((s) => s.id));
    expect(d.energy).toEqual({ id: 'energy', name: 'Energy' });
    expect(d.nope).toBeNull();
    expect(d.kevCatalogVersion).toBe(KEV_CATALOG_VERSION);
  });

  test.each([
    ['first above 500', `{ vulnerabilities(first: 501) { total } }`, 'first'],
    ['negative first', `{ vulnerabilities(first: -1) { total } }`, 'first'],
    ['negative after', `{ vulnerabilities(after: -1) { total } }`, 'after'],
    ['empty vendor', `{ vulnerabilities(vendor: "  ") { total } }`, 'vendor'],
    ['impossible day', `{ vulnerabilities(addedFrom: "2024-02-30") { total } }`, 'addedFrom'],
    ['not a day', `{ vulnerabilities(addedTo: "last week") { total } }`, 'addedTo'],
    ['reversed window', `{ vulnerabilities(addedFrom: "2024-02-01", addedTo: "2024-01-01") { total } }`, 'addedFrom'],
    ['malformed CVE', `{ vulnerability(cve: "log4shell") { cve } }`, 'cve'],
    ['unknown region', `{ countries(region: "Atlantis") { code } }`, 'region'],
  ])('%s → INVALID_QUERY', async (_name, query, argument) => {
    const r = await run(query);
    // Nullable root fields come back null, non-null ones null the whole data.
    expect(Object.values(r.data ?? {}).every((v) => v === null)).toBe(true);
    expect(r.errors).toHaveLength(1);
    const e = r.errors![0]!;
    expect(e.extensions?.code).toBe('INVALID_QUERY');
    expect(e.extensions?.argument).toBe(argument);
    expect(e.extensions).not.toHaveProperty('serviceName');
  });

  test('every region the error lists is a region countries() accepts', async () => {
    const r = await run(`{ countries(region: "Atlantis") { code } }`);
    expect(r.errors![0]!.extensions?.regions).toEqual(Object.keys(REGIONS));
    for (const region of Object.keys(REGIONS)) {
      const ok = await run(`query R($r: String) { countries(region: $r) { code } }`, { r: region });
      expect(ok.errors).toBeUndefined();
      expect(ok.data!.countries.length).toBeGreaterThan(0);
    }
  });
});
