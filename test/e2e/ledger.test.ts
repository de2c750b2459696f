/**
 * The ledger under real processes (dist/gateway/main.js), over real HTTP on 127.0.0.1:
 *
 * - concurrency: 200 concurrent distinct queries from four members against one node whose cap
 *   allows exactly N of them — through one gateway on SQLite, and through two gateway processes
 *   sharing one PostgreSQL database (ACCORD_TEST_PG_URL; a fresh schema per run, dropped after).
 *   Exactly N succeed, every other one is BUDGET_EXHAUSTED without reaching the node, and the
 *   ledger holds exactly N charges.
 * - crash: the gateway is SIGKILLed after its reservation committed and before the node answered;
 *   after a restart on the same database the reservation is still there and still charged.
 * - SIGHUP reloads policies; an invalid file is refused and the old policies stay in force.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG } from '../../gateway/config.js';
import { Ledger } from '../../gateway/ledger/ledger.js';
import { Budgets, resolveBudgets } from '../../gateway/ledger/budgets.js';
import { openGatewayOrm } from '../../gateway/ledger/orm.js';
import { chargeUnits, fromUnits } from '../../gateway/ledger/units.js';
import { planAggregate } from '../../gateway/aggregate/plan.js';
import { ALLOW_ALL, makeAccessFixture, TEST_MEMBERS, type AccessFixture } from '../helpers/access.js';
import { startStubNode, type StubNode } from '../helpers/stub-node.js';
import { GATEWAY_MAIN, startProcess, stopProcess, waitListening, type Proc } from './helpers.js';

const PG_URL = process.env.ACCORD_TEST_PG_URL;
if (!PG_URL) console.log('ACCORD_TEST_PG_URL is not set: the PostgreSQL ledger tests are skipped (the SQLite ones run).');
const DIALECTS = ['sqlite', ...(PG_URL ? ['postgresql'] : [])] as const;
type DialectName = (typeof DIALECTS)[number];

const CHARGE_UNITS = chargeUnits(planAggregate({ groupBy: ['COUNTRY'] }, { privacy: DEFAULT_CONFIG.privacy, defaultQuorum: 'STRICT', maxCells: 5000 }).zcdp);
const CHARGE = fromUnits(CHARGE_UNITS).rho;
const MEMBER_IDS = TEST_MEMBERS.filter((m) => m.tlpCeiling === 'AMBER').map((m) => m.id).concat('green-analyst');

interface Db {
  db: string;
  pgSchema?: string;
  drop(): Promise<void>;
}

/** A fresh ledger database: a SQLite file in the fixture folder, or a fresh PostgreSQL schema. */
async function freshDb(dialect: DialectName, fx: AccessFixture): Promise<Db> {
  if (dialect === 'sqlite') return { db: join(fx.dir, 'ledger.sqlite'), drop: async () => undefined };
  const schema = `accord_test_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  return {
    db: PG_URL!,
    pgSchema: schema,
    drop: async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        await client.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

function dbArgs(d: Db): string[] {
  return ['--db', d.db, ...(d.pgSchema ? ['--pg-schema', d.pgSchema] : [])];
}

async function startGateway(name: string, fx: AccessFixture, nodesFile: string, d: Db, extra: string[] = []): Promise<{ proc: Proc; url: string }> {
  const proc = startProcess(name, GATEWAY_MAIN, [
    '--port', '0',
    '--nodes', nodesFile,
    '--refresh-ms', '0',
    '--node-timeout-ms', '60000',
    '--log-level', 'warn',
    ...fx.cliArgs(),
    ...dbArgs(d),
    ...extra,
  ]);
  return { proc, url: (await waitListening(proc, 60_000)).url };
}

/** Reads the ledger database directly (the gateways may be stopped). */
async function readLedger(d: Db) {
  const orm = await openGatewayOrm({ db: d.db, ...(d.pgSchema ? { pgSchema: d.pgSchema } : {}) });
  const ledger = await Ledger.open(orm, () => new Budgets(resolveBudgets({})));
  try {
    return { accounts: await ledger.accountsOf(), reservations: await ledger.reservations() };
  } finally {
    await ledger.close();
  }
}

async function post(url: string, token: string, query: string, variables?: Record<string, unknown>) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as { data?: any; errors?: Array<{ message: string; extensions?: Record<string, any> }> } };
}

const QUERY = 'query Q($filter: PatternFilter) { crossBorderPattern(groupBy: [COUNTRY], filter: $filter) { queryId cached cells { country value } } }';
/** The i-th distinct question (the window end moves; the truth does not). */
const question = (i: number) => ({ filter: { countries: ['FR'], from: '2024-01-01', to: new Date(Date.UTC(2025, 0, 1 + i)).toISOString().slice(0, 10) } });

let node: StubNode;
let procs: Proc[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  node = await startStubNode({ id: 'cert-x', planted: [{ country: 'FR', sector: 'energy', count: 12, date: '2024-06-15' }] });
});
afterEach(async () => {
  await Promise.all(procs.map((p) => stopProcess(p, 'SIGTERM', 5_000)));
  procs = [];
  for (const c of cleanups.splice(0)) await c();
  node.behave({ delayMs: 0 });
});
afterAll(async () => {
  await node?.close();
});

async function setup(dialect: DialectName, budgets: Parameters<typeof makeAccessFixture>[0]['budgets'], policies = ALLOW_ALL) {
  const fx = await makeAccessFixture({ budgets, policies });
  const d = await freshDb(dialect, fx);
  cleanups.push(async () => {
    await d.drop();
    fx.remove();
  });
  const nodesFile = join(fx.dir, 'nodes.json');
  writeFileSync(nodesFile, JSON.stringify([{ id: 'cert-x', name: 'CERT-X', kind: 'national-cert', url: node.url }]));
  const tokens = Object.fromEntries(await Promise.all(MEMBER_IDS.map(async (m) => [m, await fx.token(m)] as const)));
  return { fx, d, nodesFile, tokens };
}

describe.each(DIALECTS)('concurrency on %s', (dialect) => {
  const GATEWAYS = dialect === 'postgresql' ? 2 : 1;
  const QUERIES = 200;
  const N = 37;

  test(`${QUERIES} concurrent queries from ${MEMBER_IDS.length} members through ${GATEWAYS} gateway process(es): exactly ${N} fit the node's cap`, async () => {
    node.requests.length = 0;
    const { fx, d, nodesFile, tokens } = await setup(dialect, { nodeCap: { rho: (N + 0.5) * CHARGE }, allocation: { rho: 1000 } });
    const gateways = [];
    for (let g = 0; g < GATEWAYS; g++) {
      const gw = await startGateway(`gateway-${g}`, fx, nodesFile, d);
      procs.push(gw.proc);
      gateways.push(gw);
    }
    // warm every replica's request path (authentication, policy, GraphQL) with a free query, so a
    // cold replica does not lose the whole burst to a warm one under load
    for (const gw of gateways) expect((await post(gw.url, tokens[MEMBER_IDS[0]!]!, '{ me { id } }')).status).toBe(200);
    const results = await Promise.all(
      Array.from({ length: QUERIES }, (_, i) => post(gateways[i % GATEWAYS]!.url, tokens[MEMBER_IDS[i % MEMBER_IDS.length]!]!, QUERY, question(i))),
    );
    const ok = results.filter((r) => r.status === 200 && !r.body.errors);
    const refused = results.filter((r) => r.status !== 200 || r.body.errors);
    expect(ok).toHaveLength(N);
    expect(ok.every((r) => r.body.data.crossBorderPattern.cached === false)).toBe(true);
    for (const r of refused) {
      expect(r.status, r.text).toBe(429);
      expect(r.body.errors![0]!.extensions!.code).toBe('BUDGET_EXHAUSTED');
      expect(r.body.errors![0]!.extensions!.exhausted).toEqual([{ node: 'cert-x', ledger: 'NODE' }]);
    }
    // refused queries never reached the node
    expect(node.requests).toHaveLength(N);
    if (GATEWAYS > 1) {
      // both replicas admitted some of them
      const per = gateways.map((_, g) => results.filter((r, i) => i % GATEWAYS === g && r.status === 200).length);
      expect(per.every((n) => n > 0)).toBe(true);
    }
    await Promise.all(procs.map((p) => stopProcess(p, 'SIGTERM', 5_000)));
    procs = [];
    const { accounts, reservations } = await readLedger(d);
    const nodeAccount = accounts.find((a) => a.id === `NODE|cert-x`)!;
    expect(nodeAccount.spent.rho).toBe(N * CHARGE_UNITS.rho);
    const memberSum = accounts.filter((a) => a.id.startsWith('MEMBER|')).reduce((s, a) => s + a.spent.rho, 0);
    expect(memberSum).toBe(N * CHARGE_UNITS.rho);
    expect(reservations).toHaveLength(N);
    expect(reservations.every((r) => r.status === 'ANSWERED' && r.rho === CHARGE_UNITS.rho && r.nodes.join() === 'cert-x')).toBe(true);
    expect(new Set(reservations.map((r) => r.queryId)).size).toBe(N);
  }, 180_000);
});

