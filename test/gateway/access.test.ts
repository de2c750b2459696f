/**
 * Who may ask what: member authentication (JWT) over real HTTP on 127.0.0.1; Cedar access policies
 * per (member, node), durable budgets, the answer cache and signed grants in-process (buildGateway,
 * Apollo's executeOperation, stub nodes behind the stub scatter: no socket adds anything there) —
 * each gateway with a SQLite ledger in a temporary folder. Every refusal is checked for its code, its HTTP status, that nothing was
 * charged or sent to a node, and that its body carries no private number.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GraphQLError } from 'graphql';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, generateKeyPair, exportJWK, jwtVerify, type JWK } from 'jose';
import { readFileSync } from 'node:fs';
import { contributionFingerprint, GRANT_TYPE, MAX_GRANT_TTL_SECONDS, type GrantClaims } from '../../schema/contract/index.js';
import { buildGateway, createGateway, type BuiltGateway, type CreateGatewayOptions, type Gateway } from '../../gateway/app.js';
import { DEFAULT_CONFIG, REQUEST_RHO_QUESTIONS } from '../../gateway/config.js';
import { chargeUnits, fromUnits } from '../../gateway/ledger/units.js';
import { planAggregate } from '../../gateway/aggregate/plan.js';
import { compilePolicies } from '../../gateway/policy/engine.js';
import { DEMO_MEMBERS, DEMO_POLICIES } from '../../gateway/policy/defaults.js';
import { makeAccessFixture, TEST_MEMBERS, type AccessFixture } from '../helpers/access.js';
import { createStubNode, startStubNode, stubScatter, type InProcessStubNode, type PlantedCell, type StubNode } from '../helpers/stub-node.js';
import { gql, PATTERN_QUERY, quietLogger, type Answer, type GqlResult } from './helpers.js';

const DAY = '2024-06-15';
const PLANTED: Record<string, PlantedCell[]> = {
  'cert-a': [
    { country: 'FR', sector: 'energy', count: 41, date: DAY },
    { country: 'FR', sector: 'defense-industrial-base', count: 17, date: DAY },
  ],
  'cert-b': [{ country: 'DE', sector: 'energy', count: 33, date: DAY }],
  'isac-c': [{ country: 'DE', sector: 'energy', count: 9, date: DAY }],
};
const NODE_IDS = Object.keys(PLANTED);
const KINDS: Record<string, { kind: string; country?: string }> = {
  'cert-a': { kind: 'national-cert', country: 'FR' },
  'cert-b': { kind: 'national-cert', country: 'DE' },
  'isac-c': { kind: 'sector-isac' },
};

const MEMBERS = [...TEST_MEMBERS, { id: 'eu-analyst-2', name: 'Second EU analyst', region: 'Europe', groups: ['eu'], tlpCeiling: 'AMBER' as const, roles: [] }];

const POLICIES = `
@id("members-may-aggregate")
permit (principal is Accord::Member, action == Accord::Action::"aggregate", resource is Accord::Node);

@id("cert-b-eu-only")
forbid (principal, action, resource == Accord::Node::"cert-b")
unless { principal.groups.contains("eu") };

@id("sector-breakdown-own-region")
forbid (principal, action, resource)
when { context.groupBy.contains("SECTOR") && context.regionsTouched != [principal.region] };

@id("no-defence-for-partners")
forbid (principal, action, resource)
when { principal.groups.contains("partner") && context.sectorsTouched.contains("defense-industrial-base") };

@id("organisations-eu-only")
forbid (principal, action, resource)
when { context.measure == "ORGANISATIONS" && !principal.groups.contains("eu") };

@id("max-rho-per-query")
forbid (principal, action, resource)
when { context.rhoMicro > 60000 };
`;

/** The charge of one query at the default ρ, as the ledger records it (rounded up to pico-ρ). */
const CHARGE = fromUnits(chargeUnits(planAggregate({ groupBy: ['COUNTRY'] }, { privacy: DEFAULT_CONFIG.privacy, defaultQuorum: 'STRICT', maxCells: 5000 }).zcdp)).rho;

let serial = 0;
/** A question over FR and DE energy incidents never asked before (the window end moves). */
function fresh(extra: Record<string, unknown> = {}) {
  const to = new Date(Date.UTC(2025, 0, 1 + ++serial)).toISOString().slice(0, 10);
  return { groupBy: ['COUNTRY'], filter: { countries: ['DE', 'FR'], sectors: ['energy'], from: '2024-01-01', to }, ...extra };
}

async function startNodes(): Promise<StubNode[]> {
  return Promise.all(NODE_IDS.map((id) => startStubNode({ id, planted: PLANTED[id] })));
}

function nodeConfigs(nodes: ReadonlyArray<{ id: string; url?: string }>) {
  return nodes.map((n) => ({ id: n.id, name: n.id.toUpperCase(), url: n.url ?? `http://${n.id}.invalid/graphql`, ...KINDS[n.id]! }));
}

/** The same nodes in-process: admission and answers need no socket. */
function inProcessNodes(): InProcessStubNode[] {
  return NODE_IDS.map((id) => createStubNode({ id, planted: PLANTED[id]! }));
}

/** A gateway without a socket over in-process nodes; the stub scatter delivers its real signed grants. */
function buildOver(nodes: InProcessStubNode[], options: CreateGatewayOptions): Promise<BuiltGateway> {
  return buildGateway({ nodes: nodeConfigs(nodes), logger: quietLogger, refreshIntervalMs: 0, ...options, scatter: stubScatter(nodes, { timeoutMs: options.nodeTimeoutMs ?? 10_000 }) });
}

const requestsOf = (nodes: ReadonlyArray<{ requests: unknown[] }>) => nodes.map((n) => n.requests.length);

/** Ledger state (every account within the horizon and the reservations), for before/after comparisons. */
async function ledgerState(gw: BuiltGateway) {
  return { accounts: await gw.ledger.accountsOf(), reservations: (await gw.ledger.reservations()).length };
}

