/**
 * Analyst questions benchmark: each of the gateway's analyst questions (crossBorderPattern, trend,
 * topK, exploitVintages, sectorImpact, indicatorPrevalence) asked through the gateway over real
 * HTTP on 127.0.0.1, against node processes that each hold a synthetic incident database (SQLite),
 * compared with the slowest node computing the same aggregate alone.
 *
 * Every question is one contribution request per node. For each, the benchmark builds that request
 * exactly as the gateway does — the question's arguments through its `*Args` function
 * (gateway/aggregate/questions.ts), then `planAggregate` — and measures with the federation
 * benchmark's machinery (harness.ts): the slowest node's `runContribution` on its own database
 * (in-process: its local SQL time), the same node over HTTP, every node at once without the
 * gateway, and the gateway end to end. The ratio gateway p50 ÷ slowest node local p50 has the
 * target ≤ 1.5; the gap is split into the node's HTTP/GraphQL layer, CPU contention between the
 * nodes, and the gateway's own overhead.
 *
 * The questions (the synthetic data covers 2024):
 *
 *   crossBorderPattern   groupBy [REGION, SECTOR], 2024
 *   trend                MONTH buckets of 2024, sector energy
 *   topK                 k = 10 by EXPLOIT, 2024; and k = 10 by TOOL, 2024 (measure ORGANISATIONS)
 *   exploitVintages      by [SECTOR], 2024
 *   sectorImpact         groupBy [SECTOR, REGION], 2024
 *   indicatorPrevalence  the IPv4 indicator of a planted cross-border campaign; the question's
 *                        window always ends today, so `days` reaches back to 1 January 2024 and
 *                        covers the whole data year, like the other questions' year window
 *
 * Deployment as in production: member token, Cedar policy, budgets, signed grants (see harness.ts),
 * and one federation indicator key shared by the nodes and the gateway (`--indicator-key-file`),
 * under which the seeding hashes the indicators. Every measured round asks a question not asked
 * before (the window's end moved one day later, past the data; for indicatorPrevalence one day
 * more), so the answer cache never serves it while the nodes' work stays the same.
 *
 * Environment: BENCH_NODES (nodes, 5; `npm run bench` reads BENCH_QUESTION_NODES instead),
 * BENCH_INCIDENTS (per node, 1000000), BENCH_QUERIES (measured rounds per question, 20),
 * BENCH_QUESTIONS (comma-separated subset of the question labels below; `none` skips the benchmark
 * in `npm run bench`), BENCH_OUT (write the JSON result to this file), and the federation
 * benchmark's BENCH_SEED, BENCH_CACHE_DIR, BENCH_NODE_TIMEOUT_MS, BENCH_NODE_ARGS,
 * BENCH_GATEWAY_ARGS, BENCH_GATEWAY_NODE_FLAGS. Seeded databases are cached (shared with the
 * federation benchmark at the same size).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AggregateArgs } from '../../gateway/aggregate/query.js';
import { impactArgs, prevalenceArgs, topKArgs, trendArgs, vintageArgs } from '../../gateway/aggregate/questions.js';
import { ALL_NODES, federationNodes, type PlantedCampaign } from '../synth/index.js';
import {
  RATIO_TARGET,
  addDays,
  daysBetween,
  detectCapabilities,
  ensureSeeded,
  harnessOptionsFromEnv,
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
  type DeploymentInfo,
  type HarnessOptions,
  type MachineInfo,
  type Variant,
} from './harness.js';

export interface QuestionsBenchOptions extends HarnessOptions {
  nodes: number;
  /** Labels of the questions to measure (default: all). */
  questions: string[];
  /** JSON result file (BENCH_OUT), if any. */
  out: string | null;
}

export interface QuestionFigures {
  label: string;
  question: string;
  description: string;
  /** The first round's arguments as the gateway maps them (AggregateArgs). */
  args: AggregateArgs;
  figures: AggregateFigures;
}

export interface QuestionsBenchResult {
  machine: MachineInfo;
  options: QuestionsBenchOptions;
  deployment: DeploymentInfo;
  nodeIds: string[];
  /** The planted indicator asked by indicatorPrevalence (a documentation-range value). */
  indicator: { type: string; value: string; campaign: string; organisations: number; window: { from: string; to: string } };
  questions: QuestionFigures[];
  targetRatio: number;
}

// ---------------------------------------------------------------------------------------------
// The questions

