/**
 * What the federation benchmarks share: seeded databases (cached), node and gateway processes on
 * 127.0.0.1 deployed as in production (member token, policies, budgets, signed grants, the
 * federation indicator key), distinct questions per round, and the measurement of one aggregate —
 * the slowest node alone (in-process and over HTTP), every node at once without the gateway, and
 * the gateway end to end — with percentile statistics and the split of the gap.
 *
 * Used by `federation.ts` (one cross-border query at several federation sizes) and `questions.ts`
 * (every analyst question at one size). Every process started here is stopped by
 * {@link withBenchProcesses}: at the end, on error and on SIGINT/SIGTERM.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  type ContributionRequest,
} from '../../schema/contract/index.js';
import { DEFAULT_CONFIG } from '../../gateway/config.js';
import { NodeClient, type NodeResponse } from '../../gateway/net/node-client.js';
import { planAggregate } from '../../gateway/aggregate/plan.js';
import type { AggregateArgs } from '../../gateway/aggregate/query.js';
import { openNodeOrm, runContribution, seedDataset, type NodeOrm } from '../../nodes/index.js';
import { generateFederation, type NodeSpec, type PlantedCampaign } from '../synth/index.js';

/** Bump when the generator or the seeding changes what a cached database holds. */
const CACHE_VERSION = 2;
export const RATIO_TARGET = 1.5;
const SCREEN_RUNS = 5;
const WARMUP = 3;
const READY_TIMEOUT_MS = 120_000;
const REQUEST_TIMEOUT_MS = 300_000;
/**
 * The gateway's per-node deadline in the benchmarks. Above the deployed default (2 s) so that the
 * throughput figure measures capacity rather than deadline misses: with 4 queries in flight on
 * 2 cores a node's answer can take longer than 2 s.
 */
export const DEFAULT_BENCH_NODE_TIMEOUT_MS = 30_000;
/** Budgets of the benchmark member: far above the ρ = 0.05 × a few hundred queries it spends. */
const BENCH_BUDGET_RHO = 1_000;
const BENCH_MEMBER = { id: 'bench-analyst', name: 'Benchmark analyst', region: 'Europe', groups: ['bench'], tlpCeiling: 'AMBER', roles: [] };
const BENCH_TOKEN_ISSUER = 'accord-bench-issuer';
const BENCH_TOKEN_AUDIENCE = 'accord-gateway';
const BENCH_GATEWAY_ID = 'accord-gateway';

const here = fileURLToPath(new URL('.', import.meta.url));
const NODE_MAIN = resolve(here, '../../nodes/main.js');
const GATEWAY_MAIN = resolve(here, '../../gateway/main.js');