describe.each(DIALECTS)('crash on %s', (dialect) => {
  test('SIGKILL after the reservation and before the answer: after a restart the reservation is there and still charged', async () => {
    const { fx, d, nodesFile, tokens } = await setup(dialect, { nodeCap: { rho: 10 }, allocation: { rho: 10 } });
    const first = await startGateway('gateway', fx, nodesFile, d);
    procs.push(first.proc);
    node.behave({ delayMs: 30_000 });
    const arrived = node.nextRequest();
    const pending = post(first.url, tokens['eu-analyst']!, QUERY, question(1_000)).catch((e: unknown) => e);
    await arrived; // the contribution request left the gateway: its reservation had committed
    first.proc.child.kill('SIGKILL');
    expect((await first.proc.exited).signal).toBe('SIGKILL');
    expect(await pending).toBeInstanceOf(Error); // the client never got an answer
    procs = [];

    const crashed = await readLedger(d);
    expect(crashed.reservations).toHaveLength(1);
    expect(crashed.reservations[0]).toMatchObject({ member: 'eu-analyst', status: 'RESERVED', rho: CHARGE_UNITS.rho, nodes: ['cert-x'] });
    expect(crashed.accounts.find((a) => a.id === `NODE|cert-x`)!.spent.rho).toBe(CHARGE_UNITS.rho);

    node.behave({ delayMs: 0 });
    const second = await startGateway('gateway-restarted', fx, nodesFile, d);
    procs.push(second.proc);
    const budget = await post(second.url, tokens['eu-analyst']!, '{ myBudget { node spent { rho } } }');
    expect(budget.body.data.myBudget).toEqual([{ node: 'cert-x', spent: { rho: CHARGE } }]);
    // the same question again is a fresh answer (nothing was cached) and is charged again
    const again = await post(second.url, tokens['eu-analyst']!, QUERY, question(1_000));
    expect(again.body.errors, again.text).toBeUndefined();
    expect(again.body.data.crossBorderPattern.cached).toBe(false);
    const after = await post(second.url, tokens['eu-analyst']!, '{ myBudget { spent { rho } } }');
    expect(after.body.data.myBudget[0].spent.rho).toBeCloseTo(2 * CHARGE, 12);
    const { reservations } = await readLedger(d);
    expect(reservations.map((r) => r.status).sort()).toEqual(['ANSWERED', 'RESERVED']);
  }, 120_000);
});