const ENVELOPE = `
    accuracy { mechanism scale stdDev ci95 confidence }
    charge { rho epsilon delta }
    coverage { asked answered missing { node reason code } complete }`;

/** One round's question: its arguments as the gateway maps them, and its GraphQL variables. */
interface Round {
  args: AggregateArgs;
  variables: Record<string, unknown>;
}

interface QuestionSpec {
  label: string;
  field: string;
  description: string;
  /** The GraphQL operation posted to the gateway. */
  gql: { query: string; operationName: string };
  /** Round `i` (0, 1, …): each a distinct question with the same node work. */
  round(i: number, ctx: { indicator: { type: string; value: string }; indicatorKey: string; today: string }): Round;
}

const DATA_FROM = '2024-01-01';
const DATA_TO = '2025-01-01';
/** The year of data; round i ends i days later (past the data: the rows counted stay the same). */
const yearWindow = (i: number) => ({ from: DATA_FROM, to: addDays(DATA_TO, i) });

const operation = (operationName: string, params: string, call: string, selection: string) => ({
  operationName,
  query: `query ${operationName}(${params}) {\n  ${call} {\n    queryId${selection}${ENVELOPE}\n  }\n}`,
});

function topK(by: 'EXPLOIT' | 'TOOL'): QuestionSpec {
  const entry = by === 'EXPLOIT' ? 'exploit { cve }' : 'tool';
  return {
    label: `topK ${by}`,
    field: 'topK',
    description: `topK(k: 10, by: ${by}), organisations hit in 2024`,
    gql: operation(`BenchTopK${by}`, '$filter: PatternFilter', `topK(k: 10, by: ${by}, filter: $filter)`, `\n    method\n    entries { rank ${entry} selected value rawValue low high }\n    selection { threshold released }`),
    round: (i) => {
      const filter = yearWindow(i);
      return { args: topKArgs({ k: 10, by, filter }), variables: { filter } };
    },
  };
}

