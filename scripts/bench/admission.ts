/**
 * Admission overhead benchmark: queries per second through the gateway (real HTTP on 127.0.0.1)
 *
 *   cache hit            the same question again: authentication, policy, one cache read;
 *   fresh, admission on  a question never asked before, 3 nodes: policy (Cedar), answer-cache miss,
 *                        atomic reservation on 6 ledgers, reservation + answer written after;
 *   fresh, admission off the same federation and query stream with the policy and the ledger
 *                        replaced by no-op components injected into createGateway (`admission`
 *                        option; not reachable from the CLI) — no decision, no cache, no reservation.
 *
 * Two fresh streams: "typical" questions differ in their date window only, which no policy reads,
 * so the policy decision memo answers; "worst case" questions differ in their sector filter, which
 * the demo policies read, so every query costs three uncached Cedar decisions.
 *
 * Authentication (member JWT) and signed grants stay on in every variant. Target: policy + ledger
 * cost ≤ 20% of the fresh-answer throughput, i.e. fresh(on) ≥ 0.8 × fresh(off).
 *
 * The nodes are light stub nodes (they publish the contract SDL and answer every contribution with
 * a fixed valid partial), so the gateway — not node SQL — is the bottleneck and the overhead is
 * measured where it is largest. Each gateway runs in its own process (this file, started with
 * `--role gateway`), the stub nodes in another (`--role stub-nodes`), and the load generator
 * (keep-alive HTTP, BENCH_ADMISSION_CONCURRENCY requests in flight) in the benchmark's process. Variants alternate for BENCH_ADMISSION_ROUNDS rounds of BENCH_ADMISSION_SECONDS each
 * (medians reported), to spread the machine's noise evenly. The ledger is SQLite in a temporary
 * folder (the embedded default).
 *
 * It also times the two admission components alone: one uncached Cedar decision, and one
 * reservation + answer store on the SQLite ledger.
 *
 * Environment: BENCH_ADMISSION_SECONDS (3), BENCH_ADMISSION_ROUNDS (5), BENCH_ADMISSION_CONCURRENCY (8);
 * BENCH_ADMISSION=none skips it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { graphql, parse } from 'graphql';
import { pino } from 'pino';
import { CONTRIBUTION_SDL, type ContributionRequest } from '../../schema/contract/index.js';
import { createGateway } from '../../gateway/app.js';
import { devIssuerFiles, ensureDevIssuer, mintToken } from '../../gateway/auth/dev-issuer.js';
import { DEFAULT_CONFIG } from '../../gateway/config.js';
import type { LedgerPort, PolicyPort } from '../../gateway/admission/gate.js';
import { Budgets, resolveBudgets } from '../../gateway/ledger/budgets.js';
import { answerCacheKey, Ledger } from '../../gateway/ledger/ledger.js';
import { openGatewayOrm } from '../../gateway/ledger/orm.js';
import { chargeUnits } from '../../gateway/ledger/units.js';
import { planAggregate } from '../../gateway/aggregate/plan.js';
import { policyContext } from '../../gateway/admission/policy-context.js';
import { DEMO_MEMBERS, DEMO_POLICIES } from '../../gateway/policy/defaults.js';
import { compilePolicies, PolicyEngine } from '../../gateway/policy/engine.js';
import { SECTOR_IDS } from '../../schema/reference/index.js';

const TARGET_OVERHEAD = 0.2;
const NODES = [
  { id: 'cert-de', kind: 'national-cert', country: 'DE' },
  { id: 'cert-fr', kind: 'national-cert', country: 'FR' },
  { id: 'isac-energy', kind: 'sector-isac', region: 'Europe' },
];
const MEMBER = DEMO_MEMBERS[0]!; // a national CERT allowed on every node by the demo policies

export interface AdmissionBenchOptions {
  seconds: number;
  rounds: number;
  concurrency: number;
}

export interface AdmissionBenchResult {
  options: AdmissionBenchOptions;
  machine: { cores: number; cpu: string; node: string };
  /** Queries per second, median over rounds. */
  cacheHit: number;
  freshOn: number;
  freshOff: number;
  worstOn: number;
  worstOff: number;
  rounds: { cacheHit: number[]; freshOn: number[]; freshOff: number[]; worstOn: number[]; worstOff: number[] };
  /** 1 − freshOn / freshOff (typical stream). */
  overhead: number;
  /** 1 − worstOn / worstOff (every policy decision uncached). */
  worstOverhead: number;
  target: number;
  /** cacheHit / freshOff. */
  cacheSpeedup: number;
  /** One uncached Cedar decision (µs), and one reservation + answer store on SQLite (µs). */
  components: { cedarDecisionUs: number; ledgerReserveAndStoreUs: number };
  errors: number;
}

