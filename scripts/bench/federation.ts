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
 *
 * The seeding, the processes, the deployment and the measurement of one aggregate live in
 * harness.ts, shared with the analyst questions benchmark (questions.ts).
 */
import type { AggregateArgs } from '../../gateway/aggregate/query.js';
import { ALL_NODES, federationNodes } from '../synth/index.js';
import {
  RATIO_TARGET,
  addDays,
  daysBetween,
  detectCapabilities,
  ensureSeeded,
  harnessOptionsFromEnv,
  positiveInt,
  int,
  machineInfo,
  makeVariant,
  measureAggregate,
  ms,
  noteIfBusy,
  say,
  startFederation,
  stopFederation,
  withBenchProcesses,
  type AggregateFigures,
  type Capabilities,
  type DeploymentInfo,
  type MachineInfo,
  type Variant,
} from './harness.js';

export type { DeploymentInfo, Stat } from './harness.js';

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

export type WindowFigures = { window: { label: string; from: string; to: string; days: number } } & AggregateFigures & {
  throughput: NonNullable<AggregateFigures['throughput']>;
};

export interface ConfigFigures {
  nodes: number;
  nodeIds: string[];
  incidentsPerNode: number;
  countries: number;
  windows: WindowFigures[];
}

export interface FederationBenchResult {
  machine: MachineInfo;
  options: FederationBenchOptions;
  deployment: DeploymentInfo;
  configs: ConfigFigures[];
  targetRatio: number;
}

// ---------------------------------------------------------------------------------------------
// Options

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
  const h = harnessOptionsFromEnv(env, { incidentsPerNode: 100_000, queries: 40 });
  return {
    nodeCounts,
    incidentsPerNode: h.incidentsPerNode,
    queries: h.queries,
    seed: h.seed,
    cacheDir: h.cacheDir,
    concurrency: positiveInt('BENCH_CONCURRENCY', env.BENCH_CONCURRENCY, 4),
    throughputSeconds: positiveInt('BENCH_THROUGHPUT_SECONDS', env.BENCH_THROUGHPUT_SECONDS, 8),
    nodeTimeoutMs: h.nodeTimeoutMs,
    nodeArgs: h.nodeArgs,
    gatewayArgs: h.gatewayArgs,
    gatewayNodeFlags: h.gatewayNodeFlags,
  };
}

// ---------------------------------------------------------------------------------------------
// The question and its windows

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

/**
 * Variant `i` of a window: `slide` moves the whole window i days later, `extend` moves only its end
 * (past the data, so the rows counted stay the same). Every round thus asks a question no cache has
 * seen, with the same work for the nodes.
 */
export function variantOf(countries: string[], win: BenchWindow, i: number): Variant {
  const from = win.shift === 'slide' ? addDays(win.from, i) : win.from;
  const to = addDays(win.to, i);
  const args: AggregateArgs = { groupBy: ['COUNTRY', 'SECTOR'], filter: { countries, from, to } };
  return makeVariant(args, { query: GATEWAY_QUERY, operationName: 'BenchCrossBorder', field: 'crossBorderPattern', variables: { filter: args.filter } });
}

// ---------------------------------------------------------------------------------------------
// Running

async function runConfig(count: number, opts: FederationBenchOptions, caps: Capabilities, cores: number): Promise<{ figures: ConfigFigures; deployment: DeploymentInfo }> {
  const specs = federationNodes(count);
  const seeded = await ensureSeeded(specs, opts);
  const countries = [...new Set(specs.flatMap((s) => Object.keys(s.countries)))].sort();
  say(`Starting ${count} node processes and the gateway…`);
  const fed = await startFederation(seeded, opts, caps);
  try {
    const windows: WindowFigures[] = [];
    for (const win of BENCH_WINDOWS) {
      let issued = 0;
      const tag = `  ${String(count).padStart(2)} nodes, ${win.label.padEnd(8)}`;
      const throughput = { concurrency: opts.concurrency, seconds: opts.throughputSeconds };
      const f = await measureAggregate(fed, () => variantOf(countries, win, issued++), tag, { queries: opts.queries, throughput, cores });
      windows.push({ window: { label: win.label, from: win.from, to: win.to, days: daysBetween(win.from, win.to) }, ...f, throughput: f.throughput! });
    }
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
  const machine = machineInfo();
  if (opts.queries < 30) say(`Note: BENCH_QUERIES=${opts.queries} is below 30; percentiles are rough.`);
  const configs: ConfigFigures[] = [];
  let deployment: DeploymentInfo | undefined;
  await withBenchProcesses(async () => {
    say(`\nFederation benchmark — ${machine.cores} cores (${machine.cpu}), Node ${machine.node}`);
    noteIfBusy(machine);
    const caps = detectCapabilities();
    for (const count of opts.nodeCounts) {
      const r = await runConfig(count, opts, caps, machine.cores);
      configs.push(r.figures);
      deployment = r.deployment;
    }
  });
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
