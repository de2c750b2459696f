/**
 * The node's own defences (DESIGN §2.3), through real HTTP to nodes on 127.0.0.1: signed grants
 * (signature, audience, expiry, lifetime, type, issuer, fingerprint, period), single use (also
 * under concurrency and across a restart), the operator's sharing rules, and the node's own ledger
 * with member and node caps that concurrent requests cannot overspend. On SQLite, and on
 * PostgreSQL when ACCORD_TEST_PG_URL is set. No refusal carries a private number.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { SignJWT, UnsecuredJWT } from 'jose';
import { CONTRIBUTION_OPERATION, GRANT_HEADER, type Contribution, type ContributionRequest } from '../../schema/contract/contribution.js';
import { contributionFingerprint, GRANT_TYPE, MAX_GRANT_TTL_SECONDS } from '../../schema/contract/grant.js';
import { createNode, type NodeConfig, type RunningNode } from '../../nodes/app.js';
import { knexOf, dialectOf } from '../../nodes/db/orm.js';
import { queryRows } from '../../nodes/db/sql.js';
import { parseSharingRules } from '../../nodes/grants/rules.js';
import { deltaChargeUnits, rhoCapUnits, rhoChargeUnits, rhoFromUnits } from '../../schema/privacy/units.js';
import { oracleContribution } from '../../nodes/contribution/oracle.js';
import { createGatewayKey, type GatewayKey } from '../helpers/grants.js';
import { makeDataset } from './helpers/dataset.js';
import { PG_URL, tempDir } from './helpers/db.js';

const TOKEN = 'operator-token-for-grant-tests-0123';

interface GqlError {
  message: string;
  /** `code` and, beside it, the refusal's details. */
  extensions?: { code?: string; [detail: string]: unknown };
}
interface Reply {
  status: number;
  data?: { contribution: Contribution } | null;
  errors?: GqlError[];
}

async function post(node: RunningNode, request: ContributionRequest, grant?: string): Promise<Reply> {
  const res = await fetch(node.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(grant === undefined ? {} : { [GRANT_HEADER]: grant }) },
    body: JSON.stringify({ query: CONTRIBUTION_OPERATION, variables: { request } }),
  });
  return { status: res.status, ...((await res.json()) as Omit<Reply, 'status'>) };
}