export function admissionBenchOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): AdmissionBenchOptions | null {
  if (env.BENCH_ADMISSION === 'none') return null;
  const num = (v: string | undefined, d: number) => (v && Number(v) > 0 ? Number(v) : d);
  return { seconds: num(env.BENCH_ADMISSION_SECONDS, 3), rounds: Math.round(num(env.BENCH_ADMISSION_ROUNDS, 5)), concurrency: Math.round(num(env.BENCH_ADMISSION_CONCURRENCY, 8)) };
}

// ---------------------------------------------------------------------------------------------
// Child-process roles: stub nodes, and the gateway (with or without admission components). Each
// prints one JSON line when ready and stops on SIGTERM.

interface GatewayRole {
  admission: 'on' | 'off';
  dir: string;
  nodes: Array<{ id: string; name: string; kind: string; url: string; country?: string; region?: string }>;
}

function ready(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Stub nodes: the contract SDL, and a fixed valid partial (DE, FR) for every contribution request. */
async function runStubNodes(): Promise<void> {
  const urls: string[] = [];
  for (const n of NODES) {
    const typeDefs = parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: [])\n${CONTRIBUTION_SDL}`);
    const resolvers = {
      Query: {
        contribution: (_: unknown, args: { request: ContributionRequest }) => ({
          node: n.id,
          queryId: args.request.queryId,
          units: 20,
          groups: [
            { key: ['DE'], count: 10, sum: null },
            { key: ['FR'], count: 20, sum: null },
          ],
        }),
      },
    };
    const schema = buildSubgraphSchema([{ typeDefs, resolvers: resolvers as never }]);
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { query: string; variables?: Record<string, unknown>; operationName?: string };
        const result = await graphql({ schema, source: body.query, variableValues: body.variables, operationName: body.operationName });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`);
  }
  ready({ urls });
}

const allowAll: PolicyPort = { decide: (_m, nodes) => nodes.map((n) => ({ node: n.id, allowed: true, reason: null, rules: [] })) };
const noLedger: LedgerPort = {
  reserveAll: async (rs) => rs.map(() => ({ reservationId: 'none', reservedAt: new Date().toISOString(), nodes: [], federation: null })),
  cached: async () => null,
  answered: async () => undefined,
  failed: async () => undefined,
  budgetsOf: async () => ({ nodes: [], federation: null }),
};

async function runGateway(d: GatewayRole): Promise<void> {
  const issuer = devIssuerFiles(d.dir);
  const gw = await createGateway({
    port: 0,
    nodes: d.nodes,
    logger: pino({ level: 'warn' }),
    refreshIntervalMs: 0,
    nodeTimeoutMs: 30_000,
    access: {
      dataDir: d.dir,
      jwksFile: issuer.jwksFile,
      members: join(d.dir, 'members.json'),
      policies: join(d.dir, 'policies.cedar'),
      budgets: { nodeCap: { rho: 1_000 }, allocation: { rho: 1_000 } },
      db: join(d.dir, `gateway-${d.admission}.sqlite`),
      signingKey: join(d.dir, 'signing.jwk'),
    },
    ...(d.admission === 'off' ? { admission: { policy: allowAll, ledger: noLedger } } : {}),
  });
  ready({ url: gw.url });
  process.once('SIGTERM', () => void gw.close().then(() => process.exit(0)));
}