/** Where the databases come from and how the processes are started (a subset of each benchmark's options). */
export interface HarnessOptions {
  incidentsPerNode: number;
  /** Measured sequential queries per figure (after warm-up). */
  queries: number;
  seed: string;
  cacheDir: string;
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

/** How the processes were deployed (what this build of gateway and nodes asks for). */
export interface DeploymentInfo {
  /** The gateway authenticates members, applies policies and budgets, and signs grants. */
  accessControl: boolean;
  /** How nodes treat grants: verified with the gateway's keys, not checked (flag), or not a feature of this build. */
  nodeGrants: 'verified' | 'not checked (--insecure-no-grants)' | 'not supported';
  nodeFlags: string[];
  gatewayFlags: string[];
}

/** The measurement of one aggregate (see {@link measureAggregate}). */
export interface AggregateFigures {
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
  /** Throughput with several queries in flight; null when not measured. */
  throughput: { concurrency: number; seconds: number; completed: number; errors: number; perSecond: number; latency: Stat | null } | null;
  /** max(slowest node, Σ node medians ÷ min(cores, nodes)): the fan-out floor on this machine, ms. */
  cpuFloorMs: number;
  ratio: number;
  ratioToHttpAlone: number;
  gatewayOverFanout: number;
  gap: { totalMs: number; nodeHttpMs: number; contentionMs: number; gatewayMs: number; contentionShare: number; gatewayShare: number };
  /** 1-minute load average when the measurements started (other work on the machine shows here). */
  loadAverage: number;
  /**
   * CPU time (from /proc; null elsewhere) during the interleaved fan-out/gateway rounds: the gateway
   * process per gateway query, and all node processes together per round (one request to every node).
   */
  cpu: { gatewayMsPerQuery: number | null; nodesMsPerRound: number | null };
}

export interface MachineInfo {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  platform: string;
}

// ---------------------------------------------------------------------------------------------
// Options

export function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer`);
  return n;
}

/** The options every benchmark reads alike (BENCH_SEED, BENCH_CACHE_DIR, BENCH_NODE_TIMEOUT_MS, BENCH_*_ARGS, BENCH_GATEWAY_NODE_FLAGS). */
export function harnessOptionsFromEnv(env: NodeJS.ProcessEnv, defaults: { incidentsPerNode: number; queries: number }): HarnessOptions {
  return {
    incidentsPerNode: positiveInt('BENCH_INCIDENTS', env.BENCH_INCIDENTS, defaults.incidentsPerNode),
    queries: positiveInt('BENCH_QUERIES', env.BENCH_QUERIES, defaults.queries),
    seed: env.BENCH_SEED ?? 'accord-bench',
    cacheDir: resolve(env.BENCH_CACHE_DIR ?? './data/bench'),
    nodeTimeoutMs: positiveInt('BENCH_NODE_TIMEOUT_MS', env.BENCH_NODE_TIMEOUT_MS, DEFAULT_BENCH_NODE_TIMEOUT_MS),
    nodeArgs: (env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
    gatewayArgs: (env.BENCH_GATEWAY_ARGS ?? '').split(/\s+/).filter(Boolean),
    gatewayNodeFlags: (env.BENCH_GATEWAY_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean),
  };
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export function stat(samples: readonly number[]): Stat {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), mean, min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN };
}

export function statOrNull(samples: readonly number[]): Stat | null {
  return samples.length > 0 ? stat(samples) : null;
}

export const ms = (v: number | undefined | null, w = 7): string => (v === undefined || v === null || Number.isNaN(v) ? '—' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1)).padStart(w);
export const int = (n: number): string => n.toLocaleString('en');
export const say = (line: string): void => console.log(line);

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

/**
 * The gateway's own node client: keep-alive JSON POSTs with a deadline, resending a request that
 * hit a socket the server had already closed (idle past its keep-alive timeout, e.g. during a long
 * in-process measurement). The benchmark's direct paths thus talk HTTP exactly as the gateway does.
 */
const client = new NodeClient({ maxResponseBytes: 1 << 30 });

function postJson(url: string, body: string, headers: Record<string, string> = {}): Promise<NodeResponse> {
  return client.postJson(url, body, REQUEST_TIMEOUT_MS, headers);
}

export async function timed<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const v = await f();
  return [performance.now() - t0, v];
}

export const sleep = (msec: number) => new Promise((res) => setTimeout(res, msec));

// ---------------------------------------------------------------------------------------------
// Seeded databases

export interface SeededFederation {
  dir: string;
  /** The node secret every benchmark node runs with (pseudonyms). */
  secret: string;
  /** The federation indicator key: indicators are hashed under it; nodes and gateway share it. */
  indicatorKey: string;
  /** Ground truth of the planted cross-border campaigns (their shared indicators included). */
  planted: PlantedCampaign[];
  nodes: Array<{ spec: NodeSpec; db: string }>;
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40) || 'seed';
}

function sqliteFiles(db: string): string[] {
  return [db, `${db}-wal`, `${db}-shm`];
}

/**
 * Node `id`'s dataset of the federation `specs`, generated alone: the other nodes get no background
 * incidents, which leaves this node's dataset and the planted campaigns exactly as in the whole
 * federation (every node draws from its own random stream) while holding one node in memory.
 */
export function generateNodeAlone(specs: readonly NodeSpec[], id: string, seed: string, incidentsPerNode: number) {
  const nodes = specs.map((s) => (s.id === id ? s : { ...s, incidents: 0 }));
  const fed = generateFederation({ seed, nodes, incidentsPerNode });
  return { dataset: fed.datasets[id]!, planted: fed.planted };
}

/**
 * Returns the cached databases for `specs` (first `specs.length` predefined nodes), generating and
 * seeding the missing ones, one node at a time. A node's database counts as cached only once its
 * marker file exists (written after the seeding transaction committed and the database was closed).
 * Indicators are hashed under the federation indicator key of the cache entry.
 */
export async function ensureSeeded(specs: readonly NodeSpec[], opts: Pick<HarnessOptions, 'seed' | 'incidentsPerNode' | 'cacheDir'>): Promise<SeededFederation> {
  const key = `v${CACHE_VERSION}-${slug(opts.seed)}-${opts.incidentsPerNode}x${specs.length}`;
  const dir = join(opts.cacheDir, key);
  const secret = `accord-bench-node-secret-${key}`;
  const indicatorKey = `accord-bench-indicator-key-${key}`;
  const nodes = specs.map((spec) => ({ spec, db: join(dir, `${spec.id}.sqlite`) }));
  const marker = (id: string) => join(dir, `${id}.seeded.json`);
  const plantedFile = join(dir, 'planted.json');
  const missing = nodes.filter((n) => !existsSync(marker(n.spec.id)) || !existsSync(n.db));
  if (missing.length === 0 && existsSync(plantedFile)) {
    say(`Using cached databases ${dir}`);
    return { dir, secret, indicatorKey, planted: JSON.parse(readFileSync(plantedFile, 'utf8')) as PlantedCampaign[], nodes };
  }
  mkdirSync(dir, { recursive: true });
  say(`Building benchmark databases in ${dir} (once; later runs reuse them)`);
  say(`  ${specs.length} nodes × ${int(opts.incidentsPerNode)} synthetic incidents (seed "${opts.seed}"), generated and seeded one node at a time`);
  const t0 = performance.now();
  let planted: PlantedCampaign[] | undefined;
  for (const [i, n] of missing.entries()) {
    const step = `  [${i + 1}/${missing.length}] ${n.spec.id.padEnd(12)}`;
    const tGen = performance.now();
    say(`${step} generating…`);
    const g = generateNodeAlone(specs, n.spec.id, opts.seed, opts.incidentsPerNode);
    planted = g.planted;
    say(`${step} generated ${int(g.dataset.incidents.length)} incidents in ${((performance.now() - tGen) / 1000).toFixed(1)} s; seeding…`);
    for (const f of sqliteFiles(n.db)) rmSync(f, { force: true });
    const tSeed = performance.now();
    const orm = await openNodeOrm({ db: n.db });
    try {
      const summary = await seedDataset(orm, g.dataset, { secret, indicatorKey });
      writeFileSync(marker(n.spec.id), `${JSON.stringify({ seed: opts.seed, incidentsPerNode: opts.incidentsPerNode, nodes: specs.length, ...summary }, null, 2)}\n`);
      say(`${step} seeded ${int(summary.incidents)} incidents, ${int(summary.indicators)} indicators in ${((performance.now() - tSeed) / 1000).toFixed(1)} s`);
    } finally {
      await orm.close(true);
    }
  }
  // The planted campaigns depend on every node's organisations only, not on which node was generated.
  planted ??= generateNodeAlone(specs, specs[0]!.id, opts.seed, 0).planted;
  writeFileSync(plantedFile, `${JSON.stringify(planted, null, 2)}\n`);
  say(`  databases ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { dir, secret, indicatorKey, planted, nodes };
}

