/**
 * The gateway with stub member nodes (test/helpers/stub-node.ts) publishing the contribution SDL, an
 * allow-all policy and ample budgets (access control itself is tested in access.test.ts): answers
 * in-process (buildGateway, the stub scatter); what the HTTP scatter and front do — SDL admission,
 * deadlines, nodes down, request errors — over real HTTP on 127.0.0.1 (createGateway).
 *
 * Identical questions are answered from the cache, so tests that need fresh noise ask equivalent
 * but distinct questions: every planted incident is dated 2024-06-15 and {@link fresh} widens the
 * window's end by one day per call, which changes the fingerprint and not the truth.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildClientSchema, getIntrospectionQuery, getNamedType, isInputObjectType, isObjectType, type GraphQLNamedType, type IntrospectionQuery } from 'graphql';
import { CONTRIBUTION_SDL } from '../../schema/contract/index.js';
import { SECTOR_IDS } from '../../schema/reference/index.js';
import { buildGateway, createGateway, type BuiltGateway, type Gateway } from '../../gateway/app.js';
import type { NodeConfig } from '../../gateway/config.js';
import { makeAccessFixture, type AccessFixture } from '../helpers/access.js';
import { binomialUpperTail } from '../helpers/stats.js';
import { createStubNode, failingScatter, startStubNode, stubScatter, unusedPort, type InProcessStubNode, type PlantedCell, type StubNode } from '../helpers/stub-node.js';
import { gql as gqlAs, PATTERN_QUERY, quietLogger, type Answer } from './helpers.js';

const DAY = '2024-06-15';
const PLANTED: Record<string, PlantedCell[]> = {
  'cert-fr': [
    { country: 'FR', sector: 'energy', count: 40, date: DAY },
    { country: 'FR', sector: 'healthcare-public-health', count: 25, date: DAY },
    { country: 'DE', sector: 'energy', count: 3, date: DAY },
  ],
  'cert-de': [
    { country: 'DE', sector: 'energy', count: 30, date: DAY },
    { country: 'DE', sector: 'financial-services', count: 12, date: DAY },
  ],
  'isac-energy': [
    { country: 'FR', sector: 'energy', count: 5, date: DAY },
    { country: 'IT', sector: 'water', count: 8, date: DAY },
    { country: 'DE', sector: 'healthcare-public-health', count: 7, date: DAY },
  ],
};
const COUNTRIES = ['DE', 'FR', 'IT'];

function truth(country: string, sector: string): number {
  return Object.values(PLANTED)
    .flat()
    .filter((c) => c.country === country && c.sector === sector)
    .reduce((s, c) => s + c.count, 0);
}

const asConfig = (n: StubNode, kind = 'national-cert'): NodeConfig => ({ id: n.id, name: n.id.toUpperCase(), kind, url: n.url });

async function startHonestNodes(): Promise<StubNode[]> {
  return Promise.all(Object.entries(PLANTED).map(([id, planted]) => startStubNode({ id, planted })));
}

let fx: AccessFixture;
let token = '';
beforeAll(async () => {
  fx = await makeAccessFixture({ budgets: { nodeCap: { rho: 1000 }, allocation: { rho: 1000 } } });
  token = await fx.token('eu-analyst');
});
afterAll(() => fx?.remove());

/** A fresh ledger database per gateway (same keys, members and policies). */
let dbs = 0;
const access = () => fx.access({ db: `${fx.dir}/gateway-${++dbs}.sqlite` });

function gql<T = Record<string, any>>(target: string | BuiltGateway, query: string, variables?: Record<string, unknown>) {
  return gqlAs<T>(target, query, variables, token);
}

/** The pattern question over HTTP (a listening gateway) or in-process (a built one). */
async function pattern(gw: Gateway | BuiltGateway, variables: Record<string, unknown>) {
  return gql<{ crossBorderPattern: Answer }>('url' in gw ? gw.url : gw, PATTERN_QUERY, variables);
}