const SELF = fileURLToPath(import.meta.url);
const roleArg = process.argv[1] === SELF ? process.argv.indexOf('--role') : -1;
if (roleArg > 0) {
  const role = process.argv[roleArg + 1];
  const start = role === 'stub-nodes' ? runStubNodes() : runGateway(JSON.parse(process.argv[roleArg + 2]!) as GatewayRole);
  start.catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}

// ---------------------------------------------------------------------------------------------
// Main thread: load generation and component timings.

function startRole<T>(args: string[]): Promise<{ child: ChildProcess; ready: T }> {
  const child = spawn(process.execPath, [SELF, '--role', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve({ child, ready: JSON.parse(line) as T }));
    child.once('exit', (code) => reject(new Error(`benchmark ${args[0]} process exited with code ${code}`)));
  });
}

const QUERY = 'query Q($filter: PatternFilter) { crossBorderPattern(groupBy: [COUNTRY], filter: $filter) { queryId cached cells { country value } coverage { complete } } }';
const dayAfter = (i: number) => new Date(Date.UTC(2025, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
/** Question i: typical ones (i ≥ 0) move the window end; worst-case ones (i < 0) change the sector filter. */
function filterOf(i: number): Record<string, unknown> {
  if (i >= 0) return { countries: ['DE', 'FR'], from: '2024-01-01', to: dayAfter(i) };
  const n = -i; // a distinct non-empty subset of the sectors per n
  const sectors = SECTOR_IDS.filter((_, k) => (n >> k) & 1);
  return { countries: ['DE', 'FR'], sectors, from: '2024-01-01', to: '2025-01-01' };
}

/** Runs `concurrency` request loops for `seconds`; returns completed queries per second and errors. */
async function load(url: string, token: string, concurrency: number, seconds: number, next: () => number): Promise<{ rps: number; errors: number; cached: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(url);
  const post = (i: number) =>
    new Promise<{ ok: boolean; cached: boolean }>((resolve) => {
      const body = JSON.stringify({ query: QUERY, variables: { filter: filterOf(i) } });
      const req = http.request(
        { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              const j = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data?: { crossBorderPattern?: { cached: boolean } }; errors?: unknown[] };
              resolve({ ok: res.statusCode === 200 && !j.errors && !!j.data?.crossBorderPattern, cached: !!j.data?.crossBorderPattern?.cached });
            } catch {
              resolve({ ok: false, cached: false });
            }
          });
        },
      );
      req.on('error', () => resolve({ ok: false, cached: false }));
      req.end(body);
    });
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  let errors = 0;
  let cached = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const r = await post(next());
        if (r.ok) done++;
        else errors++;
        if (r.cached) cached++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  return { rps: done / elapsed, errors, cached };
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One uncached Cedar decision under the demo policies (µs), after warm-up. */
function cedarDecisionUs(): number {
  const engine = new PolicyEngine(compilePolicies(DEMO_POLICIES, { memberIds: DEMO_MEMBERS.map((m) => m.id), nodeIds: NODES.map((n) => n.id) }));
  const deps = { privacy: DEFAULT_CONFIG.privacy, defaultQuorum: 'STRICT' as const, maxCells: 5000 };
  const base = policyContext(planAggregate({ groupBy: ['COUNTRY', 'SECTOR'], filter: { countries: ['DE', 'FR'] } }, deps), ['CLEAR', 'GREEN', 'AMBER'], false);
  // distinct in a field the policies read: every decision is a memo miss
  const contexts = Array.from({ length: 3_000 }, (_, i) => ({ ...base, rhoMicro: base.rhoMicro + i }));
  for (const c of contexts.slice(0, 500)) engine.decide(MEMBER, [NODES[0]!], c);
  const measured = contexts.slice(500);
  const t0 = performance.now();
  for (const c of measured) engine.decide(MEMBER, [NODES[0]!], c);
  return ((performance.now() - t0) / measured.length) * 1000;
}