export const QUESTIONS: readonly QuestionSpec[] = [
  {
    label: 'crossBorderPattern',
    field: 'crossBorderPattern',
    description: 'crossBorderPattern(groupBy: [REGION, SECTOR]), incidents in 2024',
    gql: operation('BenchCrossBorderRegionSector', '$filter: PatternFilter', 'crossBorderPattern(groupBy: [REGION, SECTOR], filter: $filter)', '\n    cells { region sector value rawValue low high }'),
    round: (i) => {
      const filter = yearWindow(i);
      return { args: { question: 'crossBorderPattern', measure: 'INCIDENTS', groupBy: ['REGION', 'SECTOR'], filter }, variables: { filter } };
    },
  },
  {
    label: 'trend',
    field: 'trend',
    description: 'trend(interval: MONTH), energy incidents per month of 2024',
    gql: operation('BenchTrend', '$filter: PatternFilter!', 'trend(interval: MONTH, filter: $filter)', '\n    buckets { period value rawValue low high change }\n    significantChanges'),
    round: (i) => {
      const filter = { sectors: ['energy'], ...yearWindow(i) };
      return { args: trendArgs({ interval: 'MONTH', filter }), variables: { filter } };
    },
  },
  topK('EXPLOIT'),
  topK('TOOL'),
  {
    label: 'exploitVintages',
    field: 'exploitVintages',
    description: 'exploitVintages(by: [SECTOR]), incidents in 2024',
    gql: operation('BenchVintages', '$filter: PatternFilter', 'exploitVintages(by: [SECTOR], filter: $filter)', '\n    cells { vintage sector value rawValue low high share }'),
    round: (i) => {
      const filter = yearWindow(i);
      return { args: vintageArgs({ by: ['SECTOR'], filter }), variables: { filter } };
    },
  },
  {
    label: 'sectorImpact',
    field: 'sectorImpact',
    description: 'sectorImpact(groupBy: [SECTOR, REGION]), 2024',
    gql: operation(
      'BenchImpact',
      '$filter: PatternFilter',
      'sectorImpact(groupBy: [SECTOR, REGION], filter: $filter)',
      '\n    cells { sector region incidents { value low high } meanSeverity { value low high } disruptionShare { value low high } }\n    split { count sum disrupted }',
    ),
    round: (i) => {
      const filter = yearWindow(i);
      return { args: impactArgs({ groupBy: ['SECTOR', 'REGION'], filter }), variables: { filter } };
    },
  },
  {
    label: 'indicatorPrevalence',
    field: 'indicatorPrevalence',
    description: 'indicatorPrevalence(planted IPv4, days back to 2024-01-01)',
    gql: operation(
      'BenchPrevalence',
      '$indicator: IndicatorInput!, $days: Int',
      'indicatorPrevalence(indicator: $indicator, days: $days)',
      '\n    indicatorType\n    window { from to days }\n    organisations { value rawValue low high }',
    ),
    round: (i, ctx) => {
      // The window is the last `days` days up to today; it starts on DATA_FROM in round 0 and one
      // day earlier each round after (before the data: the rows counted stay the same).
      const days = daysBetween(DATA_FROM, addDays(ctx.today, 1)) + i;
      return { args: prevalenceArgs({ indicator: ctx.indicator, days }, ctx.indicatorKey, ctx.today).args, variables: { indicator: ctx.indicator, days } };
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Options

function nodeCount(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 5;
  const n = Number(raw.trim());
  if (!Number.isInteger(n) || n < 1 || n > ALL_NODES.length) throw new RangeError(`BENCH_NODES must be one integer from 1 to ${ALL_NODES.length} for the questions benchmark`);
  return n;
}

/**
 * Reads the options from the environment (see the module comment). Throws RangeError for a
 * malformed value or an unknown question label. BENCH_QUESTION_NODES, when set, wins over BENCH_NODES.
 */
export function questionsBenchOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): QuestionsBenchOptions {
  const h = harnessOptionsFromEnv(env, { incidentsPerNode: 1_000_000, queries: 20 });
  const labels = QUESTIONS.map((q) => q.label);
  const raw = (env.BENCH_QUESTIONS ?? '').trim();
  const questions = raw === '' ? labels : raw === 'none' ? [] : raw.split(',').map((s) => s.trim());
  for (const q of questions) if (!labels.includes(q)) throw new RangeError(`BENCH_QUESTIONS: unknown question "${q}"; use ${labels.join(', ')}`);
  return {
    ...h,
    nodes: nodeCount(env.BENCH_QUESTION_NODES ?? env.BENCH_NODES),
    questions,
    out: env.BENCH_OUT ? resolve(env.BENCH_OUT) : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Running

/** The planted campaign indicator the prevalence question asks about (an IPv4 address if there is one). */
function plantedIndicator(planted: readonly PlantedCampaign[]): QuestionsBenchResult['indicator'] {
  for (const c of planted) {
    const ind = c.indicators.find((x) => x.type === 'ipv4-addr') ?? c.indicators[0];
    if (ind) return { type: ind.type, value: ind.value, campaign: c.id, organisations: c.organisations, window: c.window };
  }
  throw new Error('the synthetic federation has no planted campaign indicator; indicatorPrevalence cannot be measured');
}

/**
 * Seeds (or reuses) the databases, starts the nodes and the gateway with the shared indicator key,
 * measures every selected question, and stops everything — also when a measurement throws (the
 * error is rethrown) and on SIGINT/SIGTERM (exit code 130/143).
 */
export async function runQuestionsBench(opts: QuestionsBenchOptions): Promise<QuestionsBenchResult> {
  const machine = machineInfo();
  const specs = federationNodes(opts.nodes);
  const selected = QUESTIONS.filter((q) => opts.questions.includes(q.label));
  if (opts.queries < 20) say(`Note: BENCH_QUERIES=${opts.queries} is below 20; p95 is rough.`);
  return withBenchProcesses(async () => {
    say(`\nAnalyst questions benchmark — ${opts.nodes} nodes × ${int(opts.incidentsPerNode)} incidents, ${machine.cores} cores (${machine.cpu}), Node ${machine.node}`);
    noteIfBusy(machine);
    const caps = detectCapabilities();
    const seeded = await ensureSeeded(specs, opts);
    const indicator = plantedIndicator(seeded.planted);
    say(`Starting ${opts.nodes} node processes and the gateway…`);
    const fed = await startFederation(seeded, opts, caps, { indicatorKey: true });
    try {
      const questions: QuestionFigures[] = [];
      // `today` is read per round, as the gateway reads its clock per question.
      const context = () => ({ indicator: { type: indicator.type, value: indicator.value }, indicatorKey: fed.indicatorKey!, today: new Date().toISOString().slice(0, 10) });
      for (const q of selected) {
        let issued = 0;
        const fresh = (): Variant => {
          const r = q.round(issued++, context());
          return makeVariant(r.args, { ...q.gql, field: q.field, variables: r.variables });
        };
        say(`  ${q.label}: ${q.description}`);
        const figures = await measureAggregate(fed, fresh, `  ${q.label.padEnd(20)}`, { queries: opts.queries, cores: machine.cores });
        questions.push({ label: q.label, question: q.field, description: q.description, args: q.round(0, context()).args, figures });
      }
      return {
        machine,
        options: opts,
        deployment: fed.deployment.info,
        nodeIds: specs.map((s) => s.id),
        indicator,
        questions,
        targetRatio: RATIO_TARGET,
      };
    } finally {
      await stopFederation(fed);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Report

/** Prints one line per question: latencies, the ratio to the target, and where the gap goes. */
export function printQuestionsBench(r: QuestionsBenchResult): void {
  if (r.questions.length === 0) return;
  const { machine, deployment } = r;
  say(`\nAnalyst questions — ${r.nodeIds.length} nodes (${r.nodeIds.join(', ')}) × ${int(r.options.incidentsPerNode)} incidents each, SQLite`);
  say(`machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}; all traffic on 127.0.0.1; every node and the gateway a separate process`);
  say(`${r.options.queries} sequential queries per question after warm-up, each a distinct question; latencies in ms`);
  say(`deployment: gateway access control ${deployment.accessControl ? 'on (member token, policy, budgets, ledger, signed grants)' : 'not in this build'}; node grant check: ${deployment.nodeGrants}; shared indicator key`);
  say(`indicatorPrevalence asks ${r.indicator.type} ${r.indicator.value} (planted campaign ${r.indicator.campaign}, ${r.indicator.organisations} organisations, ${r.indicator.window.from}..${r.indicator.window.to})`);
  say('');
  say('question             cells  slowest node │ node local (SQL) │ gateway end to end │ ratio          │ node HTTP  fan-out  CPU floor │ gw ÷ fan-out │ gap = node HTTP + contention + gateway');
  say('                                         │   p50      p95   │   p50      p95     │ gw ÷ local     │    p50       p50               │              │');
  for (const q of r.questions) {
    const f = q.figures;
    const ok = f.ratio <= r.targetRatio ? 'met' : 'missed';
    const g = f.gap;
    say(
      `${q.label.padEnd(20)} ${String(f.cells).padStart(5)}  ${f.slowestNode.padEnd(12)} │ ${ms(f.nodeDirect.p50)}  ${ms(f.nodeDirect.p95)} │ ${ms(f.gateway.p50)}  ${ms(f.gateway.p95)}   │ ${f.ratio.toFixed(2).padStart(5)}× ${ok.padEnd(7)} │ ${ms(f.nodeHttp.p50, 9)} ${ms(f.fanout.p50, 8)} ${ms(f.cpuFloorMs, 10)} │ ${f.gatewayOverFanout.toFixed(2).padStart(11)}× │ ${ms(g.totalMs)} = ${ms(g.nodeHttpMs, 6)} + ${ms(g.contentionMs, 7)} + ${ms(g.gatewayMs, 6)}` +
        (f.gateway.errors ? `  (failed: ${f.gateway.errors})` : ''),
    );
  }
  say('');
  say('Reading the figures:');
  say("  node local    runContribution in-process on the slowest node's database, with the request the gateway sends: its SQL time");
  say(`  ratio         gateway p50 ÷ node local p50 (target ≤ ${r.targetRatio})`);
  say('  node HTTP     the same request POSTed to that node process alone (its HTTP/GraphQL layer, grant check, ledger)');
  say('  fan-out       the request POSTed to every node at once without the gateway: the floor of any gateway on this machine');
  say(`  CPU floor     max(slowest node, Σ node medians ÷ min(${machine.cores} cores, nodes)): no fan-out can beat it on this machine`);
  say('  contention    fan-out − node HTTP: the nodes sharing the cores, not gateway overhead');
  say("  gateway       gateway − fan-out: the gateway's own cost (Apollo, admission, planning, validation, noise, JSON)");
  if (r.nodeIds.length > machine.cores) {
    say(`  With more node processes than cores (${machine.cores}), the ratio mostly measures CPU sharing; compare the gateway with the fan-out.`);
  }
}

/** Writes the result as JSON to `file`. */
export function writeQuestionsBench(r: QuestionsBenchResult, file: string): void {
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  say(`JSON results written to ${file}`);
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const opts = questionsBenchOptionsFromEnv();
  runQuestionsBench(opts)
    .then((r) => {
      printQuestionsBench(r);
      if (opts.out) writeQuestionsBench(r, opts.out);
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}
