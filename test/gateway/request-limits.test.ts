/**
 * One member cannot stall the gateway for everyone: the audit's requests (2,000 aliases of a 500-row
 * list; aliases of a charging question) are refused by the HTTP front before anything is parsed
 * for execution, planned or reserved, and another member's cheap query is answered meanwhile; and
 * nothing shows a member the federation's topology (node endpoints are for staff).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildGateway, listenGateway, type Gateway } from '../../gateway/app.js';
import { makeAccessFixture, type AccessFixture } from '../helpers/access.js';
import { gql } from '../helpers/graphql.js';
import { createStubNode, stubScatter } from '../helpers/stub-node.js';
import { quietLogger } from './helpers.js';

let fx: AccessFixture;
let gw: Gateway;
beforeAll(async () => {
  fx = await makeAccessFixture({});
  const nodes = ['cert-a', 'cert-b'].map((id) => createStubNode({ id, planted: [{ country: 'FR', sector: 'energy', count: 5, date: '2024-06-15' }] }));
  const built = await buildGateway({
    port: 0,
    nodes: nodes.map((n) => ({ id: n.id, name: n.id, kind: 'national-cert', url: `http://${n.id}.invalid/graphql` })),
    logger: quietLogger,
    refreshIntervalMs: 0,
    access: fx.access(),
    scatter: stubScatter(nodes),
  });
  gw = await listenGateway(built, 0);
});
afterAll(async () => {
  await gw?.close();
  fx?.remove();
});

test("the audit's 2,000 aliases of vulnerabilities(first: 500) are refused at once; another member is answered meanwhile", async () => {
  const query = `{ ${Array.from({ length: 2000 }, (_, i) => `v${i}: vulnerabilities(first: 500) { items { cve } }`).join(' ')} }`;
  const [heavy, other] = await Promise.all([gql(gw.url, query, undefined, await fx.token('eu-analyst')), gql<{ me: { id: string } }>(gw.url, '{ me { id } }', undefined, await fx.token('asia-analyst'))]);
  expect(heavy.status, heavy.text.slice(0, 300)).toBe(400);
  expect(heavy.errors![0]!.extensions!.code).toBe('QUERY_TOO_MANY_TOKENS');
  expect(heavy.text.length).toBeLessThan(1_000);
  expect(other.errors).toBeUndefined();
  expect(other.data!.me.id).toBe('asia-analyst');
});

test('aliases of a charging question beyond the limit are refused before anything is planned or reserved', async () => {
  const before = (await gw.ledger.reservations()).length;
  const q = (i: number) => `q${i}: crossBorderPattern(groupBy: [COUNTRY], filter: { countries: ["FR"], from: "2024-01-01", to: "2025-01-${String((i % 28) + 1).padStart(2, '0')}" }) { cells { value } }`;
  const r = await gql(gw.url, `{ ${Array.from({ length: 31 }, (_, i) => q(i)).join(' ')} }`, undefined, await fx.token('eu-analyst'));
  expect(r.status).toBe(400);
  expect(r.errors![0]!.extensions).toMatchObject({ code: 'QUERY_TOO_MANY_ALIASES', max: 30 });
  expect((await gw.ledger.reservations()).length).toBe(before);
  // a small request of the same questions is answered
  const ok = await gql(gw.url, `{ ${[0, 1].map(q).join(' ')} }`, undefined, await fx.token('eu-analyst'));
  expect(ok.errors, ok.text).toBeUndefined();
});

test("node URLs are for platform staff only: a member sees every node's id and status, never its endpoint", async () => {
  const member = await gql<{ federationNodes: Array<{ id: string; url: string | null }> }>(gw.url, '{ federationNodes { id status url } }', undefined, await fx.token('eu-analyst'));
  expect(member.data!.federationNodes.map((n) => n.id)).toEqual(['cert-a', 'cert-b']);
  expect(member.data!.federationNodes.every((n) => n.url === null)).toBe(true);
  expect(member.text).not.toContain('.invalid');
  const staff = await gql<{ federationNodes: Array<{ url: string | null }> }>(gw.url, '{ federationNodes { url } }', undefined, await fx.token('platform-staff', { staff: true }));
  expect(staff.data!.federationNodes.map((n) => n.url)).toEqual(['http://cert-a.invalid/graphql', 'http://cert-b.invalid/graphql']);
});