/** One reservation on 3 nodes (6 ledgers) and its answer store, on SQLite (µs). */
async function ledgerUs(dir: string): Promise<number> {
  const orm = await openGatewayOrm({ db: join(dir, 'ledger-timing.sqlite') });
  const ledger = await Ledger.open(orm, () => new Budgets(resolveBudgets({ nodeCap: { rho: 1_000 }, allocation: { rho: 1_000 } })));
  const charge = chargeUnits({ rho: 0.05, delta: 0 });
  const answer = JSON.stringify({ cells: Array.from({ length: 40 }, (_, i) => ({ country: 'DE', value: i })) });
  const n = 2_000;
  const run = async (i: number) => {
    const key = answerCacheKey(`q${i}`, NODES.map((x) => x.id));
    const r = await ledger.reserve({ member: MEMBER.id, nodes: NODES.map((x) => x.id), charge, queryId: `q${i}`, cacheKey: key });
    await ledger.answered(r.reservationId, { cacheKey: key, queryId: `q${i}`, nodes: NODES.map((x) => x.id), answer });
  };
  for (let i = 0; i < 100; i++) await run(i);
  const t0 = performance.now();
  for (let i = 100; i < 100 + n; i++) await run(i);
  const us = ((performance.now() - t0) / n) * 1000;
  await ledger.close();
  return us;
}