// ---------------------------------------------------------------------------------------------
// Deployment: what this build of gateway and nodes asks for

export interface Capabilities {
  gatewayAccess: boolean;
  nodeGatewayJwks: boolean;
  nodeInsecureFlag: boolean;
  /** Gateway and nodes take a federation indicator key file (`--indicator-key-file`). */
  indicatorKey: boolean;
}

function helpOf(script: string): string {
  const r = spawnSync(process.execPath, [script, '--help'], { encoding: 'utf8', timeout: 60_000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}

/** Reads the gateway's and the nodes' `--help` to learn which deployment this build needs. */
export function detectCapabilities(): Capabilities {
  const gw = helpOf(GATEWAY_MAIN);
  const node = helpOf(NODE_MAIN);
  return {
    gatewayAccess: gw.includes('--members'),
    nodeGatewayJwks: node.includes('--gateway-jwks'),
    nodeInsecureFlag: node.includes('--insecure-no-grants'),
    indicatorKey: gw.includes('--indicator-key-file') && node.includes('--indicator-key-file'),
  };
}

/** Per-run access material: extra process flags, the member token, and a grant signer for direct node calls. */
export interface Deployment {
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
async function prepareDeployment(dir: string, caps: Capabilities, opts: Pick<HarnessOptions, 'nodeArgs' | 'gatewayArgs'>): Promise<Deployment> {
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
      per: new Date().toISOString(),
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
// A running federation

export interface RunningFederation {
  runDir: string;
  /** The federation indicator key the nodes and the gateway were given, if any. */
  indicatorKey: string | null;
  deployment: Deployment;
  nodes: Array<{ id: string; url: string; proc: Managed; orm: NodeOrm }>;
  gateway: { url: string; proc: Managed };
}

/**
 * Copies the seeded databases into a temporary folder, starts one process per node and the gateway,
 * and opens every node's database in this process (for the in-process figures). With
 * `indicatorKey`, nodes and gateway get the federation indicator key (`--indicator-key-file`);
 * throws when this build does not take one.
 */
export async function startFederation(
  seeded: SeededFederation,
  opts: Pick<HarnessOptions, 'nodeArgs' | 'gatewayArgs' | 'gatewayNodeFlags' | 'nodeTimeoutMs'>,
  caps: Capabilities,
  options: { indicatorKey?: boolean } = {},
): Promise<RunningFederation> {
  const runDir = mkdtempSync(join(os.tmpdir(), 'accord-bench-'));
  tempDirs.add(runDir);
  for (const n of seeded.nodes) {
    for (const f of sqliteFiles(n.db)) if (existsSync(f)) copyFileSync(f, join(runDir, basename(f)));
  }
  const deployment = await prepareDeployment(runDir, caps, opts);
  const keyFlags: string[] = [];
  if (options.indicatorKey) {
    if (!caps.indicatorKey) throw new Error('this build of the gateway or the nodes takes no --indicator-key-file');
    const keyFile = join(runDir, 'indicator.key');
    writeFileSync(keyFile, `${seeded.indicatorKey}\n`, { mode: 0o600 });
    keyFlags.push('--indicator-key-file', keyFile);
    deployment.info.nodeFlags.push(...keyFlags);
    deployment.info.gatewayFlags.push(...keyFlags);
  }
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
  return { runDir, indicatorKey: options.indicatorKey ? seeded.indicatorKey : null, deployment, nodes, gateway: { url: gwReady.url, proc: gw.managed } };
}

export async function stopFederation(f: RunningFederation): Promise<void> {
  for (const n of f.nodes) await n.orm.close(true).catch(() => undefined);
  await stopProcesses([f.gateway.proc, ...f.nodes.map((n) => n.proc)]);
  rmSync(f.runDir, { recursive: true, force: true });
  tempDirs.delete(f.runDir);
}

interface QuestionPayload {
  data?: Record<string, { queryId: string; coverage: { complete: boolean; missing: Array<{ node: string; reason: string }> }; [list: string]: unknown } | null> | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

/** How many cells an answer released: its cells, buckets or entries, or 1 for a single estimate. */
function answerSize(answer: Record<string, unknown>): number {
  const list = [answer.cells, answer.buckets, answer.entries].find(Array.isArray);
  return list ? (list as unknown[]).length : 1;
}

/** One gateway query; resolves to an error description instead of throwing on a GraphQL error. */
async function gatewayQuery(fed: RunningFederation, v: Variant): Promise<{ ok: true; queryId: string; cells: number } | { ok: false; problem: string }> {
  const r = await postJson(fed.gateway.url, v.gwBody, fed.deployment.gatewayHeaders);
  const p = r.body as QuestionPayload;
  const answer = p?.data?.[v.field];
  if (r.status !== 200 || p?.errors?.length || !answer) {
    const e = p?.errors?.[0];
    return { ok: false, problem: `HTTP ${r.status} ${e?.extensions?.code ?? ''} ${e?.message ?? ''}`.trim() };
  }
  if (!answer.coverage.complete) return { ok: false, problem: `incomplete coverage: ${JSON.stringify(answer.coverage.missing)}` };
  return { ok: true, queryId: answer.queryId, cells: answerSize(answer) };
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

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

export function addDays(iso: string, n: number): string {
  return new Date(Date.parse(`${iso}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/** One distinct question: the request the gateway will send and the HTTP bodies. */
export interface Variant {
  queryId: string;
  request: ContributionRequest;
  /** ρ the gateway charges each node for it (what a grant states). */
  rho: number;
  nodeBody: string;
  gwBody: string;
  /** Root field of the gateway query; its answer carries queryId and coverage. */
  field: string;
}

/** An analyst question as posted to the gateway. */
export interface GatewayQuestion {
  query: string;
  operationName: string;
  /** Root field the query selects. */
  field: string;
  variables: Record<string, unknown>;
}

/**
 * The variant for `args` (the question's arguments mapped to AggregateArgs, as the gateway maps them)
 * and the gateway question that asks it. The contribution request is planned exactly as the gateway
 * plans it (gateway defaults; the benchmark member's TLP ceiling is AMBER, which adds no TLP
 * filter); the gateway's answer echoes queryId, which the measurement checks.
 */
export function makeVariant(args: AggregateArgs, gw: GatewayQuestion): Variant {
  const plan = planAggregate(args, { privacy: DEFAULT_CONFIG.privacy, defaultQuorum: DEFAULT_CONFIG.quorum, maxCells: DEFAULT_CONFIG.maxCells });
  return {
    queryId: plan.queryId,
    request: plan.request,
    rho: plan.charge.rho,
    nodeBody: JSON.stringify({ query: CONTRIBUTION_OPERATION, operationName: 'Contribution', variables: { request: plan.request } }),
    gwBody: JSON.stringify({ query: gw.query, operationName: gw.operationName, variables: gw.variables }),
    field: gw.field,
  };
}

export interface MeasureOptions {
  /** Measured sequential queries per figure (after warm-up). */
  queries: number;
  /** Throughput with `concurrency` queries in flight for `seconds`; absent: not measured. */
  throughput?: { concurrency: number; seconds: number };
  cores: number;
}

/**
 * Measures one aggregate; `fresh()` returns a question no cache has seen (same node work each time).
 * Sequentially (one query at a time, after warm-up):
 *
 *   screening             `runContribution` on every node's database in this process; the slowest
 *                         node is the one with the highest median;
 *   node alone (direct)   that node's `runContribution` with the request the gateway sends;
 *   node alone (HTTP)     the same request POSTed to that node's process (interleaved with direct);
 *   fan-out w/o gateway   the request POSTed to every node at once, until the last answer;
 *   gateway end to end    the question POSTed to the gateway (interleaved ABBA with the fan-out);
 *   throughput            optional, `concurrency` gateway queries in flight.
 *
 * Throws when the gateway does not answer completely, or plans another request than `fresh()`.
 */
export async function measureAggregate(fed: RunningFederation, fresh: () => Variant, tag: string, opts: MeasureOptions): Promise<AggregateFigures> {
  const N = opts.queries;
  const cores = opts.cores;
  const headersFor = (node: string, v: Variant) => fed.deployment.nodeHeaders(node, v.request, v.rho);
  let errors = 0;
  let lastProblem = '';
  /** One gateway query; checks that the gateway asked the nodes exactly the request planned here. */
  const ask = async (v: Variant): Promise<number | null> => {
    const [t, r] = await timed(() => gatewayQuery(fed, v));
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
  let first = await gatewayQuery(fed, v0);
  for (let attempt = 1; !first.ok && attempt < 3; attempt++) {
    await settle(fed, 1_500);
    first = await gatewayQuery(fed, v0);
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

  // 4. Throughput at a small concurrency (optional).
  let throughput: AggregateFigures['throughput'] = null;
  if (opts.throughput) {
    const { concurrency, seconds } = opts.throughput;
    errors = 0;
    const tpLatency: number[] = [];
    const deadline = performance.now() + seconds * 1000;
    const tpStart = performance.now();
    let tpEnd = tpStart;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
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
    throughput = {
      concurrency,
      seconds: tpSeconds,
      completed: tpLatency.length,
      errors: tpErrors,
      perSecond: tpLatency.length / Math.max(tpSeconds, 1e-9),
      latency: statOrNull(tpLatency),
    };
  }

  const nodeDirect = stat(direct);
  const nodeHttpStat = stat(viaHttp);
  const fanoutStat = stat(fanout);
  const gwStat = stat(gateway);
  const sumMedians = perNode.reduce((a, b) => a + b.p50, 0);
  const totalGap = gwStat.p50 - nodeDirect.p50;
  const contentionMs = fanoutStat.p50 - nodeHttpStat.p50;
  const gatewayMs = gwStat.p50 - fanoutStat.p50;
  const figures: AggregateFigures = {
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
    throughput,
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
    `${tag} node alone ${ms(nodeDirect.p50, 0)} ms · over HTTP ${ms(nodeHttpStat.p50, 0)} ms · fan-out ${ms(fanoutStat.p50, 0)} ms · gateway ${ms(gwStat.p50, 0)} ms` +
      (throughput ? ` · ${throughput.perSecond.toFixed(2)} q/s @${throughput.concurrency}` : ''),
  );
  return figures;
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
  };
}

/** Says so when the machine is already busy before the benchmark starts (figures will be noisy). */
export function noteIfBusy(machine: MachineInfo): void {
  const load = os.loadavg()[0]!;
  if (load > machine.cores / 2) say(`Note: the machine is busy (load average ${load.toFixed(1)} on ${machine.cores} cores); figures will be noisy.`);
}

/**
 * Runs `body` and then stops every process the harness started and removes its temporary folders —
 * also when `body` throws (the error is rethrown) and on SIGINT/SIGTERM (exit code 130/143).
 */
export async function withBenchProcesses<T>(body: () => Promise<T>): Promise<T> {
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
  try {
    return await body();
  } finally {
    await stopProcesses([...running]);
    removeTempDirs();
    client.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', killOnExit);
  }
}
