/**
 * Federation benchmark: one cross-border query through the gateway over real HTTP on 127.0.0.1,
 * against node processes that each hold a synthetic incident database, compared with the slowest
 * node answering the same contribution request alone.
 *
 * For every federation size (3 and 10 nodes by default) and two windows (91 days and the whole
 * year) it measures, sequentially (one query at a time, after warm-up):
 *
 *   node alone (direct)   `runContribution(orm, request)` in this process on each node's database,
 *                         with the ContributionRequest the gateway sends; the slowest node is the one
 *                         with the highest median in a short screening pass, then measured N times;
 *   node alone (HTTP)     the same request POSTed (CONTRIBUTION_OPERATION) to that node's process;
 *   fan-out w/o gateway   the request POSTed to every node at once, timed until the last answer —
 *                         the floor any gateway can reach on this machine (CPU contention included);
 *   gateway end to end    `crossBorderPattern` POSTed to the gateway process;
 *   gateway @ c           throughput with c queries in flight (secondary figure).
 *
 * The headline ratio is gateway p50 ÷ slowest node alone (direct) p50, target ≤ 1.5. The gap is
 * split into the node's own HTTP/GraphQL layer, CPU contention (fan-out without gateway minus the
 * node alone over HTTP) and the gateway's own overhead (gateway minus fan-out without gateway).
 *
 * Deployment as built: when the gateway has access control (member tokens, policies, budgets,
 * signed grants), the benchmark writes a one-member configuration with budgets far above what it
 * spends, signs its own member token, and gives the nodes the gateway's grant keys; its direct node
 * requests then carry grants signed with the same key, so nodes do the same checks on both paths.
 * When the nodes check grants but the gateway signs none, nodes run with `--insecure-no-grants`.
 *
 * Every measured round asks a question not asked before (the window shifted by one day; see
 * `variantOf`), so an answer cache cannot serve it, while the nodes' work stays the same.
 *
 * Seeded databases are cached under BENCH_CACHE_DIR (default ./data/bench), keyed by generator
 * version, seed, incidents per node and node count; each run copies them into a temporary folder,
 * so the cache stays as seeded. Every started process is stopped at the end, on error and on
 * SIGINT/SIGTERM.
 *
 * Environment: BENCH_NODES (3,10), BENCH_INCIDENTS (100000), BENCH_QUERIES (40), BENCH_SEED
 * (accord-bench), BENCH_CACHE_DIR (./data/bench), BENCH_CONCURRENCY (4), BENCH_THROUGHPUT_SECONDS (8),
 * BENCH_NODE_TIMEOUT_MS (gateway per-node deadline, 30000; the deployed default is 2000),
 * BENCH_NODE_ARGS / BENCH_GATEWAY_ARGS (extra flags, space-separated, for every node / the gateway),
 * BENCH_GATEWAY_NODE_FLAGS (Node.js runtime flags of the gateway process, e.g.
 * `--cpu-prof --cpu-prof-dir=prof` to profile it while it is measured).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { basename, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import {
  CONTRIBUTION_OPERATION,
  GRANT_HEADER,
  GRANT_TYPE,
  contributionFingerprint,
  ledgerPeriod,
  type ContributionRequest,
} from '../../schema/contract/index.js';
import { DEFAULT_CONFIG } from '../../gateway/config.js';
import { planPattern } from '../../gateway/patterns/answer.js';
import type { PatternArgs } from '../../gateway/patterns/query.js';
import { openNodeOrm, runContribution, seedDataset, type NodeOrm } from '../../nodes/index.js';
import { ALL_NODES, federationNodes, generateFederation, type NodeSpec } from '../synth/index.js';

/** Bump when the generator or the seeding changes what a cached database holds. */
const CACHE_VERSION = 1;
const RATIO_TARGET = 1.5;
const SCREEN_RUNS = 5;
const WARMUP = 3;
const READY_TIMEOUT_MS = 120_000;
const REQUEST_TIMEOUT_MS = 300_000;
/**
 * The gateway's per-node deadline in the benchmark. Above the deployed default (2 s) so that the
 * throughput figure measures capacity rather than deadline misses: with 4 queries in flight on
 * 2 cores a node's answer can take longer than 2 s.
 */
const DEFAULT_BENCH_NODE_TIMEOUT_MS = 30_000;
/** Budgets of the benchmark member: far above the ρ = 0.05 × a few hundred queries it spends. */
const BENCH_BUDGET_RHO = 1_000;
const BENCH_MEMBER = { id: 'bench-analyst', name: 'Benchmark analyst', region: 'Europe', groups: ['bench'], tlpCeiling: 'AMBER' };
const BENCH_TOKEN_ISSUER = 'accord-bench-issuer';
const BENCH_TOKEN_AUDIENCE = 'accord-gateway';
const BENCH_GATEWAY_ID = 'accord-gateway';

const here = fileURLToPath(new URL('.', import.meta.url));
const NODE_MAIN = resolve(here, '../../nodes/main.js');
const GATEWAY_MAIN = resolve(here, '../../gateway/main.js');

export interface FederationBenchOptions {
  /** Federation sizes to measure (each ≤ ALL_NODES.length). */
  nodeCounts: number[];
  incidentsPerNode: number;
  /** Measured sequential queries per figure (after warm-up). */
  queries: number;
  seed: string;
  cacheDir: string;
  /** Queries in flight for the throughput figure. */
  concurrency: number;
  throughputSeconds: number;
  /** Gateway per-node deadline (ms). */
  nodeTimeoutMs: number;
  /** Extra flags for every node process and for the gateway process (BENCH_NODE_ARGS, BENCH_GATEWAY_ARGS). */
  nodeArgs: string[];
  gatewayArgs: string[];
  /** Node.js runtime flags for the gateway process (BENCH_GATEWAY_NODE_FLAGS). */
  gatewayNodeFlags: string[];
}

export interface Stat {
  n: number;
  p50: number;
  p95: number;
  mean: number;
  min: number;
  max: number;
}