/** A refusal: the code and status, and no number from the data anywhere in the body. */
function expectRefusal(r: GqlResult<any>, code: string, status: number): Record<string, unknown> {
  expect(r.status, r.text).toBe(status);
  expect(r.errors, r.text).toHaveLength(1);
  const e = r.errors![0]!;
  expect(e.extensions!.code).toBe(code);
  expect(r.data ?? null).toBeNull();
  expect(e.message).not.toMatch(/\d/);
  expect(r.text).not.toMatch(/"cells"|"units"|"count"|rawValue/);
  for (const c of Object.values(PLANTED).flat()) expect(r.text).not.toContain(`:${c.count}`);
  return e.extensions!;
}

describe('authentication', () => {
  let fx: AccessFixture;
  let nodes: StubNode[];
  let gw: Gateway;
  beforeAll(async () => {
    fx = await makeAccessFixture({ members: MEMBERS, policies: POLICIES });
    nodes = await startNodes();
    gw = await createGateway({ port: 0, nodes: nodeConfigs(nodes), logger: quietLogger, refreshIntervalMs: 0, access: fx.access() });
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all((nodes ?? []).map((n) => n.close()));
    fx?.remove();
  });

  test('missing, malformed, expired, foreign, wrong-audience, wrong-issuer, exp-less and unknown-member tokens get 401 and reach nothing', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const foreign = { ...(await exportJWK(privateKey)), kid: fx.issuerKey.kid } as JWK; // same kid, other key
    const cases: Array<[string, string | undefined]> = [
      ['missing', undefined],
      ['expired beyond the clock tolerance', await fx.token('eu-analyst', { expiresIn: -120 })],
      ['signed by another key', await fx.token('eu-analyst', { key: foreign })],
      ['wrong audience', await fx.token('eu-analyst', { audience: 'someone-else' })],
      ['wrong issuer', await fx.token('eu-analyst', { issuer: 'https://idp.invalid' })],
      ['without exp', await fx.token('eu-analyst', { noExp: true })],
      ['unknown member', await fx.token('not-a-member')],
      ['garbage', 'not.a.jwt'],
    ];
    const before = await ledgerState(gw);
    for (const [what, token] of cases) {
      const r = await gql(gw.url, PATTERN_QUERY, fresh(), token);
      const ext = expectRefusal(r, 'UNAUTHENTICATED', 401);
      expect(ext, what).toEqual({ code: 'UNAUTHENTICATED' });
    }
    // "Basic" credentials and a bearer token in the wrong header are refused too
    const basic = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Basic ZXU6eA==' }, body: JSON.stringify({ query: '{ me { id } }' }) });
    expect(basic.status).toBe(401);
    expect(basic.headers.get('www-authenticate')).toMatch(/^Bearer/);
    // nothing was planned, charged or sent
    expect(requestsOf(nodes)).toEqual([0, 0, 0]);
    expect(await ledgerState(gw)).toEqual(before);
    // platform fields need a token too
    expect((await gql(gw.url, '{ federationNodes { id } }')).status).toBe(401);
  });

  test('keys can come from a JWKS URL (production identity provider)', async () => {
    const http = await import('node:http');
    let fetches = 0;
    const idp = http.createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(readFileSync(fx.jwksFile));
    });
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
    const jwksUrl = `http://127.0.0.1:${(idp.address() as import('node:net').AddressInfo).port}/jwks.json`;
    const gw2 = await createGateway({ port: 0, nodes: nodeConfigs(nodes), logger: quietLogger, refreshIntervalMs: 0, access: fx.access({ jwksFile: undefined, jwksUrl, db: `${fx.dir}/url.sqlite` }) });
    try {
      const ok = await gql(gw2.url, '{ me { id } }', undefined, await fx.token('eu-analyst'));
      expect(ok.status, ok.text).toBe(200);
      const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      const stranger = await fx.token('eu-analyst', { key: { ...(await exportJWK(privateKey)), kid: 'unknown-kid' } as JWK });
      expect((await gql(gw2.url, '{ me { id } }', undefined, stranger)).status).toBe(401);
      expect(fetches).toBeGreaterThanOrEqual(1);
    } finally {
      await gw2.close();
      await new Promise<void>((r) => idp.close(() => r()));
    }
  });

  test('a valid token is accepted, within the clock tolerance too; health and grant keys stay open', async () => {
    const ok = await gql(gw.url, '{ me { id region groups tlpCeiling staff } }', undefined, await fx.token('eu-analyst'));
    expect(ok.status).toBe(200);
    expect(ok.data!.me).toEqual({ id: 'eu-analyst', region: 'Europe', groups: ['eu', 'nato'], tlpCeiling: 'AMBER', staff: false });
    const skewed = await gql(gw.url, '{ me { id } }', undefined, await fx.token('eu-analyst', { expiresIn: -10 }));
    expect(skewed.status).toBe(200);
    const staff = await gql(gw.url, '{ me { staff } }', undefined, await fx.token('platform-staff', { staff: true }));
    expect(staff.data!.me.staff).toBe(true);
    // a token valid for longer than the gateway accepts (a day by default) is refused
    const century = await gql(gw.url, '{ me { id } }', undefined, await fx.token('eu-analyst', { expiresIn: 100 * 365 * 86_400 }));
    expect(century.status).toBe(401);
    expect(century.errors![0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED', maxLifetimeSec: 86_400 });
    // roles come from the member registry: a staff claim in the token of a member without the role grants nothing
    const claimed = await gql(gw.url, '{ me { staff } }', undefined, await fx.token('eu-analyst', { staff: true }));
    expect(claimed.data!.me.staff).toBe(false);
    expect((await fetch(new URL('/healthz', gw.url))).status).toBe(200);
    const keys = await fetch(new URL('/.well-known/accord-grant-keys.json', gw.url));
    expect(keys.status).toBe(200);
    const jwks = (await keys.json()) as { keys: JWK[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', kid: gw.signer.kid });
    expect(jwks.keys[0]!.d).toBeUndefined();
    expect(JSON.parse(readFileSync(fx.signingJwksOut, 'utf8'))).toEqual(jwks);
  });
});

describe('access policy', () => {
  let fx: AccessFixture;
  let nodes: InProcessStubNode[];
  let gw: BuiltGateway;
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    fx = await makeAccessFixture({ members: MEMBERS, policies: POLICIES });
    nodes = inProcessNodes();
    gw = await buildOver(nodes, { access: fx.access() });
    for (const m of MEMBERS) tokens[m.id] = await fx.token(m.id, { staff: m.id === 'platform-staff' });
  });
  afterAll(async () => {
    await gw?.close();
    fx?.remove();
  });

  test('a query the policy forbids on every node is refused with the rule, before any budget is reserved', async () => {
    const before = await ledgerState(gw);
    const sent = requestsOf(nodes);
    // the partner may not see anything touching the defence sector
    const defence = await gql(gw, PATTERN_QUERY, fresh({ filter: { countries: ['FR'], sectors: ['defense-industrial-base'] } }), tokens['asia-analyst']);
    const ext = expectRefusal(defence, 'POLICY_DENIED', 403);
    expect(ext.rule).toBe('no-defence-for-partners');
    expect(ext.rules).toEqual(['cert-b-eu-only', 'no-defence-for-partners']);
    expect(ext.denials).toEqual([
      { node: 'cert-a', reason: 'FORBIDDEN', rules: ['no-defence-for-partners'] },
      { node: 'cert-b', reason: 'FORBIDDEN', rules: ['cert-b-eu-only', 'no-defence-for-partners'] },
      { node: 'isac-c', reason: 'FORBIDDEN', rules: ['no-defence-for-partners'] },
    ]);
    // a query with no sector filter touches every sector, defence included
    expectRefusal(await gql(gw, PATTERN_QUERY, { groupBy: ['COUNTRY'] }, tokens['asia-analyst']), 'POLICY_DENIED', 403);
    // dimensions: grouping by sector outside one's own region
    const sector = expectRefusal(await gql(gw, PATTERN_QUERY, fresh({ groupBy: ['SECTOR'] }), tokens['asia-analyst']), 'POLICY_DENIED', 403);
    expect(sector.rules).toContain('sector-breakdown-own-region');
    // measures
    const orgs = expectRefusal(await gql(gw, PATTERN_QUERY, fresh({ measure: 'ORGANISATIONS' }), tokens['asia-analyst']), 'POLICY_DENIED', 403);
    expect(orgs.rules).toContain('organisations-eu-only');
    expect(requestsOf(nodes)).toEqual(sent);
    expect(await ledgerState(gw)).toEqual(before);
  });

  test('the same questions are allowed to a member the rules do not forbid', async () => {
    const r = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, fresh({ groupBy: ['SECTOR'], filter: { countries: ['FR'], sectors: ['defense-industrial-base', 'energy'] } }), tokens['eu-analyst']);
    expect(r.errors, r.text).toBeUndefined();
    expect(r.data!.crossBorderPattern.coverage.asked).toEqual(NODE_IDS);
    expect(r.data!.crossBorderPattern.coverage.excluded).toEqual([]);
  });

  test('nodes a member may not aggregate are left out and listed; only the nodes asked are charged', async () => {
    const sent = requestsOf(nodes);
    const r = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, fresh(), tokens['asia-analyst']);
    expect(r.errors, r.text).toBeUndefined();
    const a = r.data!.crossBorderPattern;
    expect(a.coverage.asked).toEqual(['cert-a', 'isac-c']);
    expect(a.coverage.answered).toEqual(['cert-a', 'isac-c']);
    expect(a.coverage.excluded).toEqual([{ node: 'cert-b', reason: 'FORBIDDEN', rules: ['cert-b-eu-only'] }]);
    expect(a.coverage.complete).toBe(true);
    expect(requestsOf(nodes)).toEqual([sent[0]! + 1, sent[1]!, sent[2]! + 1]);
    const accounts = new Map((await gw.ledger.accountsOf()).map((x) => [x.id, x.spent.rho]));
    expect(accounts.get(`MEMBER|cert-a|asia-analyst`)).toBeCloseTo(CHARGE * 1e12, 0);
    expect(accounts.get(`MEMBER|cert-b|asia-analyst`)).toBeUndefined();
    expect(a.remainingBudget.map((b) => b.node)).toEqual(['cert-a', 'isac-c']);
  });

  test('a query naming its nodes needs every one of them allowed', async () => {
    const before = await ledgerState(gw);
    const named = await gql(gw, PATTERN_QUERY, fresh({ nodes: ['cert-a', 'cert-b'] }), tokens['asia-analyst']);
    const ext = expectRefusal(named, 'POLICY_DENIED', 403);
    expect(ext.rule).toBe('cert-b-eu-only');
    expect(ext.denials).toEqual([{ node: 'cert-b', reason: 'FORBIDDEN', rules: ['cert-b-eu-only'] }]);
    expect(await ledgerState(gw)).toEqual(before);
    const ok = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, fresh({ nodes: ['isac-c', 'cert-a', 'cert-a'] }), tokens['asia-analyst']);
    expect(ok.errors, ok.text).toBeUndefined();
    expect(ok.data!.crossBorderPattern.coverage.asked).toEqual(['cert-a', 'isac-c']);
    const unknown = await gql(gw, PATTERN_QUERY, fresh({ nodes: ['cert-zz'] }), tokens['eu-analyst']);
    expect(unknown.status).toBe(400);
    expect(unknown.errors![0]!.extensions!.code).toBe('NODE_UNKNOWN');
  });

  test('a member whose policy allows no node at all (no permit matches) is told so', async () => {
    const onlyEu = `@id("eu-only") permit (principal, action, resource) when { principal.groups.contains("eu") };`;
    const gw2 = await buildOver(nodes, { access: fx.access({ policies: { text: onlyEu }, db: `${fx.dir}/no-permit.sqlite` }) });
    try {
      const r = await gql(gw2, PATTERN_QUERY, fresh(), tokens['asia-analyst']);
      const ext = expectRefusal(r, 'POLICY_DENIED', 403);
      expect(ext.rule).toBeNull();
      expect(ext.denials).toEqual(NODE_IDS.map((node) => ({ node, reason: 'NO_PERMIT', rules: [] })));
      expect(r.errors![0]!.message).toMatch(/no rule permits it/);
    } finally {
      await gw2.close();
    }
  });

  test('the largest charge per query is a rule: a deployment with a larger ρ is refused', async () => {
    const gw2 = await buildOver(nodes, { privacy: { rho: 0.1 }, access: fx.access({ db: `${fx.dir}/rho.sqlite` }) });
    try {
      const ext = expectRefusal(await gql(gw2, PATTERN_QUERY, fresh(), tokens['eu-analyst']), 'POLICY_DENIED', 403);
      expect(ext.rule).toBe('max-rho-per-query');
    } finally {
      await gw2.close();
    }
  });

  test("a member's TLP ceiling restricts what nodes count, and the question's fingerprint", async () => {
    const q = fresh();
    const green = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, q, tokens['green-analyst']);
    expect(green.errors, green.text).toBeUndefined();
    const last = nodes[0]!.requests.at(-1)!;
    expect(last.filter!.tlp).toEqual(['CLEAR', 'GREEN']);
    const amber = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, q, tokens['eu-analyst']);
    expect(nodes[0]!.requests.at(-1)!.filter!.tlp).toBeUndefined();
    expect(amber.data!.crossBorderPattern.queryId).not.toBe(green.data!.crossBorderPattern.queryId);
    expect(amber.data!.crossBorderPattern.cached).toBe(false);
  });

  test('reloadPolicies: staff only; an invalid set is refused and the old one stays; a valid one applies at once', async () => {
    const q = fresh();
    const denied = () => gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, q, tokens['asia-analyst']);
    expect((await denied()).data!.crossBorderPattern.coverage.excluded.map((e) => e.node)).toEqual(['cert-b']);
    const reload = (token: string) => gql(gw, 'mutation { reloadPolicies { ok version policies members errors } }', undefined, token);

    const notStaff = expectRefusal(await reload(tokens['eu-analyst']!), 'POLICY_DENIED', 403);
    expect(notStaff.rule).toBe('platform-staff-only');
    // a staff token for a member without the staff role claim is not staff either
    expectRefusal(await reload(await fx.token('platform-staff')), 'POLICY_DENIED', 403);

    fx.writePolicies(POLICIES + '\n@id("typo") forbid (principal, action, resource) when { context.groupBy.contains("SECTR") };\n');
    const bad = await reload(tokens['platform-staff']!);
    expect(bad.status).toBe(200);
    expect(bad.data!.reloadPolicies.ok).toBe(false);
    expect(bad.data!.reloadPolicies.version).toBe(1);
    expect(bad.data!.reloadPolicies.errors.join(' ')).toMatch(/"SECTR" is not a dimension/);
    expect(bad.data!.reloadPolicies.policies).not.toContain('typo');
    expect((await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, fresh(), tokens['asia-analyst'])).data!.crossBorderPattern.coverage.excluded).toHaveLength(1);

    fx.writePolicies(POLICIES.replace(/@id\("cert-b-eu-only"\)[^;]*;/, ''));
    const good = await reload(tokens['platform-staff']!);
    expect(good.data!.reloadPolicies).toMatchObject({ ok: true, version: 2, errors: [] });
    expect(good.data!.reloadPolicies.policies).not.toContain('cert-b-eu-only');
    const now = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, fresh(), tokens['asia-analyst']);
    expect(now.data!.crossBorderPattern.coverage.asked).toEqual(NODE_IDS);
    expect(now.data!.crossBorderPattern.coverage.excluded).toEqual([]);
    fx.writePolicies(POLICIES);
    expect(gw.reloadPolicies().ok).toBe(true);
  });
});