const BY_COUNTRY_SECTOR = { groupBy: ['COUNTRY', 'SECTOR'], filter: { countries: COUNTRIES } };

let serial = 0;
/** The country × sector question over a window holding every planted incident, never asked before. */
function fresh(extra: Record<string, unknown> = {}) {
  const to = new Date(Date.UTC(2025, 0, 1 + ++serial)).toISOString().slice(0, 10);
  return { ...BY_COUNTRY_SECTOR, filter: { countries: COUNTRIES, from: '2024-01-01', to }, ...extra };
}

describe('answers, in-process: three honest nodes behind the stub scatter', () => {
  let nodes: InProcessStubNode[];
  let gw: BuiltGateway;
  beforeAll(async () => {
    nodes = Object.entries(PLANTED).map(([id, planted]) => createStubNode({ id, planted }));
    gw = await buildGateway({
      nodes: nodes.map((n) => ({ id: n.id, name: n.id.toUpperCase(), kind: 'national-cert', url: `http://${n.id}.invalid/graphql` })),
      logger: quietLogger,
      refreshIntervalMs: 0,
      access: access(),
      scatter: stubScatter(nodes, { timeoutMs: 400 }),
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  test('country × sector counts lie in their stated 95% interval at the advertised rate', async () => {
    // 40 answers × 63 cells, each cell's noise drawn independently. Under a correct interval each
    // cell misses with probability ≤ 0.05, so misses ~ Binomial(N, ≤0.05). We fail when misses ≥ m,
    // the smallest m with P(Binomial(N, 0.05) ≥ m) ≤ 1e-6: the false-alarm rate is ≤ 1e-6.
    const runs = 40;
    const answers: Answer[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await pattern(gw, fresh());
      expect(r.errors).toBeUndefined();
      expect(r.data!.crossBorderPattern.cached).toBe(false);
      answers.push(r.data!.crossBorderPattern);
    }
    const n = answers.reduce((s, a) => s + a.cells.length, 0);
    expect(n).toBe(runs * COUNTRIES.length * SECTOR_IDS.length);
    let m = Math.ceil(0.05 * n);
    while (binomialUpperTail(n, 0.05, m) > 1e-6) m++;
    const alpha = binomialUpperTail(n, 0.05, m);
    expect(alpha).toBeLessThanOrEqual(1e-6);
    let misses = 0;
    for (const a of answers) {
      for (const c of a.cells) {
        const t = truth(c.country!, c.sector!);
        if (t < c.low || t > c.high) misses++;
        // the interval is rawValue ± ci95 clipped at zero, and value is rawValue clipped at zero
        expect(c.high).toBe(Math.max(0, c.rawValue + a.accuracy.ci95));
        expect(c.low).toBe(Math.max(0, c.rawValue - a.accuracy.ci95));
        expect(c.value).toBe(Math.max(0, c.rawValue));
      }
    }
    expect(misses, `${misses} of ${n} cells outside their interval (threshold ${m}, false-alarm rate ${alpha.toExponential(2)})`).toBeLessThan(m);
    // the stated interval is not vacuous: it is about 1.96 σ for a discrete Gaussian
    const acc = answers[0]!.accuracy;
    expect(acc.mechanism).toBe('discrete-gaussian');
    expect(acc.confidence).toBe(0.95);
    expect(acc.ci95).toBeGreaterThan(1.5 * acc.stdDev);
    expect(acc.ci95).toBeLessThan(2.5 * acc.stdDev);
  }, 120_000);

  test('every domain key is released, zero cells included, in a data-independent order', async () => {
    const r = await pattern(gw, BY_COUNTRY_SECTOR);
    const a = r.data!.crossBorderPattern;
    const keys = a.cells.map((c) => `${c.country}/${c.sector}`);
    const expected = ['DE', 'FR', 'IT'].flatMap((c) => SECTOR_IDS.map((s) => `${c}/${s}`));
    expect(keys.sort()).toEqual(expected.sort());
    // (IT, nuclear) and (IT, energy) exist in no node's data, yet are released (noised zeros)
    expect(keys).toContain('IT/nuclear');
    expect(keys).toContain('IT/energy');
    expect(a.cells.every((c) => c.region === null && c.week === null)).toBe(true);
    // the same question over different data releases the same keys in the same order
    const other = await pattern(gw, { ...BY_COUNTRY_SECTOR, filter: { countries: ['IT', 'FR', 'DE'] } });
    expect(other.data!.crossBorderPattern.cells.map((c) => `${c.country}/${c.sector}`)).toEqual(r.data!.crossBorderPattern.cells.map((c) => `${c.country}/${c.sector}`));
    expect(other.data!.crossBorderPattern.queryId).toBe(a.queryId);
  });

  test('the noise varies between calls and answers are never the exact truth', async () => {
    const a = (await pattern(gw, fresh())).data!.crossBorderPattern;
    const b = (await pattern(gw, fresh())).data!.crossBorderPattern;
    const ra = a.cells.map((c) => c.rawValue);
    const rb = b.cells.map((c) => c.rawValue);
    expect(ra).not.toEqual(rb);
    // σ ≈ 12.6: P(noise = 0) < 0.04 per cell, so 63 exact cells would happen with probability < 1e-80
    expect(a.cells.some((c) => c.rawValue !== truth(c.country!, c.sector!))).toBe(true);
    const exact = a.cells.filter((c) => c.rawValue === truth(c.country!, c.sector!)).length;
    expect(exact).toBeLessThan(a.cells.length / 2);
  });

  test('answers carry accuracy, charge and complete coverage; nodes receive the query with its bounds', async () => {
    for (const n of nodes) n.requests.length = 0;
    const question = fresh();
    const a = (await pattern(gw, question)).data!.crossBorderPattern;
    expect(a.charge.rho).toBeGreaterThan(0);
    expect(a.charge.rho).toBeLessThanOrEqual(0.05 * (1 + 1e-9));
    expect(a.charge.delta).toBeCloseTo(1e-6, 12);
    expect(a.charge.epsilon).toBeGreaterThan(a.charge.rho);
    expect(a.coverage).toEqual({ asked: ['cert-fr', 'cert-de', 'isac-energy'], answered: ['cert-fr', 'cert-de', 'isac-energy'], missing: [], complete: true, excluded: [] });
    for (const n of nodes) {
      expect(n.requests).toHaveLength(1);
      expect(n.requests[0]).toMatchObject({ queryId: a.queryId, measure: 'INCIDENTS', groupBy: ['COUNTRY', 'SECTOR'], filter: question.filter, bounds: { maxPartitions: 4, maxPerPartition: 2 } });
    }
    const orgs = (await pattern(gw, fresh({ measure: 'ORGANISATIONS' }))).data!.crossBorderPattern;
    expect(nodes[0]!.requests.at(-1)!.bounds).toEqual({ maxPartitions: 4, maxPerPartition: 1 });
    expect(orgs.accuracy.stdDev).toBeLessThan(a.accuracy.stdDev); // smaller L∞, less noise for the same ρ
  });

  test('region and time groupings release only consistent public keys', async () => {
    const r = await pattern(gw, { groupBy: ['REGION', 'SUBREGION'], filter: { countries: ['FR', 'DE', 'JP'] } });
    expect(r.errors).toBeUndefined();
    const keys = r.data!.crossBorderPattern.cells.map((c) => `${c.region}/${c.subregion}`);
    expect(keys).toEqual(['Europe/Western Europe', 'Asia/Eastern Asia']);
    const w = await pattern(gw, { groupBy: ['MONTH', 'WEEK'], filter: { from: '2025-01-27', to: '2025-02-10' } });
    expect(w.errors).toBeUndefined();
    expect(w.data!.crossBorderPattern.cells.map((c) => `${c.month}/${c.week}`)).toEqual(['2025-01/2025-W05', '2025-02/2025-W05', '2025-02/2025-W06']);
  });

  test('malformed or too-large questions are refused before any node is asked', async () => {
    for (const n of nodes) n.requests.length = 0;
    const big = await pattern(gw, { groupBy: ['COUNTRY', 'SECTOR', 'MONTH'], filter: { from: '2024-01-01', to: '2025-01-01' } });
    expect(big.status).toBe(400);
    expect(big.errors![0]!.extensions!.code).toBe('INVALID_QUERY');
    expect(big.errors![0]!.message).toMatch(/narrow the filter/);
    const unknown = await pattern(gw, { groupBy: ['COUNTRY'], filter: { countries: ['XX'] } });
    expect(unknown.errors![0]!.extensions!.code).toBe('INVALID_QUERY');
    const noWindow = await pattern(gw, { groupBy: ['WEEK'] });
    expect(noWindow.errors![0]!.extensions!.code).toBe('INVALID_QUERY');
    const dup = await pattern(gw, { groupBy: ['SECTOR', 'SECTOR'] });
    expect(dup.errors![0]!.extensions!.code).toBe('INVALID_QUERY');
    expect(nodes.every((n) => n.requests.length === 0)).toBe(true);
  });

  test('a node returning out-of-bounds partials is rejected: STRICT fails, BEST_EFFORT drops it', async () => {
    const liar = nodes[1]!;
    // one group claims more than units × maxPerPartition
    liar.respondWith((_req, honest) => ({ ...honest, units: 1, groups: [{ key: ['DE', 'energy'], count: 57, sum: null }] }));
    try {
      const strict = await pattern(gw, fresh());
      expect(strict.data).toBeNull();
      expect(strict.status).toBe(502);
      expect(strict.errors![0]!.extensions).toMatchObject({ code: 'CONTRIBUTION_INVALID', missing: [{ node: 'cert-de', reason: 'INVALID_CONTRIBUTION' }] });
      expect(JSON.stringify(strict.errors)).not.toContain('57'); // the offending number is not echoed
      const best = await pattern(gw, fresh({ quorum: 'BEST_EFFORT' }));
      expect(best.errors).toBeUndefined();
      expect(best.data!.crossBorderPattern.coverage).toEqual({
        asked: ['cert-fr', 'cert-de', 'isac-energy'],
        answered: ['cert-fr', 'isac-energy'],
        missing: [{ node: 'cert-de', reason: 'INVALID_CONTRIBUTION', code: 'CONTRIBUTION_INVALID' }],
        complete: false,
        excluded: [],
      });
      // a key outside the query's public domain is invalid too
      liar.respondWith((_req, honest) => ({ ...honest, groups: [...honest.groups, { key: ['ES', 'energy'], count: 1, sum: null }] }));
      const outside = await pattern(gw, fresh({ quorum: 'BEST_EFFORT' }));
      expect(outside.data!.crossBorderPattern.coverage.missing).toEqual([{ node: 'cert-de', reason: 'INVALID_CONTRIBUTION', code: 'CONTRIBUTION_INVALID' }]);
    } finally {
      liar.respondWith(null);
    }
  });

  test('_entities fetches against the analyst subgraph are refused and never reach a node', async () => {
    for (const n of nodes) n.requests.length = 0;
    const res = await gw.federation.fanout.process({
      kind: 'incoming operation' as never,
      request: {
        query: 'query($representations: [_Any!]!) { _entities(representations: $representations) { __typename } }',
        variables: { representations: [{ __typename: 'PatternAnswer' }] },
      },
      context: {},
      incomingRequestContext: {} as never,
    });
    expect(res.errors?.[0]?.extensions?.code).toBe('ENTITY_FETCH_REFUSED');
    expect(res.data).toBeUndefined();
    // hidden behind a fragment, without the variable name
    const hidden = await gw.federation.fanout.process({
      kind: 'incoming operation' as never,
      request: { query: 'query Q { ...F } fragment F on Query { _entities(representations: []) { __typename } }' },
      context: {},
      incomingRequestContext: {} as never,
    });
    expect(hidden.errors?.[0]?.extensions?.code).toBe('ENTITY_FETCH_REFUSED');
    expect(nodes.every((n) => n.requests.length === 0)).toBe(true);
  });

  test('health-check and schema-load fetches never reach a node', async () => {
    for (const n of nodes) n.requests.length = 0;
    const query = '{ crossBorderPattern(groupBy: [SECTOR]) { cells { value } } }';
    for (const kind of ['health check', 'loading schema']) {
      const res = await gw.federation.fanout.process({ kind: kind as never, request: { query }, context: {} });
      expect(res.errors?.[0]?.extensions?.code).toBe('INTERNAL');
    }
    const hc = await gw.federation.fanout.process({ kind: 'health check' as never, request: { query: 'query __ApolloServiceHealthCheck__ { __typename }' }, context: {} });
    expect(hc.errors).toBeUndefined();
    expect(nodes.every((n) => n.requests.length === 0)).toBe(true);
  });

  test('the supergraph exposes only aggregate answers: no row-level field is reachable', async () => {
    const r = await gql<IntrospectionQuery>(gw, getIntrospectionQuery());
    const schema = buildClientSchema(r.data!);
    // the only mutation is the staff-only policy reload; it returns no data of any node
    expect(Object.keys(schema.getMutationType()!.getFields())).toEqual(['reloadPolicies']);
    expect(schema.getSubscriptionType()).toBeFalsy();
    const reachable = new Map<string, GraphQLNamedType>();
    const visit = (t: GraphQLNamedType) => {
      if (reachable.has(t.name) || t.name.startsWith('__')) return;
      reachable.set(t.name, t);
      if (isObjectType(t) || isInputObjectType(t)) {
        for (const f of Object.values(t.getFields())) {
          visit(getNamedType(f.type));
          if ('args' in f) for (const a of f.args) visit(getNamedType(a.type));
        }
      }
    };
    visit(schema.getQueryType()!);
    visit(schema.getMutationType()!);
    const objects = [...reachable.values()].filter(isObjectType).map((t) => t.name).sort();
    expect(objects).toEqual(
      [
        'Accuracy',
        'BudgetSplit',
        'Coverage',
        'DateWindow',
        'Estimate',
        'FederationBudget',
        'FederationHealth',
        'FederationNode',
        'ImpactAnswer',
        'ImpactCell',
        'Me',
        'MissingNode',
        'Mutation',
        'NodeBudget',
        'PatternAnswer',
        'PatternCell',
        'PolicyExclusion',
        'PolicyReload',
        'PrevalenceAnswer',
        'PrivacyAmount',
        'PrivacyCharge',
        'PrivacyLoss',
        'Query',
        'Ratio',
        'Selection',
        'TopKAnswer',
        'TopKEntry',
        'TrendAnswer',
        'TrendBucket',
        'VintageAnswer',
        'VintageCell',
        // public reference entities (catalog data only)
        'Country',
        'Sector',
        'Vulnerability',
        'VulnerabilityPage',
      ].sort(),
    );
    expect(Object.keys(schema.getQueryType()!.getFields()).sort()).toEqual(
      [
        'crossBorderPattern',
        'trend',
        'topK',
        'exploitVintages',
        'sectorImpact',
        'indicatorPrevalence',
        'federationHealth',
        'federationNodes',
        'me',
        'myBudget',
        'myFederationBudget',
        'vulnerability',
        'vulnerabilities',
        'country',
        'countries',
        'sector',
        'sectors',
        'kevCatalogVersion',
      ].sort(),
    );
    // the only numbers a pattern cell carries are noised ones; its strings are public group keys
    const cell = schema.getType('PatternCell');
    if (!isObjectType(cell)) throw new Error('PatternCell missing');
    const fields = cell.getFields();
    expect(Object.keys(fields).filter((f) => getNamedType(fields[f]!.type).name === 'Int').sort()).toEqual(['high', 'low', 'rawValue', 'value']);
    expect(Object.keys(fields).filter((f) => getNamedType(fields[f]!.type).name === 'Float').sort()).toEqual(['stdDev']);
    expect(Object.keys(fields).filter((f) => getNamedType(fields[f]!.type).name === 'String').sort()).toEqual(
      ['actor', 'country', 'month', 'region', 'sector', 'subregion', 'tlp', 'tool', 'week'].sort(),
    );
    // nothing of the contribution protocol leaks into the analyst surface
    for (const name of ['Contribution', 'ContributionGroup', 'ContributionRequest', '_Entity', '_Service']) expect(schema.getType(name)).toBeUndefined();
  });
});

/** The circuit cooldown of the gateways below: short, so a test can wait it out. */
const COOLDOWN_MS = 300;

describe('three honest nodes over HTTP', () => {
  let nodes: StubNode[];
  let gw: Gateway;
  beforeAll(async () => {
    nodes = await startHonestNodes();
    gw = await createGateway({ port: 0, nodes: nodes.map((n) => asConfig(n)), logger: quietLogger, refreshIntervalMs: 0, nodeTimeoutMs: 400, circuitCooldownMs: COOLDOWN_MS, access: access() });
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all(nodes.map((n) => n.close()));
  });

  test('every node is admitted after its SDL check', async () => {
    const r = await gql(gw.url, '{ federationNodes { id kind status sdlHash lastSeen } federationHealth { status admitted refused contractSdlHash } }');
    expect(r.errors).toBeUndefined();
    const list = r.data!.federationNodes as Array<{ id: string; status: string; sdlHash: string; lastSeen: string | null }>;
    expect(list.map((n) => n.id)).toEqual(['cert-fr', 'cert-de', 'isac-energy']);
    expect(list.every((n) => n.status === 'ACTIVE' && n.sdlHash === r.data!.federationHealth.contractSdlHash && n.lastSeen)).toBe(true);
    expect(r.data!.federationHealth).toMatchObject({ status: 'OK', admitted: 3, refused: 0 });
  });

  test('a hung node times out once, then its circuit is open: STRICT fails at once with nothing charged, BEST_EFFORT answers without it, and after the cooldown it is asked again', async () => {
    const slow = nodes[2]!;
    slow.behave({ delayMs: 3_000 });
    try {
      const t0 = performance.now();
      const best = await pattern(gw, fresh({ quorum: 'BEST_EFFORT' }));
      expect(performance.now() - t0).toBeLessThan(2_500); // deadline 400 ms, not the node's 3 s
      expect(best.data!.crossBorderPattern.coverage.missing).toEqual([{ node: 'isac-energy', reason: 'TIMEOUT', code: null }]);
      expect(best.data!.crossBorderPattern.coverage.answered).toEqual(['cert-fr', 'cert-de']);

      // the timeout opened the node's circuit: a strict question is refused before anything is reserved
      const reserved = (await gw.ledger.reservations()).length;
      const sent = nodes.map((n) => n.requests.length);
      const t1 = performance.now();
      const strict = await pattern(gw, fresh());
      const elapsed = performance.now() - t1;
      expect(strict.status).toBe(503);
      expect(strict.data).toBeNull();
      expect(strict.errors![0]!.extensions).toMatchObject({ code: 'NODE_UNAVAILABLE', missing: [{ node: 'isac-energy', reason: 'UNREACHABLE' }] });
      expect(elapsed).toBeLessThan(100);
      expect((await gw.ledger.reservations()).length).toBe(reserved);
      expect(nodes.map((n) => n.requests.length)).toEqual(sent);
      // a best-effort question asks the others only, and charges only them
      const without = await pattern(gw, fresh({ quorum: 'BEST_EFFORT' }));
      expect(without.data!.crossBorderPattern.coverage.missing).toEqual([{ node: 'isac-energy', reason: 'UNREACHABLE', code: null }]);
      expect(nodes.map((n) => n.requests.length)).toEqual([sent[0]! + 1, sent[1]! + 1, sent[2]!]);
      expect((await gw.ledger.reservations()).at(-1)!.nodes).toEqual(["cert-de", "cert-fr"]);
    } finally {
      slow.behave({ delayMs: 0 });
    }
    // once the cooldown has passed, an uncharged probe finds it answering and it is asked again
    await new Promise((r) => setTimeout(r, COOLDOWN_MS + 50));
    const again = await pattern(gw, fresh());
    expect(again.errors).toBeUndefined();
    expect(again.data!.crossBorderPattern.coverage.complete).toBe(true);
  });

  test('the HTTP front: request errors pass through masking, health endpoint, bad bodies', async () => {
    const invalid = await gql(gw.url, '{ crossBorderPattern(groupBy: [SECTOR]) { cells { organisation } } }');
    expect(invalid.status).toBe(400);
    expect(invalid.errors![0]!.extensions).toEqual({ code: 'INVALID_QUERY', graphqlCode: 'GRAPHQL_VALIDATION_FAILED' });
    const health = await fetch(new URL('/healthz', gw.url));
    expect(health.status).toBe(200);
    const bad = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{"query": ' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe('REQUEST_INVALID');
    const other = await fetch(new URL('/admin', gw.url));
    expect(other.status).toBe(404);
    expect(((await other.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe('NOT_FOUND');
  });
});

describe('SDL drift', () => {
  let nodes: StubNode[];
  let drifted: StubNode;
  let gw: Gateway;
  beforeAll(async () => {
    nodes = await startHonestNodes();
    // one extra row-level field: exactly the kind of drift that must never be federated
    const sdl = CONTRIBUTION_SDL.replace('units: Int!', 'units: Int!\n  organisations: [String!]');
    drifted = await startStubNode({ id: 'rogue', planted: [{ country: 'FR', sector: 'energy', count: 1000 }], sdl });
    gw = await createGateway({ port: 0, nodes: [...nodes, drifted].map((n) => asConfig(n)), logger: quietLogger, refreshIntervalMs: 0, access: access() });
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([...nodes, drifted].map((n) => n.close()));
  });

  test('a node whose SDL drifts is refused at registration and never asked', async () => {
    expect(drifted.serviceChecks).toBe(1);
    const rogue = gw.registry.get('rogue')!;
    expect(rogue.status).toBe('REFUSED_SDL_DRIFT');
    expect(rogue.sdlHash).not.toBe(gw.registry.get('cert-fr')!.sdlHash);
    const h = await gql(gw.url, '{ federationHealth { status admitted refused } federationNodes { id status } }');
    expect(h.data!.federationHealth).toEqual({ status: 'DEGRADED', admitted: 3, refused: 1 });
    const a = await pattern(gw, BY_COUNTRY_SECTOR);
    expect(a.errors).toBeUndefined();
    expect(a.data!.crossBorderPattern.coverage.asked).toEqual(['cert-fr', 'cert-de', 'isac-energy']);
    expect(a.data!.crossBorderPattern.coverage.complete).toBe(true);
    await gw.refresh();
    expect(gw.registry.get('rogue')!.status).toBe('REFUSED_SDL_DRIFT');
    expect(drifted.requests).toHaveLength(0);
  });
});

describe('a member node that is down', () => {
  let nodes: StubNode[];
  let downPort: number;
  let gw: Gateway;
  let revived: StubNode | undefined;
  beforeAll(async () => {
    nodes = (await startHonestNodes()).slice(0, 2);
    downPort = await unusedPort();
    const down: NodeConfig = { id: 'cert-down', name: 'CERT-DOWN', kind: 'national-cert', url: `http://127.0.0.1:${downPort}/graphql` };
    gw = await createGateway({ port: 0, nodes: [...nodes.map((n) => asConfig(n)), down], logger: quietLogger, refreshIntervalMs: 0, nodeTimeoutMs: 400, circuitCooldownMs: 0, access: access() });
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([...nodes, ...(revived ? [revived] : [])].map((n) => n.close()));
  });

  test('is UNREACHABLE yet still a member: STRICT fails, BEST_EFFORT reports it missing', async () => {
    expect(gw.registry.get('cert-down')!.status).toBe('UNREACHABLE');
    const strict = await pattern(gw, fresh());
    expect(strict.status).toBe(503);
    expect(strict.data).toBeNull();
    expect(strict.errors).toHaveLength(1);
    expect(strict.errors![0]!.extensions).toMatchObject({ code: 'NODE_UNAVAILABLE', missing: [{ node: 'cert-down', reason: 'UNREACHABLE' }] });
    expect(strict.errors![0]!.extensions).not.toHaveProperty('serviceName');
    const best = await pattern(gw, fresh({ quorum: 'BEST_EFFORT' }));
    expect(best.errors).toBeUndefined();
    expect(best.data!.crossBorderPattern.coverage).toEqual({
      asked: ['cert-fr', 'cert-de', 'cert-down'],
      answered: ['cert-fr', 'cert-de'],
      missing: [{ node: 'cert-down', reason: 'UNREACHABLE', code: null }],
      complete: false,
      excluded: [],
    });
  });

  test('is checked and asked again once it is back', async () => {
    revived = await startStubNode({ id: 'cert-down', planted: [{ country: 'IT', sector: 'water', count: 3, date: DAY }], port: downPort });
    const strict = await pattern(gw, fresh());
    expect(strict.errors).toBeUndefined();
    expect(strict.data!.crossBorderPattern.coverage.complete).toBe(true);
    expect(revived.serviceChecks).toBe(1); // verified inline before being asked
    expect(revived.requests).toHaveLength(1);
    expect(gw.registry.get('cert-down')!.status).toBe('ACTIVE');
  });

  test('with no node answering, BEST_EFFORT fails with NO_NODES', async () => {
    await Promise.all([...nodes, revived!].map((n) => n.close()));
    const best = await pattern(gw, fresh({ quorum: 'BEST_EFFORT' }));
    expect(best.status).toBe(503);
    expect(best.errors![0]!.extensions!.code).toBe('NO_NODES');
    nodes = [];
    revived = undefined;
  });
});

describe('error masking', () => {
  test('an unexpected failure reaches the client as INTERNAL without its message', async () => {
    const gw = await buildGateway({
      nodes: [],
      logger: quietLogger,
      refreshIntervalMs: 0,
      access: access(),
      scatter: failingScatter('secret 4711 at /srv/private'),
    });
    try {
      const r = await pattern(gw, BY_COUNTRY_SECTOR);
      expect(r.data).toBeNull();
      expect(r.errors).toHaveLength(1);
      expect(r.errors![0]!.extensions).toEqual({ code: 'INTERNAL' });
      const text = JSON.stringify(r);
      expect(text).not.toContain('4711');
      expect(text).not.toContain('stack');
    } finally {
      await gw.close();
    }
  });

  test('a federation without members answers NO_NODES', async () => {
    const gw = await buildGateway({ nodes: [], logger: quietLogger, refreshIntervalMs: 0, access: access() });
    try {
      const r = await pattern(gw, BY_COUNTRY_SECTOR);
      expect(r.errors![0]!.extensions!.code).toBe('NO_NODES');
      expect(r.status).toBe(503);
    } finally {
      await gw.close();
    }
  });
});