export interface WindowFigures {
  window: { label: string; from: string; to: string; days: number };
  cells: number;
  queryId: string;
  /** Screening medians of `runContribution` per node (ms), slowest first. */
  perNodeDirectMs: Array<{ node: string; p50: number }>;
  slowestNode: string;
  nodeDirect: Stat;
  nodeHttp: Stat;
  fanout: Stat;
  gateway: Stat & { errors: number };
  /** The gateway's own admission + scatter + gather time per query (its `pattern` log line), ms. */
  gatewayScatterGather: Stat | null;
  /** Per query round, the largest node-side compute time (node log `durationMs`), ms. */
  slowestNodeComputeInFanout: Stat | null;
  slowestNodeComputeInGateway: Stat | null;
  throughput: { concurrency: number; seconds: number; completed: number; errors: number; perSecond: number; latency: Stat | null };
  /** max(slowest node, Σ node medians ÷ min(cores, nodes)): the fan-out floor on this machine, ms. */
  cpuFloorMs: number;
  ratio: number;
  ratioToHttpAlone: number;
  gatewayOverFanout: number;
  gap: { totalMs: number; nodeHttpMs: number; contentionMs: number; gatewayMs: number; contentionShare: number; gatewayShare: number };
  /** 1-minute load average when the window's measurements started (other work on the machine shows here). */
  loadAverage: number;
  /**
   * CPU time (from /proc; null elsewhere) during the interleaved fan-out/gateway rounds: the gateway
   * process per gateway query, and all node processes together per round (one request to every node).
   */
  cpu: { gatewayMsPerQuery: number | null; nodesMsPerRound: number | null };
}

export interface ConfigFigures {
  nodes: number;
  nodeIds: string[];
  incidentsPerNode: number;
  countries: number;
  windows: WindowFigures[];
}

/** How the processes were deployed (what this build of gateway and nodes asks for). */
export interface DeploymentInfo {
  /** The gateway authenticates members, applies policies and budgets, and signs grants. */
  accessControl: boolean;
  /** How nodes treat grants: verified with the gateway's keys, not checked (flag), or not a feature of this build. */
  nodeGrants: 'verified' | 'not checked (--insecure-no-grants)' | 'not supported';
  nodeFlags: string[];
  gatewayFlags: string[];
}

export interface FederationBenchResult {
  machine: { cores: number; cpu: string; memoryGiB: number; node: string; platform: string };
  options: FederationBenchOptions;
  deployment: DeploymentInfo;
  configs: ConfigFigures[];
  targetRatio: number;
}

// ---------------------------------------------------------------------------------------------
// Options

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer`);
  return n;
}

/**
 * Reads the benchmark options from the environment (see the module comment). Throws RangeError for
 * a malformed value. `BENCH_NODES=none` gives an empty `nodeCounts`.
 */
export function federationBenchOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): FederationBenchOptions {
  const nodesRaw = (env.BENCH_NODES ?? '3,10').trim();
  const nodeCounts =
    nodesRaw === 'none' || nodesRaw === '0'
      ? []
      : nodesRaw.split(',').map((s) => {
          const n = Number(s.trim());
          if (!Number.isInteger(n) || n < 1 || n > ALL_NODES.length) throw new RangeError(`BENCH_NODES entries must be integers from 1 to ${ALL_NODES.length}`);
          return n;
        });
  return {
    nodeCounts,
    incidentsPerNode: positiveInt('BENCH_INCIDENTS', env.BENCH_INCIDENTS, 100_000),
    queries: positiveInt('BENCH_QUERIES', env.BENCH_QUERIES, 40),
    seed: env.BENCH_SEED ?? 'accord-bench',
    cacheDir: resolve(env.BENCH_CACHE_DIR ?? './data/bench'),
    concurrency: positiveInt('BENCH_CONCURRENCY', env.BENCH_CONCURRENCY, 4),
    throughputSeconds: positiveInt('BENCH_THROUGHPUT_SECONDS', env.BENCH_THROUGHPUT_SECONDS, 8),
    nodeTimeoutMs: positiveInt('BENCH_NODE_TIMEOUT_MS', env.BENCH_NODE_TIMEOUT_MS, DEFAULT_BENCH_NODE_TIMEOUT_MS),
    nodeArgs: (env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
    gatewayArgs: (env.BENCH_GATEWAY_ARGS ?? '').split(/\s+/).filter(Boolean),
    gatewayNodeFlags: (env.BENCH_GATEWAY_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean),
  };
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

function stat(samples: readonly number[]): Stat {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), mean, min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN };
}

function statOrNull(samples: readonly number[]): Stat | null {
  return samples.length > 0 ? stat(samples) : null;
}

const ms = (v: number | undefined | null, w = 7): string => (v === undefined || v === null || Number.isNaN(v) ? '—' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1)).padStart(w);
const int = (n: number): string => n.toLocaleString('en');
const say = (line: string): void => console.log(line);

// ---------------------------------------------------------------------------------------------
// Processes

interface LogLine {
  event?: string;
  ms?: number;
  durationMs?: number;
  outcome?: string;
}

interface Managed {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Structured log lines of interest (contribution / pattern), drained by the measurements. */
  events: LogLine[];
  stderrTail: string[];
}

const running = new Set<Managed>();
const tempDirs = new Set<string>();

function launch(name: string, script: string, args: string[], env: NodeJS.ProcessEnv = process.env, runtimeFlags: string[] = []): { managed: Managed; ready: Promise<{ url: string }> } {
  const child = spawn(process.execPath, [...runtimeFlags, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const exited = new Promise<number | null>((res) => child.once('exit', (code, signal) => res(code ?? (signal ? -1 : null))));
  const managed: Managed = { name, child, exited, events: [], stderrTail: [] };
  running.add(managed);
  void exited.then(() => running.delete(managed));
  createInterface({ input: child.stderr! }).on('line', (line) => {
    managed.stderrTail.push(line);
    if (managed.stderrTail.length > 20) managed.stderrTail.shift();
    if (!line.includes('"event":"contribution"') && !line.includes('"event":"pattern"')) return;
    try {
      managed.events.push(JSON.parse(line) as LogLine);
    } catch {
      // not a JSON log line
    }
  });
  const ready = new Promise<{ url: string }>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${name} did not become ready within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; url?: string };
        if (msg.event === 'listening' && typeof msg.url === 'string') {
          clearTimeout(timer);
          res({ url: msg.url });
        }
      } catch {
        // not a status line
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`${name} exited (code ${code}) before it was ready:\n  ${managed.stderrTail.join('\n  ')}`));
    });
  });
  ready.catch(() => undefined);
  return { managed, ready };
}

/** Stops the given processes (SIGTERM, then SIGKILL after 10 s). Never throws. */
async function stopProcesses(list: Iterable<Managed>): Promise<void> {
  const all = [...list];
  for (const m of all) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGTERM');
  const timeout = new Promise((res) => setTimeout(res, 10_000).unref());
  await Promise.race([Promise.all(all.map((m) => m.exited)), timeout]);
  for (const m of all) {
    if (m.child.exitCode !== null || m.child.signalCode !== null) continue;
    console.error(`${m.name} did not stop within 10 s of SIGTERM; killed. Its last log lines:\n  ${m.stderrTail.slice(-3).join('\n  ')}`);
    m.child.kill('SIGKILL');
  }
}

function removeTempDirs(): void {
  for (const d of tempDirs) {
    try {
      rmSync(d, { recursive: true, force: true });
    } catch {
      // best effort
    }
    tempDirs.delete(d);
  }
}

/** Last resort when the process exits without the orderly cleanup (synchronous only). */
function killOnExit(): void {
  for (const m of running) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
  removeTempDirs();
}

/** CPU time (user + system) a process has used so far, ms; null where /proc is not available. */
function cpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15, in clock ticks (USER_HZ = 100 on Linux)
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

function cpuOf(procs: readonly Managed[]): number | null {
  let total = 0;
  for (const p of procs) {
    const v = cpuMs(p.child.pid);
    if (v === null) return null;
    total += v;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// HTTP on loopback

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

interface JsonResponse {
  status: number;
  body: unknown;
}

function postJson(url: string, body: string, headers: Record<string, string> = {}): Promise<JsonResponse> {
  return new Promise((res, rej) => {
    const payload = Buffer.from(body, 'utf8');
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        timeout: REQUEST_TIMEOUT_MS,
        headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': payload.length, ...headers },
      },
      (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('error', rej);
        r.on('end', () => {
          try {
            res({ status: r.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
          } catch (e) {
            rej(e as Error);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${REQUEST_TIMEOUT_MS / 1000} s`)));
    req.on('error', rej);
    req.end(payload);
  });
}