async function operator(node: RunningNode, path: string, token = TOKEN): Promise<{ status: number; body: any }> {
  const res = await fetch(node.operatorUrl + path, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

/**
 * Asserts a refusal: no data, exactly one error with `code`, and no digit in its message or
 * details other than in `allowed` (public constants, the period, a rule id, the member's own
 * remaining budget).
 */
function expectRefused(reply: Reply, code: string, reason?: string, allowed: string[] = []): GqlError {
  expect(reply.data ?? null).toBeNull();
  expect(reply.errors).toHaveLength(1);
  const err = reply.errors![0]!;
  expect(err.extensions?.code, err.message).toBe(code);
  if (reason !== undefined) expect(err.extensions?.reason).toBe(reason);
  let text = `${err.message} ${JSON.stringify(err.extensions)}`;
  for (const a of [...allowed, String(MAX_GRANT_TTL_SECONDS)]) text = text.split(a).join('');
  expect(text, 'a refusal carries a number').not.toMatch(/\d/);
  return err;
}

/** The details of a refusal: its extensions without the code. */
function detailsOf(err: GqlError): Record<string, unknown> {
  const { code: _code, ...details } = err.extensions ?? {};
  return details;
}

const ok = (r: Reply): boolean => r.errors === undefined && r.data?.contribution !== undefined;


interface Backend {
  name: string;
  /** Database settings for one node; the same `key` gives the same database (restarts). */
  db(key: string): { db: string; pgSchema?: string };
  cleanup(): Promise<void>;
}

function sqliteBackend(): Backend {
  const dir = tempDir('accord-grants-db-');
  return {
    name: 'SQLite',
    db: (key) => ({ db: join(dir, `${key}.sqlite`) }),
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresBackend(url: string): Backend {
  const suffix = randomBytes(4).toString('hex');
  const schemas = new Set<string>();
  return {
    name: 'PostgreSQL',
    db(key) {
      const schema = `accord_grants_${key.replace(/[^a-z0-9]/g, '_')}_${suffix}`;
      schemas.add(schema);
      return { db: url, pgSchema: schema };
    },
    async cleanup() {
      const { openNodeOrm } = await import('../../nodes/db/orm.js');
      const orm = await openNodeOrm({ db: url, migrate: false });
      try {
        for (const s of schemas) await knexOf(orm).raw(`drop schema if exists "${s}" cascade`);
      } finally {
        await orm.close(true);
      }
    },
  };
}

const RULES = {
  rules: [
    { id: 'defence-alliance-only', sectors: ['defense-industrial-base'], allowGroups: ['nato'], allowMembers: ['trusted-partner'] },
    { id: 'no-banned-member', denyMembers: ['banned-member'] },
  ],
  memberCaps: { 'capped-member': { rho: 0.5 }, 'burst-member': { rho: 0.7 } },
};

function suite(makeBackend: () => Backend): void {
  const backend = makeBackend();
  describe(`grants on ${backend.name}`, () => {
    const dir = tempDir('accord-grants-');
    const data = makeDataset({ organisations: 12, incidents: 400, seed: 5 });
    const nodes: RunningNode[] = [];
    let gw: GatewayKey;
    let jwks: string;
    let rulesFile: string;
    let a: RunningNode;
    let b: RunningNode;

    const start = async (id: string, key: string, extra: Partial<NodeConfig> = {}): Promise<RunningNode> => {
      const node = await createNode({ id, dataDir: dir, operatorToken: TOKEN, gatewayJwks: jwks, logLevel: 'silent', ...backend.db(key), ...extra });
      nodes.push(node);
      return node;
    };

    beforeAll(async () => {
      gw = await createGatewayKey();
      jwks = gw.writeJwks(dir);
      rulesFile = join(dir, 'sharing-rules.json');
      writeFileSync(rulesFile, JSON.stringify(RULES));
      const seedFile = join(dir, 'seed.json');
      writeFileSync(seedFile, JSON.stringify(data));
      a = await start('node-a', 'a', { seedFile, sharingRules: rulesFile });
      b = await start('node-b', 'b');
    });
    afterAll(async () => {
      for (const n of nodes) await n.close();
      await backend.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    const request = (queryId: string, extra: Partial<ContributionRequest> = {}): ContributionRequest => ({
      queryId,
      measure: 'INCIDENTS',
      groupBy: ['COUNTRY', 'SECTOR'],
      filter: { sectors: ['energy', 'water'], from: '2025-01-01', to: '2025-07-01' },
      bounds: { maxPartitions: 10, maxPerPartition: 10 },
      ...extra,
    });

    it('answers a request carrying a valid grant, exactly like the oracle', async () => {
      const req = request('valid');
      const reply = await post(a, req, await gw.grantFor(req, { aud: 'node-a' }));
      expect(reply.errors).toBeUndefined();
      const expected = oracleContribution(data, req);
      expect(expected.groups.length).toBeGreaterThan(3);
      expect(reply.data!.contribution).toEqual({ node: 'node-a', queryId: 'valid', units: expected.units, groups: expected.groups });
    });

    it('checks the fingerprint of the request exactly as received (filters, floats, optional fields)', async () => {
      const req: ContributionRequest = {
        queryId: 'fp-exact',
        measure: 'SEVERITY_SUM',
        groupBy: ['REGION', 'MONTH'],
        filter: { tlp: ['GREEN', 'AMBER'], sectors: ['water', 'energy'], from: '2025-02-01', to: '2025-05-01' },
        bounds: { maxPartitions: 5, maxPerPartition: 3, clampLo: 2, clampHi: 4, gridExponent: 0 },
      };
      const reply = await post(a, req, await gw.grantFor(req, { aud: 'node-a' }));
      expect(reply.errors).toBeUndefined();
      expect(reply.data!.contribution.groups.length).toBeGreaterThan(0);
    });

    it('refuses a request without a grant, and one with garbage in the header', async () => {
      expectRefused(await post(a, request('missing')), 'GRANT_INVALID', 'missing');
      expectRefused(await post(a, request('garbage'), 'not-a-jws'), 'GRANT_INVALID', 'malformed');
    });

    it('refuses a grant signed by another key, even under the trusted kid', async () => {
      const other = await createGatewayKey(gw.kid);
      const req = request('other-key');
      expectRefused(await post(a, req, await other.grantFor(req, { aud: 'node-a' })), 'GRANT_INVALID', 'signature');
      const stranger = await createGatewayKey();
      expectRefused(await post(a, req, await stranger.grantFor(req, { aud: 'node-a' })), 'GRANT_INVALID', 'signature');
    });

    it('refuses a grant for node A sent to node B', async () => {
      const req = request('wrong-aud');
      const grant = await gw.grantFor(req, { aud: 'node-a' });
      expectRefused(await post(b, req, grant), 'GRANT_INVALID', 'audience');
      // the same grant is still good at its own node: B's refusal did not consume it anywhere
      expect(ok(await post(a, req, grant))).toBe(true);
    });

    it('refuses expired grants and grants that live too long or come from the future', async () => {
      const req = request('times');
      const now = Math.floor(Date.now() / 1000);
      expectRefused(await post(a, req, await gw.grantFor(req, { aud: 'node-a', iat: now - 120, exp: now - 60 })), 'GRANT_INVALID', 'expired');
      expectRefused(await post(a, req, await gw.grantFor(req, { aud: 'node-a', iat: now, exp: now + MAX_GRANT_TTL_SECONDS + 1 })), 'GRANT_INVALID', 'ttl');
      expectRefused(await post(a, req, await gw.grantFor(req, { aud: 'node-a', iat: now + 120, exp: now + 180 })), 'GRANT_INVALID', 'not-yet-valid');
      // within the clock tolerance an expiring grant still passes
      expect(ok(await post(a, req, await gw.grantFor(req, { aud: 'node-a', iat: now - 60, exp: now - 2 })))).toBe(true);
    });

    it('refuses a wrong type, issuer, algorithm or malformed claims', async () => {
      const req = request('header-claims');
      expectRefused(await post(a, req, await gw.grantFor(req, { aud: 'node-a', typ: 'JWT' })), 'GRANT_INVALID', 'type');
      expectRefused(await post(a, req, await gw.grantFor(req, { aud: 'node-a', iss: 'someone-else' })), 'GRANT_INVALID', 'issuer');
      expectRefused(await post(a, req, await gw.grantFor(req, { aud: 'node-a', rho: -1 })), 'GRANT_INVALID', 'claims');
      expectRefused(await post(a, req, await gw.grantFor(req, { aud: 'node-a', rho: 0 })), 'GRANT_INVALID', 'claims');
      expectRefused(await post(a, req, await gw.grantFor(req, { aud: 'node-a', grp: 'nato' as never })), 'GRANT_INVALID', 'claims');
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: 'accord-gateway', aud: 'node-a', sub: 'm', grp: [], fp: contributionFingerprint(req), rho: 0.1, delta: 0, per: new Date().toISOString(), iat: now, exp: now + 60 };
      // the same claims pass with EdDSA; HMAC keyed with the public key, and "none", are refused
      expect(ok(await post(a, req, await gw.sign({ ...claims, jti: randomUUID() })))).toBe(true);
      const hs = await new SignJWT({ ...claims, jti: randomUUID() }).setProtectedHeader({ alg: 'HS256', typ: GRANT_TYPE, kid: gw.kid }).sign(new TextEncoder().encode(JSON.stringify(gw.publicJwk)));
      expectRefused(await post(a, req, hs), 'GRANT_INVALID', 'algorithm');
      const none = new UnsecuredJWT({ ...claims, jti: randomUUID() }).encode();
      expectRefused(await post(a, req, none), 'GRANT_INVALID', 'algorithm');
      const noSub = await gw.sign({ iss: 'accord-gateway', aud: 'node-a', grp: [], fp: 'f'.repeat(64), rho: 0.1, delta: 0, per: new Date().toISOString(), jti: 'x', iat: now, exp: now + 60 });
      expectRefused(await post(a, req, noSub), 'GRANT_INVALID', 'claims');
    });

    it('refuses a grant whose fingerprint names another request', async () => {
      const granted = request('fp-1');
      const grant = await gw.grantFor(granted, { aud: 'node-a' });
      expectRefused(await post(a, request('fp-1', { groupBy: ['COUNTRY'] }), grant), 'GRANT_INVALID', 'fingerprint');
      expectRefused(await post(a, request('fp-1', { filter: { sectors: ['energy', 'water', 'defense-industrial-base'] } }), grant), 'GRANT_INVALID', 'fingerprint');
      expectRefused(await post(a, request('fp-2'), grant), 'GRANT_INVALID', 'fingerprint');
    });

    it('accepts a reservation time within the grant lifetime only', async () => {
      const req = request('reserved-at');
      expect(ok(await post(a, req, await gw.grantFor(req, { aud: 'node-a', per: new Date(Date.now() - 2000).toISOString() })))).toBe(true);
      expectRefused(await post(a, req, await gw.grantFor(req, { aud: 'node-a', per: '2020-01' })), 'GRANT_INVALID', 'claims');
      expectRefused(await post(a, req, await gw.grantFor(req, { aud: 'node-a', per: '2020-01-01T00:00:00.000Z' })), 'GRANT_INVALID', 'reserved-at');
      expectRefused(await post(a, req, await gw.grantFor(req, { aud: 'node-a', per: '2999-12-01T00:00:00.000Z' })), 'GRANT_INVALID', 'reserved-at');
    });

    it('refuses a replayed grant', async () => {
      const req = request('replay');
      const grant = await gw.grantFor(req, { aud: 'node-a' });
      expect(ok(await post(a, req, grant))).toBe(true);
      expectRefused(await post(a, req, grant), 'GRANT_INVALID', 'replay');
      expectRefused(await post(a, req, grant), 'GRANT_INVALID', 'replay');
    });

    it('lets exactly one of several concurrent uses of one grant through', async () => {
      for (let round = 0; round < 3; round++) {
        const req = request(`replay-race-${round}`);
        const grant = await gw.grantFor(req, { aud: 'node-a', sub: 'racer' });
        const replies = await Promise.all(Array.from({ length: 8 }, () => post(a, req, grant)));
        expect(replies.filter(ok)).toHaveLength(1);
        for (const r of replies.filter((r) => !ok(r))) expectRefused(r, 'GRANT_INVALID', 'replay');
      }
      const ledger = await operator(a, '/ledger');
      const racer = ledger.body.members.find((m: { member: string }) => m.member === 'racer');
      expect(racer).toMatchObject({ rhoSpent: rhoFromUnits(3 * rhoChargeUnits(0.1)), charges: 3 });
    });

    it('applies the sharing rules and names the refusing rule', async () => {
      const all = request('rules-all', { filter: undefined });
      const denied = expectRefused(await post(a, all, await gw.grantFor(all, { aud: 'node-a', sub: 'outsider', grp: ['eu'] })), 'POLICY_DENIED', undefined, []);
      expect(detailsOf(denied)).toEqual({ rule: 'defence-alliance-only' });
      expect(denied.message).toContain('defence-alliance-only');
      const mixed = request('rules-mixed', { filter: { sectors: ['energy', 'defense-industrial-base'] } });
      expect(detailsOf(expectRefused(await post(a, mixed, await gw.grantFor(mixed, { aud: 'node-a', sub: 'outsider' })), 'POLICY_DENIED'))).toEqual({ rule: 'defence-alliance-only' });
      // requests that cannot touch the sector pass; alliance members and allow-listed members pass
      const energy = request('rules-energy', { filter: { sectors: ['energy'] } });
      expect(ok(await post(a, energy, await gw.grantFor(energy, { aud: 'node-a', sub: 'outsider' })))).toBe(true);
      expect(ok(await post(a, all, await gw.grantFor(all, { aud: 'node-a', sub: 'ally', grp: ['eu', 'nato'] })))).toBe(true);
      expect(ok(await post(a, all, await gw.grantFor(all, { aud: 'node-a', sub: 'trusted-partner' })))).toBe(true);
      // a deny list applies to every request, whatever the groups
      const banned = expectRefused(await post(a, energy, await gw.grantFor(energy, { aud: 'node-a', sub: 'banned-member', grp: ['nato'] })), 'POLICY_DENIED');
      expect(detailsOf(banned)).toEqual({ rule: 'no-banned-member' });
      // refused members were charged nothing
      const ledger = await operator(a, '/ledger');
      const members = ledger.body.members.map((m: { member: string }) => m.member);
      expect(members).toContain('outsider'); // charged once, for the energy-only request
      expect(members).not.toContain('banned-member');
      const outsider = ledger.body.members.find((m: { member: string }) => m.member === 'outsider');
      expect(outsider.charges).toBe(1);
    });

    it('charges its own ledger and refuses once the member cap is reached, whatever the gateway says', async () => {
      // capped-member: 0.5 ρ per period; each grant charges 0.125 (exact in binary) → exactly 4 answers
      const results: Reply[] = [];
      for (let i = 0; i < 6; i++) {
        const req = request(`cap-${i}`);
        results.push(await post(a, req, await gw.grantFor(req, { aud: 'node-a', sub: 'capped-member', rho: 0.125 })));
      }
      expect(results.map(ok)).toEqual([true, true, true, true, false, false]);
      const err = expectRefused(results[4]!, 'NODE_BUDGET_EXHAUSTED', undefined, ['365', '0']);
      expect(detailsOf(err)).toEqual({ scope: 'member', horizonDays: 365, remainingRho: 0 });
      // the refusal consumed nothing: the member's spend is exactly the cap
      const ledger = await operator(a, '/ledger');
      expect(ledger.status).toBe(200);
      const row = ledger.body.members.find((m: { member: string }) => m.member === 'capped-member');
      expect(row).toEqual({ member: 'capped-member', rhoSpent: 0.5, deltaSpent: 0, capRho: 0.5, remainingRho: 0, charges: 4 });
      // a smaller charge that still fits is admitted; the remaining budget is stated for this member only
      const other = request('cap-other');
      expect(ok(await post(a, other, await gw.grantFor(other, { aud: 'node-a', sub: 'other-member', rho: 0.875 })))).toBe(true);
      const over = request('cap-over');
      const overErr = expectRefused(await post(a, over, await gw.grantFor(over, { aud: 'node-a', sub: 'other-member', rho: 0.25 })), 'NODE_BUDGET_EXHAUSTED', undefined, ['365', '0.125']);
      expect(detailsOf(overErr)).toMatchObject({ scope: 'member', remainingRho: 0.125 });
      expect(overErr.message).not.toContain('capped-member');
    });

    it('never lets concurrent requests overspend a member cap (50 concurrent, cap allows 6)', async () => {
      // 0.7 ρ of cap, charges of 0.1 ρ: the double 0.1 is slightly above one tenth, so each charge
      // is one pico-ρ more than 10¹¹ and six fit, not seven
      const fits = Math.floor(rhoCapUnits(0.7) / rhoChargeUnits(0.1));
      expect(fits).toBe(6);
      const reqs = Array.from({ length: 50 }, (_, i) => request(`burst-${i}`));
      const grants = await Promise.all(reqs.map((r) => gw.grantFor(r, { aud: 'node-a', sub: 'burst-member', rho: 0.1, delta: 1e-9 })));
      const replies = await Promise.all(reqs.map((r, i) => post(a, r, grants[i])));
      expect(replies.filter(ok)).toHaveLength(fits);
      for (const r of replies.filter((r) => !ok(r))) expectRefused(r, 'NODE_BUDGET_EXHAUSTED', undefined, ['365', String(rhoFromUnits(rhoCapUnits(0.7) - fits * rhoChargeUnits(0.1)))]);
      const knex = knexOf(a.orm);
      const rows = await queryRows<{ rho_spent: unknown; delta_spent: unknown }>(knex, dialectOf(a.orm), 'select sum("rho") as "rho_spent", sum("delta") as "delta_spent" from "grant_charge" where "member" = ?', ['burst-member']);
      expect(rows.map((r) => Number(r.rho_spent))).toEqual([fits * rhoChargeUnits(0.1)]);
      expect(Number(rows[0]!.delta_spent)).toBe(fits * deltaChargeUnits(1e-9));
      const charges = await queryRows<{ n: unknown; s: unknown }>(knex, dialectOf(a.orm), 'select count(*) as "n", sum("rho") as "s" from "grant_charge" where "member" = ?', ['burst-member']);
      expect(Number(charges[0]!.n)).toBe(fits);
      expect(Number(charges[0]!.s)).toBe(fits * rhoChargeUnits(0.1));
    });

    it('enforces a node-wide cap across members, also under concurrency, without naming numbers', async () => {
      const c = await start('node-c', 'c', { nodeCapRho: 0.375, memberCapRho: 1 });
      const reqs = Array.from({ length: 50 }, (_, i) => request(`node-cap-${i}`));
      const replies = await Promise.all(reqs.map(async (r, i) => post(c, r, await gw.grantFor(r, { aud: 'node-c', sub: `member-${i % 5}`, rho: 0.0625 }))));
      expect(replies.filter(ok)).toHaveLength(6);
      for (const r of replies.filter((r) => !ok(r))) {
        const err = expectRefused(r, 'NODE_BUDGET_EXHAUSTED', undefined, ['365']);
        expect(detailsOf(err)).toEqual({ scope: 'node', horizonDays: 365 });
      }
      const ledger = await operator(c, '/ledger');
      const period = ledger.body;
      expect(period.node).toEqual({ rhoSpent: 0.375, deltaSpent: 0, capRho: 0.375, remainingRho: 0 });
      const memberSum = period.members.reduce((s: number, m: { rhoSpent: number }) => s + rhoChargeUnits(m.rhoSpent), 0);
      expect(rhoFromUnits(memberSum)).toBe(0.375);
    });

    it('remembers used grants and charges across a restart', async () => {
      const req = request('durable');
      const grant = await gw.grantFor(req, { aud: 'node-d', sub: 'durable-member', rho: 0.25 });
      const d1 = await start('node-d', 'd');
      expect(ok(await post(d1, req, grant))).toBe(true);
      await d1.close();
      const d2 = await start('node-d', 'd');
      expectRefused(await post(d2, req, grant), 'GRANT_INVALID', 'replay');
      const ledger = await operator(d2, '/ledger');
      expect(ledger.body.members).toEqual([{ member: 'durable-member', rhoSpent: 0.25, deltaSpent: 0, capRho: 1, remainingRho: 0.75, charges: 1 }]);
    });

    it('logs every refusal with its code in the contribution log', async () => {
      const { body } = await operator(a, '/contributions?limit=1000');
      const outcomes = new Set((body.contributions as { outcome: string }[]).map((c) => c.outcome));
      for (const code of ['ANSWERED', 'GRANT_INVALID', 'POLICY_DENIED', 'NODE_BUDGET_EXHAUSTED']) expect(outcomes, code).toContain(code);
    });

    it('serves the ledger to the operator only', async () => {
      expect((await operator(a, '/ledger', 'wrong-token-wrong-token')).status).toBe(401);
      expect((await fetch(new URL('/ledger', a.url))).status).toBe(404);
    });
  });
}

suite(sqliteBackend);
if (PG_URL) suite(() => postgresBackend(PG_URL));
else {
  describe('grants on PostgreSQL', () => {
    it.skip('skipped: set ACCORD_TEST_PG_URL to run the PostgreSQL suite', () => {});
  });
}

describe('grant posture and configuration', () => {
  const capture = (): { logger: ReturnType<typeof pino>; lines: () => Record<string, unknown>[] } => {
    const out: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void out.push(s) });
    return { logger, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
  };
  const req: ContributionRequest = { queryId: 'posture', measure: 'INCIDENTS', groupBy: [], bounds: { maxPartitions: 1, maxPerPartition: 1 } };

  it('without gateway keys refuses every contribution and says why at startup', async () => {
    const dir = tempDir();
    const { logger, lines } = capture();
    const node = await createNode({ id: 'no-keys', dataDir: dir, operatorToken: TOKEN, logger });
    try {
      expect(lines().some((l) => l.event === 'grants-unconfigured' && String(l.msg).includes('--gateway-jwks'))).toBe(true);
      const gw = await createGatewayKey();
      expectRefused(await post(node, req, await gw.grantFor(req, { aud: 'no-keys' })), 'GRANT_INVALID', 'not-configured');
      expectRefused(await post(node, req), 'GRANT_INVALID', 'not-configured');
    } finally {
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with grants explicitly disabled answers without a grant and warns loudly', async () => {
    const dir = tempDir();
    const { logger, lines } = capture();
    const node = await createNode({ id: 'insecure', dataDir: dir, operatorToken: TOKEN, grants: 'disabled', logger });
    try {
      const warning = lines().find((l) => l.event === 'grants-disabled');
      expect(warning?.level).toBe(40);
      expect(String(warning?.msg)).toContain('INSECURE');
      expect(ok(await post(node, req))).toBe(true);
    } finally {
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fetches the gateway keys from a JWKS URL', async () => {
    const dir = tempDir();
    const gw = await createGatewayKey();
    let fetches = 0;
    const server = createServer((_, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(gw.jwks));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
    const node = await createNode({ id: 'remote-keys', dataDir: dir, operatorToken: TOKEN, gatewayJwks: url, logLevel: 'silent' });
    try {
      expect(ok(await post(node, req, await gw.grantFor(req, { aud: 'remote-keys' })))).toBe(true);
      expect(fetches).toBe(1);
      const stranger = await createGatewayKey();
      expectRefused(await post(node, req, await stranger.grantFor(req, { aud: 'remote-keys' })), 'GRANT_INVALID', 'signature');
    } finally {
      await node.close();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('picks up a rotated key written to the JWKS file without a restart', async () => {
    const dir = tempDir();
    const first = await createGatewayKey('k1');
    const second = await createGatewayKey('k2');
    const file = first.writeJwks(dir);
    const node = await createNode({ id: 'rotating', dataDir: dir, operatorToken: TOKEN, gatewayJwks: file, logLevel: 'silent' });
    try {
      expectRefused(await post(node, req, await second.grantFor(req, { aud: 'rotating' })), 'GRANT_INVALID', 'signature');
      await new Promise((r) => setTimeout(r, 1100));
      writeFileSync(file, JSON.stringify({ keys: [first.publicJwk, second.publicJwk] }));
      expect(ok(await post(node, req, await second.grantFor(req, { aud: 'rotating' })))).toBe(true);
      expect(ok(await post(node, req, await first.grantFor(req, { aud: 'rotating' })))).toBe(true);
    } finally {
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start with a bad JWKS file or sharing rules file', async () => {
    const dir = tempDir();
    const gw = await createGatewayKey();
    const jwks = gw.writeJwks(dir);
    const write = (name: string, doc: unknown): string => {
      const f = join(dir, name);
      writeFileSync(f, typeof doc === 'string' ? doc : JSON.stringify(doc));
      return f;
    };
    const base = { id: 'bad-files', dataDir: dir, operatorToken: TOKEN, logLevel: 'silent' };
    try {
      await expect(createNode({ ...base, gatewayJwks: write('empty.jwks.json', { keys: [] }) })).rejects.toMatchObject({ code: 'CONFIG_INVALID', details: { field: 'gatewayJwks' } });
      await expect(createNode({ ...base, gatewayJwks: write('private.jwks.json', { keys: [{ ...gw.publicJwk, d: 'secret' }] }) })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
      const unknownSector = write('r1.json', { rules: [{ id: 'r', sectors: ['defence'], allowGroups: ['nato'] }] });
      await expect(createNode({ ...base, gatewayJwks: jwks, sharingRules: unknownSector })).rejects.toMatchObject({ code: 'CONFIG_INVALID', details: { rule: 'r', sector: 'defence' } });
      // also without keys: a broken rules file is found at startup, not at the first request
      await expect(createNode({ ...base, sharingRules: unknownSector })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
      await expect(createNode({ ...base, gatewayJwks: jwks, sharingRules: write('r2.json', '{not json') })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
      await expect(createNode({ ...base, gatewayJwks: jwks, sharingRules: join(dir, 'absent.json') })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sharing rules file validation', () => {
  const err = (doc: unknown): string => {
    try {
      parseSharingRules(doc);
    } catch (e) {
      return (e as Error).message;
    }
    return 'accepted';
  };

  it('accepts the documented format', () => {
    const rules = parseSharingRules(RULES);
    expect(rules.rules.map((r) => r.id)).toEqual(['defence-alliance-only', 'no-banned-member']);
    expect(rules.memberCaps['capped-member']).toEqual({ rho: 0.5 });
    expect(parseSharingRules({})).toEqual({ rules: [], memberCaps: {} });
  });

  it('rejects unknown sectors, unknown keys, duplicate ids, rules that restrict nobody and bad caps', () => {
    expect(err({ rules: [{ id: 'x', sectors: ['defence'], allowGroups: [] }] })).toContain('unknown sector "defence"');
    expect(err({ rules: [{ id: 'x', sectors: [], allowGroups: [] }] })).toContain('non-empty');
    expect(err({ rules: [{ id: 'x', sector: ['energy'], allowGroups: [] }] })).toContain('unknown key "sector"');
    expect(err({ rule: [] })).toContain('Unknown key "rule"');
    expect(err({ rules: [{ id: 'x', denyMembers: ['a'] }, { id: 'x', denyMembers: ['b'] }] })).toContain('used twice');
    expect(err({ rules: [{ id: 'x', sectors: ['energy'] }] })).toContain('restricts nobody');
    expect(err({ rules: [{ id: 'bad id', denyMembers: ['a'] }] })).toContain('id must be');
    expect(err({ memberCaps: { m: { rho: -1 } } })).toContain('from 0 to');
    expect(err({ memberCaps: { m: 0.5 } })).toContain('must be { "rho": number }');
    expect(err([])).toContain('JSON object');
  });
});

describe('ledger units on the node', () => {
  it('charges a gateway grant at least what the gateway recorded, at most one unit more', () => {
    // the gateway records U units and signs the double nearest to U units
    for (const x of [0.1, 0.05, 0.04999996185305646, 1 / 3, 2.5e-7, 49.99]) {
      const recorded = rhoChargeUnits(x);
      const charged = rhoChargeUnits(rhoFromUnits(recorded));
      expect(charged - recorded).toBeGreaterThanOrEqual(0);
      expect(charged - recorded).toBeLessThanOrEqual(1);
    }
  });
});