describe('SIGHUP', () => {
  test('reloads the policies; an invalid file is refused and the old policies stay in force', async () => {
    const { fx, d, nodesFile, tokens } = await setup('sqlite', undefined);
    const gw = await startGateway('gateway', fx, nodesFile, d);
    procs.push(gw.proc);
    const ask = (i: number) => post(gw.url, tokens['eu-analyst']!, QUERY, question(2_000 + i));
    expect((await ask(0)).status).toBe(200);

    fx.writePolicies(`${ALLOW_ALL}@id("broken") forbid (principal, action, resource) when { context.sectorsTouched.contains("defence") };\n`);
    gw.proc.child.kill('SIGHUP');
    const refused = JSON.parse(await gw.proc.waitForLine((l) => l.includes('"event":"reload"'), 10_000));
    expect(refused.ok).toBe(false);
    expect(refused.errors.join(' ')).toMatch(/"defence" is not a sector id/);
    expect((await ask(1)).status).toBe(200);

    fx.writePolicies(`${ALLOW_ALL}@id("no-fr") forbid (principal, action, resource) when { context.filter.countries.contains("FR") };\n`);
    const before = gw.proc.stdout.length;
    gw.proc.child.kill('SIGHUP');
    const applied = JSON.parse(await gw.proc.waitForLine((l) => l.includes('"event":"reload"') && gw.proc.stdout.indexOf(l) >= before, 10_000));
    expect(applied).toMatchObject({ ok: true, version: 2, errors: [] });
    const denied = await ask(2);
    expect(denied.status).toBe(403);
    expect(denied.body.errors![0]!.extensions).toMatchObject({ code: 'POLICY_DENIED', rule: 'no-fr' });
  }, 60_000);
});