describe('policies are validated when loaded', () => {
  const known = { memberIds: MEMBERS.map((m) => m.id), nodeIds: NODE_IDS };
  const refused = (text: string): string => {
    try {
      compilePolicies(text, known);
    } catch (e) {
      expect((e as { code: string }).code).toBe('CONFIG_INVALID');
      return ((e as { details: { problems: string[] } }).details.problems ?? []).join(' ');
    }
    throw new Error('the policy set was accepted');
  };
  const base = '@id("p") permit (principal, action, resource);\n';

  test('the demo-style set compiles and keeps its ids in order', () => {
    expect(compilePolicies(POLICIES, known).ids).toEqual([
      'members-may-aggregate',
      'cert-b-eu-only',
      'sector-breakdown-own-region',
      'no-defence-for-partners',
      'organisations-eu-only',
      'max-rho-per-query',
    ]);
  });

  test('unknown attributes, context fields and types are refused by the Cedar validator', () => {
    expect(refused(base + '@id("x") forbid (principal, action, resource) when { principal.nationality == "FR" };')).toMatch(/Policy "x".*nationality/);
    expect(refused(base + '@id("x") forbid (principal, action, resource) when { context.dimension == "SECTOR" };')).toMatch(/dimension/);
    expect(refused(base + '@id("x") forbid (principal, action, resource) when { context.rhoMicro > "high" };')).toMatch(/Policy "x"/);
    expect(refused(base + '@id("x") forbid (principal, action, resource) when { resource.country == "FR" };')).toMatch(/Policy "x"/); // optional attribute without `has`
    expect(refused(base + '@id("x") forbid (principal is Accord::Analyst, action, resource);')).toMatch(/Analyst/);
  });

  test('unknown dimensions, sectors, regions, TLP levels, members and nodes are refused by the lint', () => {
    expect(refused(base + '@id("x") forbid (principal, action, resource) when { context.groupBy.contains("SECTR") };')).toMatch(/"SECTR" is not a dimension/);
    expect(refused(base + '@id("x") forbid (principal, action, resource) when { context.sectorsTouched.containsAny(["energy", "defence"]) };')).toMatch(/"defence" is not a sector id/);
    expect(refused(base + '@id("x") forbid (principal, action, resource) when { principal.region == "EU" };')).toMatch(/"EU" is not a UN M49 region/);
    expect(refused(base + '@id("x") forbid (principal, action, resource) when { ["EUROPE"].contains(principal.region) };')).toMatch(/"EUROPE"/);
    expect(refused(base + '@id("x") forbid (principal, action, resource) when { context.tlp.contains("RED") };')).toMatch(/"RED" is not a TLP level/);
    expect(refused(base + '@id("x") forbid (principal, action, resource == Accord::Node::"cert-zz");')).toMatch(/cert-zz.*not a registered node/);
    expect(refused(base + '@id("x") forbid (principal == Accord::Member::"ghost", action, resource);')).toMatch(/ghost.*not a registered member/);
    expect(refused(base + '@id("x") forbid (principal, action, resource) when { context.measure == "INCIDENT" };')).toMatch(/"INCIDENT" is not a measure/);
  });

  test('every policy needs a unique @id; parse errors and empty sets are refused', () => {
    expect(refused('permit (principal, action, resource);')).toMatch(/no @id/);
    expect(refused(base + base)).toMatch(/share @id\("p"\)/);
    expect(refused(base + '@id("x") forbid (principal, action, resource) when { 1 == };')).toMatch(/Parse error/);
    expect(refused('// nothing\n')).toMatch(/empty/);
  });

  test('the demo policies and every example in docs/access.md compile', () => {
    const demoKnown = { memberIds: DEMO_MEMBERS.map((m) => m.id), nodeIds: ['cert-de', 'cert-fr', 'isac-energy'] };
    expect(compilePolicies(DEMO_POLICIES, demoKnown).ids).toContain('isac-sector-breakdown-own-region');
    const doc = readFileSync(new URL('../../docs/access.md', import.meta.url), 'utf8');
    const blocks = [...doc.matchAll(/```cedar\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThan(0);
    for (const b of blocks) expect(compilePolicies(b, demoKnown).ids.length).toBeGreaterThan(0);
  });

  test('a gateway does not start with an invalid policy file', async () => {
    const fx = await makeAccessFixture({ members: MEMBERS, policies: base + '@id("x") forbid (principal, action, resource) when { context.groupBy.contains("SECTR") };' });
    try {
      await expect(buildGateway({ nodes: [], logger: quietLogger, refreshIntervalMs: 0, access: fx.access() })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    } finally {
      fx.remove();
    }
  });
});

describe('budgets', () => {
  let fx: AccessFixture;
  let nodes: InProcessStubNode[];
  let gw: BuiltGateway;
  // two queries fit a member's allocation; three fit a node's cap
  const allocation = 2.5 * CHARGE;
  const nodeCap = 3.5 * CHARGE;
  beforeAll(async () => {
    fx = await makeAccessFixture({ members: MEMBERS, policies: POLICIES, budgets: { allocation: { rho: allocation }, nodeCap: { rho: nodeCap } } });
    nodes = inProcessNodes();
    gw = await buildOver(nodes, { access: fx.access() });
  });
  afterAll(async () => {
    await gw?.close();
    fx?.remove();
  });

  test("a member's allocation, then a node's cap, run out: BUDGET_EXHAUSTED with what remains, nothing charged, nothing sent", async () => {
    const eu = await fx.token('eu-analyst');
    for (let i = 0; i < 2; i++) {
      const r = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, fresh(), eu);
      expect(r.errors, r.text).toBeUndefined();
      const b = r.data!.crossBorderPattern.remainingBudget;
      expect(b.map((x) => x.node)).toEqual(NODE_IDS);
      for (const x of b) {
        expect(x.horizonDays).toBe(365);
        expect(x.spent.rho).toBeCloseTo((i + 1) * CHARGE, 12);
        expect(x.remaining.rho).toBeCloseTo(allocation - (i + 1) * CHARGE, 11);
        expect(x.nodeCapAdmits).toBe(true);
      }
    }
    const before = await ledgerState(gw);
    const sent = requestsOf(nodes);
    const ext = expectRefusal(await gql(gw, PATTERN_QUERY, fresh(), eu), 'BUDGET_EXHAUSTED', 429);
    expect(ext.horizonDays).toBe(365);
    expect(ext.charge).toEqual({ rho: CHARGE, delta: 0 });
    expect(ext.exhausted).toEqual(NODE_IDS.map((node) => ({ node, ledger: 'MEMBER' })));
    const remaining = ext.remaining as Array<{ node: string; member: { rho: number }; nodeCapAdmits: boolean }>;
    expect(remaining.map((x) => x.node)).toEqual(NODE_IDS);
    for (const x of remaining) {
      expect(x.member.rho).toBeCloseTo(allocation - 2 * CHARGE, 11);
      expect(x.nodeCapAdmits).toBe(true); // whether, never how much others spent
    }
    expect(requestsOf(nodes)).toEqual(sent);
    expect(await ledgerState(gw)).toEqual(before);

    // another member still has its allocation, but the node caps allow one more query only
    const other = await fx.token('eu-analyst-2');
    expect((await gql(gw, PATTERN_QUERY, fresh(), other)).errors).toBeUndefined();
    const capped = expectRefusal(await gql(gw, PATTERN_QUERY, fresh(), other), 'BUDGET_EXHAUSTED', 429);
    expect(capped.exhausted).toEqual(NODE_IDS.map((node) => ({ node, ledger: 'NODE' })));

    // myBudget agrees with the ledger
    const mine = await gql(gw, '{ myBudget { node horizonDays allocation { rho } spent { rho } remaining { rho } cumulative { epsilon delta } nodeCapAdmits } }', undefined, eu);
    expect(mine.data!.myBudget).toHaveLength(3);
    for (const b of mine.data!.myBudget) {
      expect(b.horizonDays).toBe(365);
      expect(b.allocation.rho).toBeCloseTo(allocation, 11);
      expect(b.spent.rho).toBeCloseTo(2 * CHARGE, 12);
      expect(b.nodeCapAdmits).toBe(false); // three charges spent the cap, whoever spent them
      expect(b.cumulative.epsilon).toBeGreaterThan(0);
    }
    // the ledger sums are exactly what was spent: 3 queries on each node, 2 + 1 per member
    const accounts = new Map((await gw.ledger.accountsOf()).map((x) => [x.id, x.spent.rho]));
    const units = chargeUnits({ rho: CHARGE, delta: 0 }).rho;
    for (const n of NODE_IDS) {
      expect(accounts.get(`NODE|${n}`)).toBe(3 * units);
      expect(accounts.get(`MEMBER|${n}|eu-analyst`)).toBe(2 * units);
      expect(accounts.get(`MEMBER|${n}|eu-analyst-2`)).toBe(units);
    }
    expect((await gw.ledger.reservations()).every((r) => r.status === 'ANSWERED' && r.rho === units)).toBe(true);
  });

  test('a failed strict query stays charged (no refund once a request has left)', async () => {
    const fx2 = await makeAccessFixture({ members: MEMBERS, policies: POLICIES });
    const gw2 = await buildOver(nodes, { nodeTimeoutMs: 300, access: fx2.access() });
    nodes[2]!.behave({ delayMs: 1_000 });
    try {
      const r = await gql(gw2, PATTERN_QUERY, fresh(), await fx2.token('eu-analyst'));
      expect(r.errors![0]!.extensions!.code).toBe('NODE_UNAVAILABLE');
      const reservations = await gw2.ledger.reservations();
      expect(reservations.map((x) => x.status)).toEqual(['FAILED']);
      const spent = (await gw2.ledger.accountsOf()).filter((a) => a.id.startsWith('NODE|')).map((a) => a.spent.rho);
      expect(spent).toEqual([1, 2, 3].map(() => chargeUnits({ rho: CHARGE, delta: 0 }).rho));
    } finally {
      nodes[2]!.behave({ delayMs: 0 });
      await gw2.close();
      fx2.remove();
    }
  });
});

describe('answer cache', () => {
  let fx: AccessFixture;
  let nodes: InProcessStubNode[];
  let gw: BuiltGateway;
  beforeAll(async () => {
    fx = await makeAccessFixture({ members: MEMBERS, policies: POLICIES });
    nodes = inProcessNodes();
    gw = await buildOver(nodes, { nodeTimeoutMs: 300, access: fx.access() });
  });
  afterAll(async () => {
    await gw?.close();
    fx?.remove();
  });

  test('the second identical question returns the same numbers, cached, and charges nothing — to any member the policy allows', async () => {
    const q = fresh({ groupBy: ['COUNTRY', 'SECTOR'], filter: { countries: ['DE', 'FR'] } });
    const first = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, q, await fx.token('eu-analyst'));
    expect(first.errors, first.text).toBeUndefined();
    expect(first.data!.crossBorderPattern.cached).toBe(false);
    const before = await ledgerState(gw);
    const sent = requestsOf(nodes);
    const again = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, { ...q, filter: { countries: ['FR', 'DE', 'FR'] } }, await fx.token('eu-analyst'));
    const other = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, q, await fx.token('eu-analyst-2'));
    for (const r of [again, other]) {
      expect(r.errors, r.text).toBeUndefined();
      const a = r.data!.crossBorderPattern;
      expect(a.cached).toBe(true);
      expect(a.queryId).toBe(first.data!.crossBorderPattern.queryId);
      expect(a.cells).toEqual(first.data!.crossBorderPattern.cells);
      expect(a.accuracy).toEqual(first.data!.crossBorderPattern.accuracy);
      expect(a.coverage).toEqual(first.data!.crossBorderPattern.coverage);
    }
    expect(requestsOf(nodes)).toEqual(sent);
    expect(await ledgerState(gw)).toEqual(before);
    // the cached answer reports the asker's own budget
    expect(other.data!.crossBorderPattern.remainingBudget.every((b) => b.spent.rho === 0)).toBe(true);
    expect(again.data!.crossBorderPattern.remainingBudget.every((b) => Math.abs(b.spent.rho - CHARGE) < 1e-12)).toBe(true);
  });

  test('the cache survives a restart (it is in the database)', async () => {
    const q = fresh();
    const first = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, q, await fx.token('eu-analyst'));
    await gw.close();
    gw = await buildOver(nodes, { nodeTimeoutMs: 300, access: fx.access() });
    const sent = requestsOf(nodes);
    const again = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, q, await fx.token('eu-analyst'));
    expect(again.data!.crossBorderPattern.cached).toBe(true);
    expect(again.data!.crossBorderPattern.cells).toEqual(first.data!.crossBorderPattern.cells);
    expect(requestsOf(nodes)).toEqual(sent);
  });

  test('another node set, another member TLP or another quorum need: not served from the cache', async () => {
    const q = fresh();
    await gql(gw, PATTERN_QUERY, q, await fx.token('eu-analyst'));
    // the partner's policy leaves cert-b out: another node set, a fresh answer
    const partner = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, q, await fx.token('asia-analyst'));
    expect(partner.data!.crossBorderPattern.cached).toBe(false);
    const named = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, { ...q, nodes: ['cert-a'] }, await fx.token('eu-analyst'));
    expect(named.data!.crossBorderPattern.cached).toBe(false);
  });

  test('a STRICT question is never served an incomplete cached answer', async () => {
    const q = fresh();
    const eu = await fx.token('eu-analyst');
    nodes[1]!.behave({ delayMs: 1_000 });
    try {
      const best = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, { ...q, quorum: 'BEST_EFFORT' }, eu);
      expect(best.data!.crossBorderPattern.coverage.complete).toBe(false);
      const bestAgain = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, { ...q, quorum: 'BEST_EFFORT' }, eu);
      expect(bestAgain.data!.crossBorderPattern.cached).toBe(true);
      const strict = await gql(gw, PATTERN_QUERY, { ...q, quorum: 'STRICT' }, eu);
      expect(strict.errors![0]!.extensions!.code).toBe('NODE_UNAVAILABLE');
    } finally {
      nodes[1]!.behave({ delayMs: 0 });
    }
    const strict = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, { ...q, quorum: 'STRICT' }, eu);
    expect(strict.data!.crossBorderPattern.cached).toBe(false);
    expect(strict.data!.crossBorderPattern.coverage.complete).toBe(true);
    // the complete answer replaced the incomplete one
    const best = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, { ...q, quorum: 'BEST_EFFORT' }, eu);
    expect(best.data!.crossBorderPattern.cached).toBe(true);
    expect(best.data!.crossBorderPattern.cells).toEqual(strict.data!.crossBorderPattern.cells);
  });

  test('identical questions asked at the same time are charged once', async () => {
    const q = fresh();
    nodes.forEach((n) => n.behave({ delayMs: 200 }));
    try {
      const before = (await gw.ledger.reservations()).length;
      const tokens = await Promise.all(['eu-analyst', 'eu-analyst-2', 'eu-analyst', 'eu-analyst-2'].map((m) => fx.token(m)));
      const rs = await Promise.all(tokens.map((t) => gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, q, t)));
      for (const r of rs) expect(r.errors, r.text).toBeUndefined();
      expect(rs.filter((r) => !r.data!.crossBorderPattern.cached)).toHaveLength(1);
      expect(new Set(rs.map((r) => JSON.stringify(r.data!.crossBorderPattern.cells))).size).toBe(1);
      expect((await gw.ledger.reservations()).length).toBe(before + 1);
    } finally {
      nodes.forEach((n) => n.behave({ delayMs: 0 }));
    }
  });

  test("a node's own refusal (its cap) shows in coverage with the node's code", async () => {
    nodes[0]!.respondWith(() => {
      throw new GraphQLError('The node’s own privacy cap for this period is spent.', { extensions: { code: 'NODE_BUDGET_EXHAUSTED' } });
    });
    try {
      const r = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, fresh({ quorum: 'BEST_EFFORT' }), await fx.token('eu-analyst'));
      expect(r.data!.crossBorderPattern.coverage.missing).toEqual([{ node: 'cert-a', reason: 'ERROR', code: 'NODE_BUDGET_EXHAUSTED' }]);
    } finally {
      nodes[0]!.respondWith(null);
    }
  });
});

describe('signed grants', () => {
  let fx: AccessFixture;
  let nodes: InProcessStubNode[];
  let gw: BuiltGateway;
  beforeAll(async () => {
    fx = await makeAccessFixture({ members: MEMBERS, policies: POLICIES });
    nodes = inProcessNodes();
    gw = await buildOver(nodes, { access: fx.access() });
  });
  afterAll(async () => {
    await gw?.close();
    fx?.remove();
  });

  test('every contribution request carries a grant that verifies against the served keys and names exactly that request', async () => {
    // the keys the gateway serves at /.well-known/accord-grant-keys.json (checked over HTTP above)
    const keys = createLocalJWKSet(gw.signer.jwks);
    const jtis = new Set<string>();
    const eu = await fx.token('eu-analyst');
    for (let q = 0; q < 3; q++) {
      const t0 = Math.floor(Date.now() / 1000);
      const r = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, fresh(), eu);
      expect(r.errors, r.text).toBeUndefined();
      for (const n of nodes) {
        const token = n.grants.at(-1);
        expect(token, n.id).toBeDefined();
        const header = decodeProtectedHeader(token!);
        expect(header).toEqual({ alg: 'EdDSA', typ: GRANT_TYPE, kid: gw.signer.kid });
        const { payload } = await jwtVerify(token!, keys, { issuer: 'accord-gateway', audience: n.id, typ: GRANT_TYPE, algorithms: ['EdDSA'] });
        const c = payload as unknown as GrantClaims;
        expect(c.sub).toBe('eu-analyst');
        expect(c.grp).toEqual(['eu', 'nato']);
        expect(c.fp).toBe(contributionFingerprint(n.requests.at(-1)!));
        expect(c.rho).toBe(CHARGE);
        expect(c.delta).toBe(0);
        // per: when the reservation was made (ISO 8601), within the grant's lifetime
        expect(Math.abs(Date.parse(c.per) / 1000 - c.iat)).toBeLessThanOrEqual(5);
        expect(c.exp - c.iat).toBe(60);
        expect(c.exp - c.iat).toBeLessThanOrEqual(MAX_GRANT_TTL_SECONDS);
        expect(Math.abs(c.iat - t0)).toBeLessThanOrEqual(5);
        jtis.add(c.jti);
        // the grant is for this node only
        await expect(jwtVerify(token!, keys, { issuer: 'accord-gateway', audience: nodes.find((o) => o.id !== n.id)!.id })).rejects.toThrow();
      }
    }
    expect(jtis.size).toBe(9);
  });

  test('the signing key persists across restarts (nodes keep trusting the same key)', async () => {
    const kid = gw.signer.kid;
    await gw.close();
    gw = await buildOver(nodes, { access: fx.access() });
    expect(gw.signer.kid).toBe(kid);
    const { statSync } = await import('node:fs');
    expect(statSync(fx.signingKey).mode & 0o777).toBe(0o600);
  });
});

describe('one request, one admission', () => {
  let fx: AccessFixture;
  let nodes: InProcessStubNode[];
  let gw: BuiltGateway;
  // three fresh questions fit a member's allocation; four do not
  const allocation = 3.5 * CHARGE;
  beforeAll(async () => {
    fx = await makeAccessFixture({ members: MEMBERS, policies: POLICIES, budgets: { allocation: { rho: allocation }, nodeCap: { rho: 1000 } } });
    nodes = inProcessNodes();
    gw = await buildOver(nodes, { access: fx.access() });
  });
  afterAll(async () => {
    await gw?.close();
    fx?.remove();
  });

  /** One operation asking `n` fresh country questions as aliases q0 … q(n-1), plus `extra` fields. */
  function aliases(n: number, extra = ''): string {
    const fields = Array.from({ length: n }, (_, i) => `q${i}: crossBorderPattern(groupBy: [COUNTRY], filter: { countries: ["DE", "FR"], from: "2024-01-01", to: "${new Date(Date.UTC(2026, 0, 1 + ++serial)).toISOString().slice(0, 10)}" }) { cached cells { country value } }`);
    return `{ ${fields.join('\n')} ${extra} }`;
  }

  test('200 charging aliases are refused whole with REQUEST_CHARGE_EXCEEDED: nothing reserved, nothing sent', async () => {
    const before = await ledgerState(gw);
    const sent = requestsOf(nodes);
    const r = await gql(gw, aliases(200), undefined, await fx.token('eu-analyst'));
    // the details carry the request's own (public) charge and the cap, so expectRefusal's
    // planted-number check does not apply; nothing from the data is in the answer either way
    expect(r.status, r.text).toBe(400);
    expect(r.data ?? null).toBeNull();
    expect(r.errors).toHaveLength(1);
    const ext = r.errors![0]!.extensions!;
    expect(ext.code).toBe('REQUEST_CHARGE_EXCEEDED');
    expect(r.errors![0]!.message).not.toMatch(/\d/);
    expect(r.text).not.toMatch(/"cells"|"units"|"count"|rawValue/);
    expect(ext.questions).toBe(200);
    expect((ext.charge as { rho: number }).rho).toBeCloseTo(200 * CHARGE, 6);
    expect(ext.cap).toEqual({ rho: REQUEST_RHO_QUESTIONS * DEFAULT_CONFIG.privacy.rho });
    expect(requestsOf(nodes)).toEqual(sent);
    expect(await ledgerState(gw)).toEqual(before);
  });

  test('one invalid question beside valid ones refuses the request: nothing is charged', async () => {
    const before = await ledgerState(gw);
    const sent = requestsOf(nodes);
    const r = await gql(gw, aliases(2, 'bad: crossBorderPattern(groupBy: [COUNTRY], filter: { countries: ["XX"] }) { cells { value } }'), undefined, await fx.token('eu-analyst'));
    expectRefusal(r, 'INVALID_QUERY', 400);
    const denied = await gql(gw, aliases(2, 'sector: crossBorderPattern(groupBy: [SECTOR], filter: { countries: ["JP"] }) { cells { value } }'), undefined, await fx.token('eu-analyst'));
    expectRefusal(denied, 'POLICY_DENIED', 403);
    // more dimensions than the contract allows: refused before anything is planned or reserved
    const wide = await gql(gw, '{ crossBorderPattern(groupBy: [COUNTRY, SECTOR, TLP, VINTAGE, MONTH], filter: { countries: ["FR"], from: "2024-01-01", to: "2024-03-01" }) { cells { value } } }', undefined, await fx.token('eu-analyst'));
    expect(wide.status, wide.text).toBe(400);
    expect(wide.errors![0]!.extensions!.code).toBe('INVALID_QUERY'); // its message names the public limit
    expect(requestsOf(nodes)).toEqual(sent);
    expect(await ledgerState(gw)).toEqual(before);
  });

  test('the questions of one request are reserved together: all fit, or none is charged', async () => {
    const eu = await fx.token('eu-analyst-2');
    const sent = requestsOf(nodes);
    /** What has been spent (accounts are created at zero the first time a member asks). */
    const spent = async () => ({ accounts: (await gw.ledger.accountsOf()).filter((a) => a.spent.rho > 0 || a.spent.delta > 0), reservations: (await gw.ledger.reservations()).length });
    const before = await spent();
    const over = await gql(gw, aliases(4), undefined, eu);
    expectRefusal(over, 'BUDGET_EXHAUSTED', 429);
    expect(requestsOf(nodes)).toEqual(sent);
    expect(await spent()).toEqual(before);
    const fits = await gql<Record<string, Answer>>(gw, aliases(3), undefined, eu);
    expect(fits.errors, fits.text).toBeUndefined();
    expect(Object.values(fits.data!).every((a) => a.cached === false)).toBe(true);
    expect(requestsOf(nodes)).toEqual(sent.map((n) => n + 3));
    expect((await gw.ledger.reservations()).length).toBe(before.reservations + 3);
  });

  test('the same question asked twice in one request is answered once, at one charge', async () => {
    const q = `crossBorderPattern(groupBy: [COUNTRY], filter: { countries: ["DE", "FR"], from: "2024-01-01", to: "2026-12-31" }) { cached cells { country rawValue } }`;
    const before = (await gw.ledger.reservations()).length;
    const sent = requestsOf(nodes);
    const r = await gql<Record<string, Answer>>(gw, `{ a: ${q} b: ${q} }`, undefined, await fx.token('eu-analyst'));
    expect(r.errors, r.text).toBeUndefined();
    expect(r.data!.a!.cells).toEqual(r.data!.b!.cells);
    expect([r.data!.a!.cached, r.data!.b!.cached]).toEqual([false, true]);
    expect(requestsOf(nodes)).toEqual(sent.map((n) => n + 1));
    expect((await gw.ledger.reservations()).length).toBe(before + 1);
  });
});