export async function runAdmissionBench(o: AdmissionBenchOptions): Promise<AdmissionBenchResult> {
  const dir = mkdtempSync(join(os.tmpdir(), 'accord-bench-admission-'));
  const children: ChildProcess[] = [];
  try {
    const issuer = await ensureDevIssuer(devIssuerFiles(dir));
    writeFileSync(join(dir, 'members.json'), JSON.stringify(DEMO_MEMBERS));
    writeFileSync(join(dir, 'policies.cedar'), DEMO_POLICIES);
    const token = await mintToken({ key: issuer.keyFile, member: MEMBER.id, ttlSeconds: 3600 });
    const stubs = await startRole<{ urls: string[] }>(['stub-nodes']);
    children.push(stubs.child);
    const nodes = NODES.map((n, i) => ({ ...n, name: n.id, url: stubs.ready.urls[i]! }));
    const on = await startRole<{ url: string }>(['gateway', JSON.stringify({ admission: 'on', dir, nodes } satisfies GatewayRole)]);
    children.push(on.child);
    const off = await startRole<{ url: string }>(['gateway', JSON.stringify({ admission: 'off', dir, nodes } satisfies GatewayRole)]);
    children.push(off.child);

    let serial = 0;
    const fresh = () => ++serial;
    let worstSerial = 0;
    const worst = () => -++worstSerial;
    const rounds = { cacheHit: [] as number[], freshOn: [] as number[], freshOff: [] as number[], worstOn: [] as number[], worstOff: [] as number[] };
    let errors = 0;
    // warm-up: JIT, connections, the cached question
    await load(on.ready.url, token, o.concurrency, 1, fresh);
    await load(off.ready.url, token, o.concurrency, 1, fresh);
    await load(on.ready.url, token, 1, 0.2, () => 0);
    for (let r = 0; r < o.rounds; r++) {
      const a = await load(off.ready.url, token, o.concurrency, o.seconds, fresh);
      const b = await load(on.ready.url, token, o.concurrency, o.seconds, fresh);
      const c = await load(on.ready.url, token, o.concurrency, o.seconds, () => 0);
      const d = await load(off.ready.url, token, o.concurrency, o.seconds, worst);
      const e = await load(on.ready.url, token, o.concurrency, o.seconds, worst);
      rounds.freshOff.push(a.rps);
      rounds.freshOn.push(b.rps);
      rounds.cacheHit.push(c.rps);
      rounds.worstOff.push(d.rps);
      rounds.worstOn.push(e.rps);
      errors += a.errors + b.errors + c.errors + d.errors + e.errors;
      if (b.cached > 0 || e.cached > 0) throw new Error('a fresh question was served from the cache; the benchmark is broken');
    }
    const components = { cedarDecisionUs: cedarDecisionUs(), ledgerReserveAndStoreUs: await ledgerUs(dir) };
    const freshOn = median(rounds.freshOn);
    const freshOff = median(rounds.freshOff);
    const cacheHit = median(rounds.cacheHit);
    const worstOn = median(rounds.worstOn);
    const worstOff = median(rounds.worstOff);
    return {
      options: o,
      machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version },
      cacheHit,
      freshOn,
      freshOff,
      worstOn,
      worstOff,
      rounds,
      overhead: 1 - freshOn / freshOff,
      worstOverhead: 1 - worstOn / worstOff,
      target: TARGET_OVERHEAD,
      cacheSpeedup: cacheHit / freshOff,
      components,
      errors,
    };
  } finally {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((res) => {
            if (c.exitCode !== null || c.signalCode !== null) return res();
            c.once('exit', () => res());
            c.kill('SIGTERM');
            setTimeout(() => c.kill('SIGKILL'), 5_000).unref();
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printAdmissionBench(r: AdmissionBenchResult): void {
  const say = (s: string) => console.log(s);
  const q = (x: number) => x.toFixed(0).padStart(6);
  say(`\nAdmission — crossBorderPattern(groupBy: [COUNTRY]) over 3 stub nodes, ${r.options.concurrency} in flight, ${r.options.rounds} × ${r.options.seconds} s per variant (median)`);
  say(`machine: ${r.machine.cores} cores (${r.machine.cpu}), Node ${r.machine.node}; gateway, stub nodes and load generator in separate processes; SQLite ledger`);
  say(`  cache hit (auth + policy + cache read)          ${q(r.cacheHit)} q/s   rounds ${r.rounds.cacheHit.map((x) => x.toFixed(0)).join(', ')}`);
  say(`  fresh answer, policy + ledger on               ${q(r.freshOn)} q/s   rounds ${r.rounds.freshOn.map((x) => x.toFixed(0)).join(', ')}`);
  say(`  fresh answer, policy + ledger off (no-op)      ${q(r.freshOff)} q/s   rounds ${r.rounds.freshOff.map((x) => x.toFixed(0)).join(', ')}`);
  say(`  overhead of policy + ledger on fresh answers   ${(r.overhead * 100).toFixed(1)} % (target ≤ ${(r.target * 100).toFixed(0)} %: ${r.overhead <= r.target ? 'met' : 'missed'})`);
  say(`  worst case: every policy decision uncached     on ${q(r.worstOn)} q/s, off ${q(r.worstOff)} q/s: overhead ${(r.worstOverhead * 100).toFixed(1)} % (${r.worstOverhead <= r.target ? 'met' : 'missed'})`);
  say(`  cache hit ÷ fresh (off)                        ${r.cacheSpeedup.toFixed(2)}×`);
  say(`  components alone: Cedar decision (uncached) ${r.components.cedarDecisionUs.toFixed(0)} µs per (member, node); SQLite reserve on 6 ledgers + answer store ${r.components.ledgerReserveAndStoreUs.toFixed(0)} µs per query`);
  if (r.errors > 0) say(`  failed requests: ${r.errors}`);
}

const isMain = process.argv[1] === SELF && roleArg < 0;
if (isMain) {
  const opts = admissionBenchOptionsFromEnv() ?? { seconds: 3, rounds: 5, concurrency: 8 };
  runAdmissionBench(opts)
    .then((r) => {
      printAdmissionBench(r);
      console.log(`BENCH_JSON ${JSON.stringify({ admission: r })}`);
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}