async function timed<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const v = await f();
  return [performance.now() - t0, v];
}

const sleep = (msec: number) => new Promise((res) => setTimeout(res, msec));

// ---------------------------------------------------------------------------------------------
// Seeded databases

interface SeededFederation {
  dir: string;
  secret: string;
  nodes: Array<{ spec: NodeSpec; db: string }>;
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40) || 'seed';
}

function sqliteFiles(db: string): string[] {
  return [db, `${db}-wal`, `${db}-shm`];
}

/**
 * Returns the cached databases for `specs` (first `specs.length` predefined nodes), generating and
 * seeding the missing ones. A node's database counts as cached only once its marker file exists
 * (written after the seeding transaction committed and the database was closed).
 */
async function ensureSeeded(specs: readonly NodeSpec[], opts: FederationBenchOptions): Promise<SeededFederation> {
  const key = `v${CACHE_VERSION}-${slug(opts.seed)}-${opts.incidentsPerNode}x${specs.length}`;
  const dir = join(opts.cacheDir, key);
  const secret = `accord-bench-indicator-key-${key}`;
  const nodes = specs.map((spec) => ({ spec, db: join(dir, `${spec.id}.sqlite`) }));
  const marker = (id: string) => join(dir, `${id}.seeded.json`);
  const missing = nodes.filter((n) => !existsSync(marker(n.spec.id)) || !existsSync(n.db));
  if (missing.length === 0) {
    say(`Using cached databases ${dir}`);
    return { dir, secret, nodes };
  }
  mkdirSync(dir, { recursive: true });
  say(`Building benchmark databases in ${dir} (once; later runs reuse them)`);
  const t0 = performance.now();
  process.stdout.write(`  generating ${specs.length} × ${int(opts.incidentsPerNode)} synthetic incidents (seed "${opts.seed}")… `);
  const fed = generateFederation({ seed: opts.seed, nodes: specs, incidentsPerNode: opts.incidentsPerNode });
  say(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
  for (const [i, n] of missing.entries()) {
    for (const f of sqliteFiles(n.db)) rmSync(f, { force: true });
    const t1 = performance.now();
    process.stdout.write(`  [${i + 1}/${missing.length}] seeding ${n.spec.id.padEnd(12)} `);
    const orm = await openNodeOrm({ db: n.db });
    try {
      const summary = await seedDataset(orm, fed.datasets[n.spec.id]!, { secret });
      writeFileSync(marker(n.spec.id), `${JSON.stringify({ seed: opts.seed, incidentsPerNode: opts.incidentsPerNode, nodes: specs.length, ...summary }, null, 2)}\n`);
      say(`${int(summary.incidents)} incidents, ${int(summary.indicators)} indicators in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    } finally {
      await orm.close(true);
    }
  }
  say(`  databases ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { dir, secret, nodes };
}

// ---------------------------------------------------------------------------------------------
// Deployment: what this build of gateway and nodes asks for

interface Capabilities {
  gatewayAccess: boolean;
  nodeGatewayJwks: boolean;
  nodeInsecureFlag: boolean;
}

function helpOf(script: string): string {
  const r = spawnSync(process.execPath, [script, '--help'], { encoding: 'utf8', timeout: 60_000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}

/** Reads the gateway's and the nodes' `--help` to learn which deployment this build needs. */
function detectCapabilities(): Capabilities {
  const gw = helpOf(GATEWAY_MAIN);
  const node = helpOf(NODE_MAIN);
  return { gatewayAccess: gw.includes('--members'), nodeGatewayJwks: node.includes('--gateway-jwks'), nodeInsecureFlag: node.includes('--insecure-no-grants') };
}

/** Per-run access material: extra process flags, the member token, and a grant signer for direct node calls. */
interface Deployment {
  info: DeploymentInfo;
  /** Headers of every gateway request (the member token), if the gateway authenticates. */
  gatewayHeaders: Record<string, string>;
  /** Headers for one direct request to `node` (a grant signed like the gateway's), if nodes verify grants. */
  nodeHeaders(node: string, request: ContributionRequest, rho: number): Promise<Record<string, string>>;
}

async function ed25519(): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  const { d: _d, ...pub } = jwk;
  const kid = await calculateJwkThumbprint(pub);
  return { privateJwk: { ...jwk, kid, alg: 'EdDSA', use: 'sig' }, publicJwk: { ...pub, kid, alg: 'EdDSA', use: 'sig' } };
}

/**
 * Writes the access configuration of one benchmark run into `dir` (members, policy, budgets, token
 * keys, grant signing key) and returns the flags and credentials that go with it. Only what the
 * detected build supports is used; BENCH_NODE_ARGS / BENCH_GATEWAY_ARGS are appended.
 */
async function prepareDeployment(dir: string, caps: Capabilities, opts: FederationBenchOptions): Promise<Deployment> {
  const gatewayFlags: string[] = [];
  const nodeFlags: string[] = [];
  let gatewayHeaders: Record<string, string> = {};
  let signingKey: Awaited<ReturnType<typeof importJWK>> | undefined;
  let signingKid = '';
  let nodeGrants: DeploymentInfo['nodeGrants'] = 'not supported';
  const userNodeGrantFlag = opts.nodeArgs.includes('--gateway-jwks') || opts.nodeArgs.includes('--insecure-no-grants');

  if (caps.gatewayAccess) {
    const token = await ed25519();
    const grants = await ed25519();
    const file = (name: string, content: string, mode = 0o644) => {
      writeFileSync(join(dir, name), content, { mode });
      return join(dir, name);
    };
    const policies = `@id("bench-member-may-aggregate")\npermit (principal is Accord::Member, action == Accord::Action::"aggregate", resource is Accord::Node);\n`;
    const budgets = { nodeCap: { rho: BENCH_BUDGET_RHO, delta: 1 }, allocation: { rho: BENCH_BUDGET_RHO, delta: 1 } };
    gatewayFlags.push(
      '--data-dir', dir,
      '--members', file('members.json', JSON.stringify([BENCH_MEMBER])),
      '--policies', file('policies.cedar', policies),
      '--budgets', file('budgets.json', JSON.stringify(budgets)),
      '--jwks-file', file('member-jwks.json', JSON.stringify({ keys: [token.publicJwk] })),
      '--token-issuer', BENCH_TOKEN_ISSUER,
      '--token-audience', BENCH_TOKEN_AUDIENCE,
      '--db', join(dir, 'gateway.sqlite'),
      '--signing-key', file('gateway-signing.jwk', JSON.stringify(grants.privateJwk), 0o600),
      '--signing-jwks-out', join(dir, 'gateway-jwks.json'),
      '--gateway-id', BENCH_GATEWAY_ID,
    );
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: token.publicJwk.kid! })
      .setIssuer(BENCH_TOKEN_ISSUER)
      .setAudience(BENCH_TOKEN_AUDIENCE)
      .setSubject(BENCH_MEMBER.id)
      .setIssuedAt()
      .setExpirationTime('12h')
      .sign(await importJWK(token.privateJwk, 'EdDSA'));
    gatewayHeaders = { authorization: `Bearer ${jwt}` };
    if (caps.nodeGatewayJwks && !userNodeGrantFlag) {
      const nodeJwks = file('gateway-grant-keys.json', JSON.stringify({ keys: [grants.publicJwk] }));
      nodeFlags.push('--gateway-jwks', nodeJwks, '--gateway-issuer', BENCH_GATEWAY_ID, '--member-cap-rho', String(BENCH_BUDGET_RHO));
      signingKey = await importJWK(grants.privateJwk, 'EdDSA');
      signingKid = grants.publicJwk.kid!;
      nodeGrants = 'verified';
    }
  } else if (caps.nodeInsecureFlag && !userNodeGrantFlag) {
    nodeFlags.push('--insecure-no-grants');
    nodeGrants = 'not checked (--insecure-no-grants)';
  }
  if (opts.nodeArgs.includes('--gateway-jwks')) nodeGrants = 'verified';
  if (opts.nodeArgs.includes('--insecure-no-grants')) nodeGrants = 'not checked (--insecure-no-grants)';
  nodeFlags.push(...opts.nodeArgs);
  gatewayFlags.push(...opts.gatewayArgs);

  const nodeHeaders = async (node: string, request: ContributionRequest, rho: number): Promise<Record<string, string>> => {
    if (!signingKey) return {};
    const iat = Math.floor(Date.now() / 1000);
    const claims = {
      iss: BENCH_GATEWAY_ID,
      aud: node,
      sub: BENCH_MEMBER.id,
      grp: BENCH_MEMBER.groups,
      fp: contributionFingerprint(request),
      rho,
      delta: 0,
      per: ledgerPeriod(),
      jti: randomUUID(),
      iat,
      exp: iat + 60,
    };
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: GRANT_TYPE, kid: signingKid }).sign(signingKey);
    return { [GRANT_HEADER]: token };
  };
  return { info: { accessControl: caps.gatewayAccess, nodeGrants, nodeFlags, gatewayFlags }, gatewayHeaders, nodeHeaders };
}

// ---------------------------------------------------------------------------------------------
// One federation size

interface RunningFederation {
  runDir: string;
  deployment: Deployment;
  nodes: Array<{ id: string; url: string; proc: Managed; orm: NodeOrm }>;
  gateway: { url: string; proc: Managed };
}

async function startFederation(seeded: SeededFederation, opts: FederationBenchOptions, caps: Capabilities): Promise<RunningFederation> {
  const runDir = mkdtempSync(join(os.tmpdir(), 'accord-bench-'));
  tempDirs.add(runDir);
  for (const n of seeded.nodes) {
    for (const f of sqliteFiles(n.db)) if (existsSync(f)) copyFileSync(f, join(runDir, basename(f)));
  }
  const deployment = await prepareDeployment(runDir, caps, opts);
  const launched = seeded.nodes.map((n) => {
    const args = [
      '--id', n.spec.id,
      '--port', '0',
      '--operator-port', '0',
      '--db', join(runDir, `${n.spec.id}.sqlite`),
      '--data-dir', runDir,
      '--secret', seeded.secret,
      '--operator-token', `bench-operator-token-${n.spec.id}-${process.pid}`,
      ...deployment.info.nodeFlags,
    ];
    return { spec: n.spec, ...launch(n.spec.id, NODE_MAIN, args) };
  });
  const ready = await Promise.all(launched.map((l) => l.ready));
  const nodesFile = join(runDir, 'nodes.json');
  writeFileSync(nodesFile, JSON.stringify(launched.map((l, i) => ({ id: l.spec.id, name: l.spec.label, kind: l.spec.kind, url: ready[i]!.url }))));
  // @apollo/gateway otherwise probes cloud metadata endpoints at start and reports usage to Apollo:
  // the benchmark keeps every packet on 127.0.0.1 (no effect on the per-query cost).
  const gwEnv = { ...process.env, APOLLO_TELEMETRY_DISABLED: 'true' };
  const gwArgs = ['--port', '0', '--nodes', nodesFile, '--node-timeout-ms', String(opts.nodeTimeoutMs), ...deployment.info.gatewayFlags];
  const gw = launch('gateway', GATEWAY_MAIN, gwArgs, gwEnv, opts.gatewayNodeFlags);
  const gwReady = await gw.ready;
  const nodes: RunningFederation['nodes'] = [];
  for (const [i, l] of launched.entries()) {
    const orm = await openNodeOrm({ db: join(runDir, `${l.spec.id}.sqlite`), migrate: false });
    nodes.push({ id: l.spec.id, url: ready[i]!.url, proc: l.managed, orm });
  }
  return { runDir, deployment, nodes, gateway: { url: gwReady.url, proc: gw.managed } };
}

async function stopFederation(f: RunningFederation): Promise<void> {
  for (const n of f.nodes) await n.orm.close(true).catch(() => undefined);
  await stopProcesses([f.gateway.proc, ...f.nodes.map((n) => n.proc)]);
  rmSync(f.runDir, { recursive: true, force: true });
  tempDirs.delete(f.runDir);
}

const GATEWAY_QUERY = /* GraphQL */ `
query BenchCrossBorder($filter: PatternFilter) {
  crossBorderPattern(groupBy: [COUNTRY, SECTOR], filter: $filter) {
    queryId
    cells { country sector value rawValue low high }
    accuracy { mechanism scale stdDev ci95 confidence }
    charge { rho epsilon delta }
    coverage { asked answered missing { node reason code } complete }
  }
}`;

interface PatternPayload {
  data?: { crossBorderPattern?: { queryId: string; cells: unknown[]; coverage: { complete: boolean; missing: Array<{ node: string; reason: string }> } } | null } | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

/** One gateway query; resolves to an error description instead of throwing on a GraphQL error. */
async function gatewayQuery(fed: RunningFederation, body: string): Promise<{ ok: true; queryId: string; cells: number } | { ok: false; problem: string }> {
  const r = await postJson(fed.gateway.url, body, fed.deployment.gatewayHeaders);
  const p = r.body as PatternPayload;
  const answer = p?.data?.crossBorderPattern;
  if (r.status !== 200 || p?.errors?.length || !answer) {
    const e = p?.errors?.[0];
    return { ok: false, problem: `HTTP ${r.status} ${e?.extensions?.code ?? ''} ${e?.message ?? ''}`.trim() };
  }
  if (!answer.coverage.complete) return { ok: false, problem: `incomplete coverage: ${JSON.stringify(answer.coverage.missing)}` };
  return { ok: true, queryId: answer.queryId, cells: answer.cells.length };
}

/** One contribution request straight to a node. Throws when the node does not answer with a contribution. */
async function nodeHttp(url: string, body: string, headers: Record<string, string>): Promise<void> {
  const r = await postJson(url, body, headers);
  const p = r.body as { data?: { contribution?: unknown } | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  if (r.status !== 200 || p?.errors?.length || !p?.data?.contribution) {
    throw new Error(`node ${url} refused the benchmark request: ${p?.errors?.[0]?.extensions?.code ?? r.status} ${p?.errors?.[0]?.message ?? ''}`);
  }
}

function drain(m: Managed, event: string): LogLine[] {
  const out = m.events.filter((e) => e.event === event);
  m.events.length = 0;
  return out;
}

/**
 * For the rounds of `kind`, the largest node-side `durationMs` across nodes. Every node logs one line
 * per request, in order, so line k of each node belongs to round k; returns [] when the counts differ.
 */
function slowestPerRound(perNode: LogLine[][], rounds: readonly string[], kind: string): number[] {
  if (perNode.some((l) => l.length !== rounds.length)) return [];
  const out: number[] = [];
  rounds.forEach((r, k) => {
    if (r === kind) out.push(Math.max(...perNode.map((l) => l[k]!.durationMs ?? 0)));
  });
  return out;
}

/** Waits until no node or gateway has logged for `quietMs` (at most 60 s), then drops the collected lines. */
async function settle(fed: RunningFederation, quietMs: number): Promise<void> {
  const procs = [fed.gateway.proc, ...fed.nodes.map((n) => n.proc)];
  const until = performance.now() + 60_000;
  for (;;) {
    for (const p of procs) p.events.length = 0;
    await sleep(quietMs);
    if (procs.every((p) => p.events.length === 0) || performance.now() > until) break;
  }
  for (const p of procs) p.events.length = 0;
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

function addDays(iso: string, n: number): string {
  return new Date(Date.parse(`${iso}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

export interface BenchWindow {
  label: string;
  from: string;
  /** Exclusive end. */
  to: string;
  /** How successive rounds make the question distinct (see variantOf). */
  shift: 'slide' | 'extend';
}

/** Windows measured for every federation size (the synthetic data covers 2024). */
export const BENCH_WINDOWS: readonly BenchWindow[] = [
  { label: '91 days', from: '2024-07-01', to: '2024-09-30', shift: 'slide' },
  { label: 'year', from: '2024-01-01', to: '2025-01-01', shift: 'extend' },
];

/** One distinct question of a window: the request the gateway will send and the HTTP bodies. */
interface Variant {
  queryId: string;
  request: ContributionRequest;
  /** ρ the gateway charges each node for it (what a grant states). */
  rho: number;
  nodeBody: string;
  gwBody: string;
}

/**
 * Variant `i` of a window: `slide` moves the whole window i days later, `extend` moves only its end
 * (past the data, so the rows counted stay the same). Every round thus asks a question no cache has
 * seen, with the same work for the nodes.
 */
function variantOf(countries: string[], win: BenchWindow, i: number): Variant {
  const from = win.shift === 'slide' ? addDays(win.from, i) : win.from;
  const to = addDays(win.to, i);
  const args: PatternArgs = { groupBy: ['COUNTRY', 'SECTOR'], filter: { countries, from, to } };
  // The request exactly as the gateway builds it (gateway defaults; the benchmark member's TLP
  // ceiling is AMBER, which adds no TLP filter). The gateway's answer echoes queryId: checked.
  const plan = planPattern(args, { privacy: DEFAULT_CONFIG.privacy, defaultQuorum: DEFAULT_CONFIG.quorum, maxCells: DEFAULT_CONFIG.maxCells });
  return {
    queryId: plan.queryId,
    request: plan.request,
    rho: plan.charge.rho,
    nodeBody: JSON.stringify({ query: CONTRIBUTION_OPERATION, operationName: 'Contribution', variables: { request: plan.request } }),
    gwBody: JSON.stringify({ query: GATEWAY_QUERY, operationName: 'BenchCrossBorder', variables: { filter: args.filter } }),
  };
}

async function measureWindow(fed: RunningFederation, countries: string[], win: BenchWindow, opts: FederationBenchOptions, cores: number): Promise<WindowFigures> {
  const N = opts.queries;
  let issued = 0;
  const fresh = (): Variant => variantOf(countries, win, issued++);
  const tag = `  ${String(fed.nodes.length).padStart(2)} nodes, ${win.label.padEnd(8)}`;
  const headersFor = (node: string, v: Variant) => fed.deployment.nodeHeaders(node, v.request, v.rho);
  let errors = 0;
  let lastProblem = '';
  /** One gateway query; checks that the gateway asked the nodes exactly the request planned here. */
  const ask = async (v: Variant): Promise<number | null> => {
    const [t, r] = await timed(() => gatewayQuery(fed, v.gwBody));
    if (!r.ok) {
      errors += 1;
      lastProblem = r.problem;
      return null;
    }
    if (r.queryId !== v.queryId) throw new Error('the gateway planned another contribution request than the benchmark (queryId differs); check the gateway defaults');
    return t;
  };

  // The gateway must answer, completely, before anything is measured.
  const v0 = fresh();
  let first = await gatewayQuery(fed, v0.gwBody);
  for (let attempt = 1; !first.ok && attempt < 3; attempt++) {
    await settle(fed, 1_500);
    first = await gatewayQuery(fed, v0.gwBody);
  }
  if (!first.ok) throw new Error(`the gateway did not answer the benchmark query: ${first.problem}`);
  if (first.queryId !== v0.queryId) throw new Error('the gateway planned another contribution request than the benchmark (queryId differs); check the gateway defaults');
  const cells = first.cells;
  const loadAverage = os.loadavg()[0]!;

  // 1. Screening: every node alone, in this process.
  const perNode: Array<{ node: string; p50: number }> = [];
  for (const n of fed.nodes) {
    for (let i = 0; i < 2; i++) await runContribution(n.orm, v0.request);
    const s: number[] = [];
    for (let i = 0; i < SCREEN_RUNS; i++) s.push((await timed(() => runContribution(n.orm, v0.request)))[0]);
    perNode.push({ node: n.id, p50: stat(s).p50 });
  }
  perNode.sort((a, b) => b.p50 - a.p50);
  const slowest = fed.nodes.find((n) => n.id === perNode[0]!.node)!;
  const fastest = perNode[perNode.length - 1]!;
  say(`${tag} screening: slowest node ${slowest.id} (${perNode[0]!.p50.toFixed(1)} ms), fastest ${fastest.node} (${fastest.p50.toFixed(1)} ms)`);

  // 2. Slowest node alone: in-process and over HTTP, interleaved so background load hits both alike.
  for (let i = 0; i < WARMUP; i++) {
    const v = fresh();
    await nodeHttp(slowest.url, v.nodeBody, await headersFor(slowest.id, v));
  }
  const direct: number[] = [];
  const viaHttp: number[] = [];
  for (let i = 0; i < N; i++) {
    const v = fresh();
    const headers = await headersFor(slowest.id, v);
    direct.push((await timed(() => runContribution(slowest.orm, v.request)))[0]);
    viaHttp.push((await timed(() => nodeHttp(slowest.url, v.nodeBody, headers)))[0]);
  }

  // 3. All nodes at once without the gateway, and the gateway end to end: sequential, interleaved
  //    in ABBA order, the same question in both; node log lines are matched to rounds by order.
  const fanoutOnce = async (v: Variant): Promise<number> => {
    const headers = await Promise.all(fed.nodes.map((n) => headersFor(n.id, v)));
    return (await timed(() => Promise.all(fed.nodes.map((n, k) => nodeHttp(n.url, v.nodeBody, headers[k]!)))))[0];
  };
  for (let i = 0; i < WARMUP; i++) {
    const v = fresh();
    await fanoutOnce(v);
    await ask(v);
  }
  errors = 0;
  await settle(fed, 300);
  const nodeProcs = fed.nodes.map((n) => n.proc);
  const gwCpu0 = cpuOf([fed.gateway.proc]);
  const nodesCpu0 = cpuOf(nodeProcs);
  const fanout: number[] = [];
  const gateway: number[] = [];
  const rounds: Array<'fanout' | 'gateway'> = [];
  for (let i = 0; i < N; i++) {
    const v = fresh();
    for (const kind of i % 2 === 0 ? (['fanout', 'gateway'] as const) : (['gateway', 'fanout'] as const)) {
      rounds.push(kind);
      if (kind === 'fanout') fanout.push(await fanoutOnce(v));
      else {
        const t = await ask(v);
        if (t !== null) gateway.push(t);
      }
    }
  }
  await sleep(150);
  const gwCpu1 = cpuOf([fed.gateway.proc]);
  const nodesCpu1 = cpuOf(nodeProcs);
  const seqErrors = errors;
  const scatterGather = drain(fed.gateway.proc, 'pattern').map((e) => e.ms ?? NaN).filter((v) => Number.isFinite(v));
  const nodeLines = fed.nodes.map((n) => drain(n.proc, 'contribution'));
  const computeInFanout = seqErrors === 0 ? slowestPerRound(nodeLines, rounds, 'fanout') : [];
  const computeInGateway = seqErrors === 0 ? slowestPerRound(nodeLines, rounds, 'gateway') : [];
  if (gateway.length === 0) throw new Error(`every gateway query failed: ${lastProblem}`);
  if (seqErrors > 0) say(`${tag} ${seqErrors} of ${N} gateway queries failed (last: ${lastProblem})`);

  // 4. Throughput at a small concurrency.
  errors = 0;
  const tpLatency: number[] = [];
  const deadline = performance.now() + opts.throughputSeconds * 1000;
  const tpStart = performance.now();
  let tpEnd = tpStart;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (performance.now() < deadline) {
        const t = await ask(fresh());
        tpEnd = performance.now();
        if (t !== null) tpLatency.push(t);
      }
    }),
  );
  const tpErrors = errors;
  const tpSeconds = (tpEnd - tpStart) / 1000;
  if (tpErrors > 0) say(`${tag} ${tpErrors} concurrent gateway queries failed (last: ${lastProblem})`);
  // Requests a node works on after the gateway gave up on them must not leak into the next figure.
  await settle(fed, 1_500);

  const nodeDirect = stat(direct);
  const nodeHttpStat = stat(viaHttp);
  const fanoutStat = stat(fanout);
  const gwStat = stat(gateway);
  const sumMedians = perNode.reduce((a, b) => a + b.p50, 0);
  const totalGap = gwStat.p50 - nodeDirect.p50;
  const contentionMs = fanoutStat.p50 - nodeHttpStat.p50;
  const gatewayMs = gwStat.p50 - fanoutStat.p50;
  const figures: WindowFigures = {
    window: { label: win.label, from: win.from, to: win.to, days: daysBetween(win.from, win.to) },
    cells,
    queryId: v0.queryId,
    perNodeDirectMs: perNode,
    slowestNode: slowest.id,
    nodeDirect,
    nodeHttp: nodeHttpStat,
    fanout: fanoutStat,
    gateway: { ...gwStat, errors: seqErrors },
    gatewayScatterGather: statOrNull(scatterGather),
    slowestNodeComputeInFanout: statOrNull(computeInFanout),
    slowestNodeComputeInGateway: statOrNull(computeInGateway),
    throughput: {
      concurrency: opts.concurrency,
      seconds: tpSeconds,
      completed: tpLatency.length,
      errors: tpErrors,
      perSecond: tpLatency.length / Math.max(tpSeconds, 1e-9),
      latency: statOrNull(tpLatency),
    },
    cpuFloorMs: Math.max(nodeDirect.p50, sumMedians / Math.min(cores, fed.nodes.length)),
    ratio: gwStat.p50 / nodeDirect.p50,
    ratioToHttpAlone: gwStat.p50 / nodeHttpStat.p50,
    gatewayOverFanout: gwStat.p50 / fanoutStat.p50,
    gap: {
      totalMs: totalGap,
      nodeHttpMs: nodeHttpStat.p50 - nodeDirect.p50,
      contentionMs,
      gatewayMs,
      contentionShare: totalGap > 0 ? contentionMs / totalGap : 0,
      gatewayShare: totalGap > 0 ? gatewayMs / totalGap : 0,
    },
    loadAverage,
    cpu: {
      gatewayMsPerQuery: gwCpu0 !== null && gwCpu1 !== null ? (gwCpu1 - gwCpu0) / N : null,
      nodesMsPerRound: nodesCpu0 !== null && nodesCpu1 !== null ? (nodesCpu1 - nodesCpu0) / rounds.length : null,
    },
  };
  say(
    `${tag} node alone ${ms(nodeDirect.p50, 0)} ms · over HTTP ${ms(nodeHttpStat.p50, 0)} ms · fan-out ${ms(fanoutStat.p50, 0)} ms · gateway ${ms(gwStat.p50, 0)} ms · ${figures.throughput.perSecond.toFixed(2)} q/s @${opts.concurrency}`,
  );
  return figures;
}

async function runConfig(count: number, opts: FederationBenchOptions, caps: Capabilities, cores: number): Promise<{ figures: ConfigFigures; deployment: DeploymentInfo }> {
  const specs = federationNodes(count);
  const seeded = await ensureSeeded(specs, opts);
  const countries = [...new Set(specs.flatMap((s) => Object.keys(s.countries)))].sort();
  say(`Starting ${count} node processes and the gateway…`);
  const fed = await startFederation(seeded, opts, caps);
  try {
    const windows: WindowFigures[] = [];
    for (const w of BENCH_WINDOWS) windows.push(await measureWindow(fed, countries, w, opts, cores));
    return {
      figures: { nodes: count, nodeIds: specs.map((s) => s.id), incidentsPerNode: opts.incidentsPerNode, countries: countries.length, windows },
      deployment: fed.deployment.info,
    };
  } finally {
    await stopFederation(fed);
  }
}

/**
 * Runs the federation benchmark for every size in `opts.nodeCounts`: seeds (or reuses) the
 * databases, starts the node and gateway processes, measures, and stops everything — also when a
 * measurement throws (the error is rethrown) and on SIGINT/SIGTERM (exit code 130/143).
 */
export async function runFederationBench(opts: FederationBenchOptions): Promise<FederationBenchResult> {
  const cpus = os.cpus();
  const machine = {
    cores: cpus.length,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
  };
  if (opts.queries < 30) say(`Note: BENCH_QUERIES=${opts.queries} is below 30; percentiles are rough.`);
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping the benchmark processes…`);
    void stopProcesses([...running]).finally(() => {
      removeTempDirs();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killOnExit);
  const configs: ConfigFigures[] = [];
  let deployment: DeploymentInfo | undefined;
  try {
    say(`\nFederation benchmark — ${machine.cores} cores (${machine.cpu}), Node ${machine.node}`);
    const load = os.loadavg()[0]!;
    if (load > machine.cores / 2) say(`Note: the machine is busy (load average ${load.toFixed(1)} on ${machine.cores} cores); figures will be noisy.`);
    const caps = detectCapabilities();
    for (const count of opts.nodeCounts) {
      const r = await runConfig(count, opts, caps, machine.cores);
      configs.push(r.figures);
      deployment = r.deployment;
    }
  } finally {
    await stopProcesses([...running]);
    removeTempDirs();
    agent.destroy();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', killOnExit);
  }
  return {
    machine,
    options: opts,
    deployment: deployment ?? { accessControl: false, nodeGrants: 'not supported', nodeFlags: [], gatewayFlags: [] },
    configs,
    targetRatio: RATIO_TARGET,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

/** Prints the latency table, the ratios to the target and the split of the gap. */
export function printFederationBench(r: FederationBenchResult): void {
  if (r.configs.length === 0) return;
  const { machine, deployment } = r;
  say(`\nFederation — crossBorderPattern(groupBy: [COUNTRY, SECTOR]) over all the nodes' countries, ${int(r.configs[0]!.incidentsPerNode)} incidents per node`);
  say(`machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}; all traffic on 127.0.0.1; every node and the gateway a separate process`);
  say(`sequential figures: ${r.options.queries} queries after warm-up, each a distinct question; gateway per-node deadline ${r.options.nodeTimeoutMs} ms; latencies in ms`);
  say(`deployment: gateway access control ${deployment.accessControl ? 'on (member token, policy, budgets, ledger, signed grants)' : 'not in this build'}; node grant check: ${deployment.nodeGrants}`);
  say('');
  say(`nodes window   cells  slowest node   │ node alone (direct) │ node alone (HTTP) │ fan-out w/o gateway │ gateway end to end │ gateway @${String(r.options.concurrency).padEnd(2)}             │ load`);
  say('                                     │     p50      p95    │    p50      p95   │    p50       p95    │    p50      p95    │   q/s     p50     p95 │ avg');
  for (const c of r.configs) {
    for (const w of c.windows) {
      const tp = w.throughput;
      say(
        `${String(c.nodes).padStart(5)} ${w.window.label.padEnd(8)} ${String(w.cells).padStart(5)}  ${w.slowestNode.padEnd(12)}  │ ${ms(w.nodeDirect.p50)}  ${ms(w.nodeDirect.p95)}    │ ${ms(w.nodeHttp.p50)}  ${ms(w.nodeHttp.p95)}  │ ${ms(w.fanout.p50)}   ${ms(w.fanout.p95)}    │ ${ms(w.gateway.p50)}  ${ms(w.gateway.p95)}   │ ${tp.perSecond.toFixed(2).padStart(5)} ${ms(tp.latency?.p50)} ${ms(tp.latency?.p95)} │ ${w.loadAverage.toFixed(1).padStart(4)}` +
          (w.gateway.errors || tp.errors ? `  (failed: ${w.gateway.errors} sequential, ${tp.errors} concurrent)` : ''),
      );
    }
  }
  say('');
  say(`Ratio gateway p50 ÷ slowest node alone p50 (target ≤ ${r.targetRatio}), and where the gap goes (ms)`);
  say('nodes window   │ ratio  target │ ÷ node HTTP │ ÷ fan-out │ CPU floor │  gap = node HTTP + contention + gateway │ contention  gateway │ gw log: scatter→answer │ slowest node compute in fan-out / via gw │ CPU per query: gateway / all nodes');
  for (const c of r.configs) {
    for (const w of c.windows) {
      const ok = w.ratio <= r.targetRatio ? 'met' : 'missed';
      const g = w.gap;
      say(
        `${String(c.nodes).padStart(5)} ${w.window.label.padEnd(8)} │ ${w.ratio.toFixed(2).padStart(5)}× ${ok.padEnd(6)} │ ${w.ratioToHttpAlone.toFixed(2).padStart(10)}× │ ${w.gatewayOverFanout.toFixed(2).padStart(8)}× │ ${ms(w.cpuFloorMs, 9)} │ ${ms(g.totalMs)} = ${ms(g.nodeHttpMs, 6)} + ${ms(g.contentionMs, 7)} + ${ms(g.gatewayMs, 6)}   │ ${(g.contentionShare * 100).toFixed(0).padStart(8)} %  ${(g.gatewayShare * 100).toFixed(0).padStart(5)} % │ ${ms(w.gatewayScatterGather?.p50, 22)} │ ${ms(w.slowestNodeComputeInFanout?.p50, 30)} / ${ms(w.slowestNodeComputeInGateway?.p50)} │ ${ms(w.cpu.gatewayMsPerQuery, 23)} / ${ms(w.cpu.nodesMsPerRound)}`,
      );
    }
  }
  say('');
  say('Reading the figures:');
  say('  ratio         gateway end to end ÷ the slowest node running the same contribution in-process, alone on the machine');
  say("  ÷ fan-out     gateway ÷ all nodes asked at once without a gateway: the gateway's own cost (Apollo, admission, planning, validation, noise, JSON)");
  say(`  CPU floor     max(slowest node, Σ node medians ÷ min(${machine.cores} cores, nodes)): no fan-out can beat it on this machine`);
  say('  contention    fan-out w/o gateway − slowest node alone over HTTP: hardware sharing, not gateway overhead');
  say("  load avg      1-minute load average when the window started; far above the benchmark's own processes means other work shared the machine");
  say('  compute       node-side duration (node log) of the slowest node per round, while all nodes run: the contention seen from inside');
  say('  CPU           CPU time of the gateway process per query and of all node processes per round (/proc): what each side costs the machine');
  if (r.configs.some((c) => c.nodes > machine.cores)) {
    say(`  With more node processes than cores (${machine.cores}), the ratio mostly measures CPU sharing; compare the gateway with the fan-out and the CPU floor.`);
  }
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  runFederationBench(federationBenchOptionsFromEnv())
    .then((r) => {
      printFederationBench(r);
      console.log(`BENCH_JSON ${JSON.stringify({ federation: r })}`);
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}
