/**
 * The analyst questions end to end as real processes: three nodes (dist/nodes/main.js) over SQLite
 * files seeded from a synthetic federation, the gateway (dist/gateway/main.js), access control on
 * (member token, signed grants the nodes verify), one federation indicator key shared by all of
 * them. Every question is ONE contribution request per node: `planAggregate(xxxArgs(args),
 * deps).request` is exactly what the gateway sends, so the truth is computed independently of the
 * gateway with the node's contribution oracle (nodes/contribution/oracle.ts) summed over
 * the nodes' datasets.
 *
 * 1. Each question (crossBorderPattern, trend, topK, exploitVintages, sectorImpact,
 *    indicatorPrevalence) against the truth, over several fresh variants.
 * 2. Each question's charge against the ledger (`myBudget` before and after; nothing for a cached
 *    repeat).
 * 3. Partition selection: a tool planted in one organisation's incidents, and every other tool one
 *    organisation holds, never appears in 32 TOOL answers; the planted campaign's tool always does.
 * 4. The federation join, through an in-process gateway over the same node processes that records
 *    every operation the public reference subgraph receives.
 *
 * Bounds: L0 = 10, L∞ = 3, ρ = 8 per question, δ = 1e-8. Every question is asked over a window in
 * which no organisation has more than L0 groups (asserted per question), so no random L0 choice is
 * made and the bounded totals are deterministic (the L∞ cap of a count is min(rows, L∞), also
 * deterministic). sectorImpact is the exception handled explicitly: its severity sum and
 * disruption count keep a uniformly random L∞ of a larger organisation's rows, so their truth is
 * known only to lie in a range (smallest to largest possible kept rows); an interval "misses" only
 * when it avoids that whole range, which under a correct gateway happens no more often than the
 * realised value falls outside it (≤ 5%).
 *
 * Statistical decisions (each false alarm ≤ α = 1e-6, stated at each check; about 30 checks, so
 * ≤ 3e-5 for the file):
 * - interval coverage: a count misses when the truth is outside rawValue ± ci95. Misses over n
 *   cells of independent noise are Binomial(n, p) with p ≤ 0.05; a test fails at the smallest m
 *   with P(Binomial(n, 0.05) ≥ m) ≤ α (upper alarm), or at the largest m with
 *   P(Binomial(n, p_exact) ≤ m) ≤ α for the discrete Gaussian's exact p (lower alarm: too little
 *   noise; only where n is large enough for one);
 * - bias: Σ(rawValue − truth) over n cells is √n·σ-subgaussian and fails beyond
 *   √(2nσ² ln(2/α));
 * - "beyond 7σ" arguments: the noise is σ-subgaussian, so P(|N| ≥ 7σ) ≤ 2e^(−24.5) ≈ 4.6e-11 per
 *   draw. The k of topK is chosen where the k-th and (k+1)-th true counts differ by more than 2·7σ,
 *   so the released set is the true top-k unless some noise reaches 7σ (≤ 4e-7 over the 1,404 KEV
 *   cells of 6 answers); keys ≥ 7σ above the selection threshold are released unconditionally.
 * - selection: a key one organisation holds reaches τ with P ≤ selection.delta / L0 = 5e-10 per
 *   answer (the gateway's threshold rule), so over 32 answers and the ≤ 62 such tools P ≤ 1e-6.
 *
 * Cache busting: repeated questions add a `subregions` filter that lists every sub-region of the
 * federation's countries plus a never-used subset of the others (no question here groups by
 * geography, so neither the counted incidents nor the released cells change); prevalence
 * questions take a different `days`, each window covering all of 2024.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'graphql';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ContributionRequest } from '../../schema/contract/index.js';
import { VINTAGE_BUCKETS } from '../../schema/contract/contribution.js';
import type { IncidentRecord } from '../../schema/contract/dataset.js';
import { normaliseIndicator } from '../../schema/contract/indicator.js';
import { discreteGaussianAccuracy } from '../../schema/privacy/accuracy.js';
import { KEV, SECTOR_IDS, SUBREGIONS, countryByAlpha2, kevByCve, sectorById } from '../../schema/reference/index.js';
import { oracleCells, oracleContribution } from '../../nodes/contribution/oracle.js';
import { createGateway, type Gateway } from '../../gateway/app.js';
import { ensureSigningKey } from '../../gateway/grants/signer.js';
import { chargeUnits } from '../../gateway/ledger/units.js';
import { planAggregate, type AggregatePlan } from '../../gateway/aggregate/plan.js';
import type { AggregateArgs, AggregateFilterInput } from '../../gateway/aggregate/query.js';
import { impactArgs, prevalenceArgs, topKArgs, trendArgs, vintageArgs } from '../../gateway/aggregate/questions.js';
import { DEMO_NODES, generateFederation } from '../../scripts/synth/index.js';
import { makeAccessFixture, type AccessFixture } from '../helpers/access.js';
import {
  GATEWAY_MAIN,
  NODE_MAIN,
  discreteGaussianMiss,
  gql,
  lowerAlarm,
  makeTempDir,
  removeDir,
  startProcess,
  stopProcess,
  subGaussianBound,
  upperAlarm,
  waitListening,
  type Proc,
} from './helpers.js';

const SEED = 'accord-questions';
const INCIDENTS_PER_NODE = 3_000;
const RHO = 8;
const DELTA = 1e-8;
const L0 = 10;
const LINF = 3;
const PRIVACY = { rho: RHO, delta: DELTA, maxPartitions: L0, maxPerPartition: LINF, multiplicity: 1 };
const DEPS = { privacy: PRIVACY, defaultQuorum: 'STRICT' as const, maxCells: 5_000 };
const ALPHA = 1e-6;
/** Fresh answers per question for the coverage checks. */
const REPEATS = 6;
/** Fresh answers per kind (crossBorderPattern by TOOL, topK by TOOL) in the selection test. */
const TOOL_VARIANTS = 16;
/** Noise bound (in σ) used for the "far from the threshold / rank gap" arguments. */
const BOUND_SIGMAS = 7;
const MEMBER = 'eu-analyst';
/** The in-process gateway asks as another member, so the two gateways' ledgers never mix on a node. */
const JOIN_MEMBER = 'asia-analyst';
const INDICATOR_KEY = randomBytes(24).toString('hex');

const fed = generateFederation({ seed: SEED, nodes: DEMO_NODES, incidentsPerNode: INCIDENTS_PER_NODE });
const NODE_IDS = DEMO_NODES.map((n) => n.id);
const CONTRIBUTING = new Set(['CLEAR', 'GREEN', 'AMBER']);

const DAY_MS = 86_400_000;
const addDays = (iso: string, n: number): string => new Date(Date.parse(`${iso}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
const daysBetween = (from: string, to: string): number => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);

const OT_CAMPAIGN = fed.planted.find((p) => p.id === 'campaign-ot-tool')!;
const KEV_CAMPAIGN = fed.planted.find((p) => p.id === 'campaign-kev-energy')!;
/** The OT campaign's calendar month: tool and top-k questions. */
const TOOL_WINDOW = { from: OT_CAMPAIGN.window.from, to: addDays(OT_CAMPAIGN.window.to, 1) };
const YEAR = { from: '2024-01-01', to: '2025-01-01' };
const TREND_WINDOW = { from: '2024-02-01', to: '2024-10-01' };
const IMPACT_WINDOW = { from: '2024-08-01', to: '2024-10-01' };
const PLANTED_INDICATOR = KEV_CAMPAIGN.indicators.find((i) => i.type === 'ipv4-addr')!;
const ABSENT_INDICATOR = { type: 'domain-name', value: 'never-reported-anywhere.example' };
const NON_KEV_CVE = 'CVE-1999-99999';

// --- a tool only one organisation holds, planted before seeding -------------------------------

const PLANT_NODE = 'cert-fr';
const PLANTED_TOOL = 'Quillwort Implant';
/** The planted tool's organisation and incidents (≤ L∞, all in the tool window, contributing TLP). */
const PLANT = (() => {
  const d = fed.datasets[PLANT_NODE]!;
  const inWindow = (i: IncidentRecord): boolean => CONTRIBUTING.has(i.tlp) && i.date >= TOOL_WINDOW.from && i.date < TOOL_WINDOW.to;
  const byOrg = new Map<string, IncidentRecord[]>();
  for (const i of d.incidents) if (inWindow(i)) byOrg.set(i.organisation, [...(byOrg.get(i.organisation) ?? []), i]);
  const org = [...byOrg.keys()].sort().find((o) => byOrg.get(o)!.length === 2)!;
  const incidents = byOrg.get(org)!;
  const id = `tool:${PLANTED_TOOL}`;
  d.exploits.push({ id, name: PLANTED_TOOL, kind: 'tool' });
  d.exploits.sort((a, b) => (a.id < b.id ? -1 : 1));
  for (const i of incidents) i.exploits.push(id);
  return { org, incidents: incidents.map((i) => i.id) };
})();

// --- variants -----------------------------------------------------------------------------------

const DATA_COUNTRIES = [...new Set(Object.values(fed.datasets).flatMap((d) => d.incidents.map((i) => i.country)))].sort();
const HOME_SUBREGIONS = [...new Set(DATA_COUNTRIES.map((c) => countryByAlpha2(c)!.subregion))].sort();
const OTHER_SUBREGIONS = SUBREGIONS.filter((s) => !HOME_SUBREGIONS.includes(s));
let variants = 0;
/** `filter` with a subregions list never used before (every home sub-region plus a new subset of the others). */
function fresh(filter: AggregateFilterInput): AggregateFilterInput {
  const n = ++variants;
  return { ...filter, subregions: [...HOME_SUBREGIONS, ...OTHER_SUBREGIONS.filter((_, i) => (n >> i) & 1)] };
}
const TODAY = new Date().toISOString().slice(0, 10);
/** Smallest `days` whose window (today included) starts before 2024. */
const PREVALENCE_DAYS = daysBetween('2024-01-01', TODAY) + 31;
let prevalenceVariants = 0;

// --- truth ---------------------------------------------------------------------------------------

interface Truth {
  count: number;
  sum: number;
  disrupted: number;
}
const keyOf = (key: readonly (string | null)[]): string => JSON.stringify(key);

/** True bounded totals of `request` per group, summed over the nodes' datasets. */
function truthOf(request: ContributionRequest): Map<string, Truth> {
  const totals = new Map<string, Truth>();
  for (const id of NODE_IDS) {
    for (const g of oracleContribution(fed.datasets[id]!, request, { indicatorKey: INDICATOR_KEY }).groups) {
      const k = keyOf(g.key);
      const t = totals.get(k) ?? { count: 0, sum: 0, disrupted: 0 };
      t.count += g.count;
      t.sum += g.sum ?? 0;
      t.disrupted += g.disrupted ?? 0;
      totals.set(k, t);
    }
  }
  return totals;
}
const countOf = (t: Map<string, Truth>, key: readonly (string | null)[]): number => t.get(keyOf(key))?.count ?? 0;

/**
 * Largest number of groups one organisation has under `request` before the L0 cut. At most L0:
 * no organisation is cut, so the truth is deterministic.
 */
function maxGroupsPerOrganisation(request: ContributionRequest): number {
  const open = { ...request, bounds: { ...request.bounds, maxPartitions: 10_000 } };
  let max = 0;
  for (const id of NODE_IDS) {
    const perOrg = new Map<string, number>();
    for (const c of oracleCells(fed.datasets[id]!, open, { indicatorKey: INDICATOR_KEY })) perOrg.set(c.org, (perOrg.get(c.org) ?? 0) + 1);
    max = Math.max(max, ...perOrg.values());
  }
  return max;
}

// --- answers -------------------------------------------------------------------------------------

interface Estimate {
  value: number;
  rawValue: number;
  stdDev: number;
  low: number;
  high: number;
}
interface Accuracy {
  mechanism: string;
  scale: number;
  stdDev: number;
  ci95: number;
  confidence: number;
}
interface Envelope {
  queryId: string;
  measure: string;
  accuracy: Accuracy;
  charge: { rho: number; epsilon: number; delta: number };
  coverage: { asked: string[]; answered: string[]; missing: unknown[]; complete: boolean };
  selection: { method: string; threshold: number; delta: number; released: number } | null;
  cached: boolean;
  remainingBudget: Array<{ node: string; spent: { rho: number; delta: number } }>;
}
interface AggregateAnswer extends Envelope {
  groupBy: string[];
  cells: Array<Estimate & { sector: string | null; tlp: string | null; tool: string | null; exploit: { cve: string } | null; selected: boolean }>;
}
interface TrendAnswer extends Envelope {
  interval: string;
  significantChanges: number;
  buckets: Array<Estimate & { period: string; change: string }>;
}
interface TopKAnswer extends Envelope {
  by: string;
  k: number;
  method: string;
  entries: Array<Estimate & { rank: number; exploit: { cve: string } | null; tool: string | null; actor: string | null; selected: boolean }>;
}
interface VintageAnswer extends Envelope {
  by: string[];
  cells: Array<Estimate & { vintage: string; sector: string | null; region: string | null; subregion: string | null; country: string | null; share: number | null }>;
}
interface Ratio {
  value: number | null;
  stdDev: number | null;
  low: number;
  high: number;
  confidence: number;
}
interface ImpactAnswer extends Envelope {
  groupBy: string[];
  split: { count: number; sum: number; disrupted: number };
  severitySumAccuracy: Accuracy;
  disruptionAccuracy: Accuracy;
  cells: Array<{ sector: string; incidents: Estimate; meanSeverity: Ratio; disruptionShare: Ratio; rawSeveritySum: number; rawDisrupted: number }>;
}
interface PrevalenceAnswer extends Envelope {
  indicatorType: string;
  window: { from: string; to: string; days: number };
  organisations: Estimate;
}

const ACCURACY = 'mechanism scale stdDev ci95 confidence';
const ENVELOPE = `queryId measure accuracy { ${ACCURACY} } charge { rho epsilon delta }
  coverage { asked answered missing { node reason code } complete } selection { method threshold delta released } cached
  remainingBudget { node spent { rho delta } }`;
const EST = 'value rawValue stdDev low high';
const RATIO = 'value stdDev low high confidence';

const CROSS_QUERY = /* GraphQL */ `
  query Cross($measure: Measure, $groupBy: [PatternDimension!]!, $filter: PatternFilter) {
    crossBorderPattern(measure: $measure, groupBy: $groupBy, filter: $filter) {
      groupBy cells { sector tlp tool exploit { cve } ${EST} selected } ${ENVELOPE}
    }
  }`;
const TREND_QUERY = /* GraphQL */ `
  query Trend($measure: Measure, $interval: TrendInterval!, $filter: PatternFilter!) {
    trend(measure: $measure, interval: $interval, filter: $filter) { interval significantChanges buckets { period ${EST} change } ${ENVELOPE} }
  }`;
const TOPK_QUERY = /* GraphQL */ `
  query TopK($k: Int!, $by: TopKDimension!, $measure: Measure, $filter: PatternFilter) {
    topK(k: $k, by: $by, measure: $measure, filter: $filter) { by k method entries { rank exploit { cve } tool actor selected ${EST} } ${ENVELOPE} }
  }`;
const VINTAGE_QUERY = /* GraphQL */ `
  query Vintages($by: [VintageGrouping!], $measure: Measure, $filter: PatternFilter) {
    exploitVintages(by: $by, measure: $measure, filter: $filter) { by cells { vintage sector region subregion country ${EST} share } ${ENVELOPE} }
  }`;
const IMPACT_QUERY = /* GraphQL */ `
  query Impact($groupBy: [ImpactDimension!], $filter: PatternFilter) {
    sectorImpact(groupBy: $groupBy, filter: $filter) {
      groupBy split { count sum disrupted } severitySumAccuracy { ${ACCURACY} } disruptionAccuracy { ${ACCURACY} }
      cells { sector incidents { ${EST} } meanSeverity { ${RATIO} } disruptionShare { ${RATIO} } rawSeveritySum rawDisrupted }
      ${ENVELOPE}
    }
  }`;
const PREVALENCE_QUERY = /* GraphQL */ `
  query Prevalence($indicator: IndicatorInput!, $days: Int) {
    indicatorPrevalence(indicator: $indicator, days: $days) { indicatorType window { from to days } organisations { ${EST} } ${ENVELOPE} }
  }`;
const BUDGET_QUERY = '{ myBudget { node horizonDays spent { rho delta } } }';

/** One analyst question: how to ask a never-asked variant, and the plan the gateway makes for it. */
interface Question<A extends Envelope> {
  field: string;
  query: string;
  /** Variables of a variant never asked before. */
  variables(): Record<string, unknown>;
  /** The gateway's plan for these variables (the answer gives the prevalence window). */
  plan(variables: Record<string, unknown>, answer: A): AggregatePlan;
}

const CROSS: Question<AggregateAnswer> = {
  field: 'crossBorderPattern',
  query: CROSS_QUERY,
  variables: () => ({ measure: 'ORGANISATIONS', groupBy: ['SECTOR', 'TLP'], filter: fresh(YEAR) }),
  plan: (v) => planAggregate({ ...(v as unknown as AggregateArgs), question: 'crossBorderPattern' }, DEPS),
};
const TREND: Question<TrendAnswer> = {
  field: 'trend',
  query: TREND_QUERY,
  variables: () => ({ measure: 'INCIDENTS', interval: 'MONTH', filter: fresh(TREND_WINDOW) }),
  plan: (v) => planAggregate(trendArgs(v as never), DEPS),
};
/** k of the top-k question: set once the truth is known (see the top-k test). */
let topK = 0;
const TOPK: Question<TopKAnswer> = {
  field: 'topK',
  query: TOPK_QUERY,
  variables: () => ({ k: topK, by: 'EXPLOIT', measure: 'ORGANISATIONS', filter: fresh(TOOL_WINDOW) }),
  plan: (v) => planAggregate(topKArgs(v as never), DEPS),
};
const VINTAGES: Question<VintageAnswer> = {
  field: 'exploitVintages',
  query: VINTAGE_QUERY,
  variables: () => ({ by: ['SECTOR'], measure: 'INCIDENTS', filter: fresh(YEAR) }),
  plan: (v) => planAggregate(vintageArgs(v as never), DEPS),
};
const IMPACT: Question<ImpactAnswer> = {
  field: 'sectorImpact',
  query: IMPACT_QUERY,
  variables: () => ({ groupBy: ['SECTOR'], filter: fresh(IMPACT_WINDOW) }),
  plan: (v) => planAggregate(impactArgs(v as never), DEPS),
};
/** The plan of a prevalence answer: the gateway's `today` is the day before the answer's window ends. */
function prevalencePlan(v: Record<string, unknown>, a: PrevalenceAnswer): AggregatePlan {
  const p = prevalenceArgs(v as never, INDICATOR_KEY, addDays(a.window.to, -1));
  expect(a.window).toEqual(p.window);
  return planAggregate(p.args, DEPS);
}
const prevalence = (indicator: { type: string; value: string }): Question<PrevalenceAnswer> => ({
  field: 'indicatorPrevalence',
  query: PREVALENCE_QUERY,
  variables: () => ({ indicator, days: PREVALENCE_DAYS + ++prevalenceVariants }),
  plan: prevalencePlan,
});
const PREVALENCE = prevalence(PLANTED_INDICATOR);
const ABSENT = prevalence(ABSENT_INDICATOR);

// --- processes ----------------------------------------------------------------------------------

let fx: AccessFixture | undefined;
let token = '';
let dir: string | undefined;
const nodes = new Map<string, Proc>();
let gateway: Proc | undefined;
let gatewayUrl = '';
let registry: Array<{ id: string; name: string; kind: string; url: string }> = [];
const quiet = pino({ level: 'silent' });

beforeAll(async () => {
  dir = makeTempDir('questions');
  // Budgets far above what the file spends (≈ 80 questions × ρ 8, δ ≤ 5e-9 each).
  fx = await makeAccessFixture({ budgets: { nodeCap: { rho: 1_000, delta: 1 }, allocation: { rho: 1_000, delta: 1 } } });
  token = await fx.token(MEMBER);
  await ensureSigningKey(fx.signingKey, fx.signingJwksOut);
  const keyFile = join(dir, 'indicator.key');
  writeFileSync(keyFile, `${INDICATOR_KEY}\n`);
  const listening = await Promise.all(
    NODE_IDS.map((id) => {
      const seedFile = join(dir!, `${id}.seed.json`);
      writeFileSync(seedFile, JSON.stringify(fed.datasets[id]));
      const proc = startProcess(id, NODE_MAIN, [
        '--id', id,
        '--port', '0',
        '--operator-port', '0',
        '--db', join(dir!, `${id}.sqlite`),
        '--seed-file', seedFile,
        '--data-dir', dir!,
        '--log-level', 'warn',
        '--gateway-jwks', fx!.signingJwksOut,
        '--member-cap-rho', '1000',
        '--indicator-key-file', keyFile,
      ]);
      nodes.set(id, proc);
      return waitListening(proc, 60_000);
    }),
  );
  registry = NODE_IDS.map((id, i) => {
    expect(listening[i]!.id).toBe(id);
    return { id, name: id.toUpperCase(), kind: DEMO_NODES[i]!.kind, url: listening[i]!.url };
  });
  const nodesFile = join(dir, 'nodes.json');
  writeFileSync(nodesFile, JSON.stringify(registry));
  gateway = startProcess('gateway', GATEWAY_MAIN, [
    '--port', '0',
    '--host', '127.0.0.1',
    '--nodes', nodesFile,
    '--rho', String(RHO),
    '--delta', String(DELTA),
    '--quorum', 'STRICT',
    '--max-partitions', String(L0),
    '--max-per-partition', String(LINF),
    '--node-timeout-ms', '10000',
    '--refresh-ms', '0',
    '--log-level', 'warn',
    '--indicator-key-file', keyFile,
    ...fx.cliArgs(),
  ]);
  gatewayUrl = (await waitListening(gateway, 60_000)).url;
});

afterAll(async () => {
  await Promise.all([...(gateway ? [gateway] : []), ...nodes.values()].map((p) => stopProcess(p, 'SIGTERM', 5_000)));
  removeDir(dir);
  fx?.remove();
});

async function ask<A>(field: string, query: string, variables: Record<string, unknown>, url = gatewayUrl, bearer = token): Promise<A> {
  const res = await gql<Record<string, A>>(url, query, variables, bearer);
  expect(res.errors, res.text.slice(0, 800)).toBeUndefined();
  expect(res.status).toBe(200);
  return res.data![field]!;
}

/** Asks a fresh variant of `q`; returns the answer with the gateway's plan for it. */
async function askFresh<A extends Envelope>(q: Question<A>): Promise<{ answer: A; plan: AggregatePlan; variables: Record<string, unknown> }> {
  const variables = q.variables();
  const answer = await ask<A>(q.field, q.query, variables);
  const plan = q.plan(variables, answer);
  checkEnvelope(answer, plan);
  return { answer, plan, variables };
}

/** What every fresh answer must say about itself, against the plan computed here. */
function checkEnvelope(a: Envelope, plan: AggregatePlan): void {
  expect(a.queryId).toBe(plan.queryId);
  expect(a.measure).toBe(plan.query.measure);
  expect(a.cached).toBe(false);
  expect(a.coverage).toEqual({ asked: NODE_IDS, answered: NODE_IDS, missing: [], complete: true });
  expect(a.accuracy.mechanism).toMatch(/gaussian/i);
  expect(a.accuracy.scale).toBeCloseTo(plan.mechanism.scale, 9);
  // L0 is the deployment's, or the number of cells when every key is public and there are fewer
  const l0 = plan.domain.selection ? L0 : Math.min(L0, plan.domain.keys.length);
  expect(plan.bounds.maxPartitions).toBe(l0);
  // σ² = Δ₂²/(2ρ) from those bounds (the core rounds σ² up on a fine grid)
  expect(Math.abs(a.accuracy.scale ** 2 / countSigma2(plan.query.measure, l0) - 1)).toBeLessThan(1e-6);
  expect(a.accuracy.ci95).toBe(discreteGaussianAccuracy(plan.mechanism.scale).ci95);
  expect(a.accuracy.ci95).toBe(discreteGaussianAccuracy(Math.sqrt(countSigma2(plan.query.measure, l0))).ci95);
  expect(a.accuracy.confidence).toBe(0.95);
  expect(a.charge).toEqual(plan.charge);
  if (plan.selection) {
    expect(a.selection).toMatchObject({ method: 'gaussian-threshold', threshold: plan.selection.threshold, delta: plan.selection.delta });
  } else {
    expect(a.selection).toBeNull();
  }
  expect(a.remainingBudget.map((b) => b.node)).toEqual(NODE_IDS);
}

/** σ² of the count noise, from the deployment parameters (independent of the gateway's plan). */
/** σ² of a count release for `measure` with `l0` groups per organisation (the deployment's L0 by default). */
function countSigma2(measure: string, l0 = L0): number {
  const lInf = measure === 'ORGANISATIONS' ? 1 : LINF;
  const rho = measure === 'IMPACT' ? RHO / 3 : RHO;
  return (l0 * lInf * lInf) / (2 * rho);
}

interface CountCell {
  truth: number;
  raw: number;
}

/**
 * Two-sided binomial coverage of `cells` (upper alarm at p = 0.05, lower alarm at the exact
 * discrete-Gaussian p; α = 1e-6 each) and the subgaussian bias check (α = 1e-6).
 */
function expectCounts(label: string, cells: readonly CountCell[], sigma2: number, ci95: number): void {
  const n = cells.length;
  expect(n).toBeGreaterThan(0);
  const m = cells.filter((c) => Math.abs(c.raw - c.truth) > ci95).length;
  const upper = upperAlarm(n, 0.05, ALPHA);
  const lower = lowerAlarm(n, discreteGaussianMiss(sigma2, ci95), ALPHA);
  expect(m, `${label}: ${m} of ${n} cells miss their interval; alarm at ≥ ${upper}`).toBeLessThan(upper);
  expect(m, `${label}: ${m} of ${n} cells miss their interval; alarm at ≤ ${lower} (too little noise)`).toBeGreaterThan(lower);
  const bias = cells.reduce((s, c) => s + c.raw - c.truth, 0);
  const bound = subGaussianBound(n, sigma2, ALPHA);
  expect(Math.abs(bias), `${label}: Σ(rawValue − truth) = ${bias} over ${n} cells; bound ${bound.toFixed(1)}`).toBeLessThan(bound);
}

/** The interval arithmetic of a released estimate. */
function expectEstimate(e: Estimate, acc: Accuracy): void {
  expect(Number.isInteger(e.rawValue)).toBe(true);
  expect(e.value).toBe(Math.max(0, e.rawValue));
  expect(e.low).toBe(Math.max(0, e.rawValue - acc.ci95));
  expect(e.high).toBe(Math.max(0, e.rawValue + acc.ci95));
  expect(e.stdDev).toBeCloseTo(acc.stdDev, 9);
}

// --- 1. each question against the truth -----------------------------------------------------------

describe('every analyst question over HTTP is within its stated intervals of the truth', () => {
  test('crossBorderPattern: organisations per sector × TLP over 2024', async () => {
    const first = CROSS.plan(CROSS.variables(), undefined as never);
    expect(maxGroupsPerOrganisation(first.request)).toBeLessThanOrEqual(L0);
    const sigma2 = countSigma2('ORGANISATIONS');
    const cells: CountCell[] = [];
    for (let r = 0; r < REPEATS; r++) {
      const { answer: a, plan } = await askFresh(CROSS);
      expect(a.groupBy).toEqual(['SECTOR', 'TLP']);
      expect(a.cells.map((c) => [c.sector, c.tlp])).toEqual(SECTOR_IDS.flatMap((s) => ['CLEAR', 'GREEN', 'AMBER'].map((t) => [s, t])));
      const truth = truthOf(plan.request);
      for (const c of a.cells) {
        expectEstimate(c, a.accuracy);
        expect(c.selected).toBe(false);
        cells.push({ truth: countOf(truth, [c.sector, c.tlp]), raw: c.rawValue });
      }
    }
    expect(Math.max(...cells.map((c) => c.truth))).toBeGreaterThan(100);
    expectCounts('crossBorderPattern', cells, sigma2, discreteGaussianAccuracy(Math.sqrt(sigma2)).ci95);
  });

  test('trend: incidents per month, with change flags that follow the interval rule', async () => {
    const first = TREND.plan(TREND.variables(), undefined as never);
    expect(maxGroupsPerOrganisation(first.request)).toBeLessThanOrEqual(L0);
    const months = ['2024-02', '2024-03', '2024-04', '2024-05', '2024-06', '2024-07', '2024-08', '2024-09'];
    const sigma2 = countSigma2('INCIDENTS');
    const cells: CountCell[] = [];
    for (let r = 0; r < REPEATS; r++) {
      const { answer: a, plan } = await askFresh(TREND);
      expect(a.interval).toBe('MONTH');
      expect(a.buckets.map((b) => b.period)).toEqual(months);
      const truth = truthOf(plan.request);
      const ci = a.accuracy.ci95;
      let significant = 0;
      a.buckets.forEach((b, i) => {
        expectEstimate(b, a.accuracy);
        const t = countOf(truth, [b.period]);
        cells.push({ truth: t, raw: b.rawValue });
        if (i === 0) {
          expect(b.change).toBe('FIRST');
          return;
        }
        const prev = a.buckets[i - 1]!;
        const expected = b.rawValue - ci > prev.rawValue + ci ? 'UP' : b.rawValue + ci < prev.rawValue - ci ? 'DOWN' : 'WITHIN_NOISE';
        expect(b.change, `${b.period}`).toBe(expected);
        if (expected !== 'WITHIN_NOISE') significant++;
        // When both intervals hold their truths, a flag's direction is the truth's (no statistics involved).
        const tPrev = countOf(truth, [prev.period]);
        const bothHold = Math.abs(b.rawValue - t) <= ci && Math.abs(prev.rawValue - tPrev) <= ci;
        if (bothHold && b.change === 'UP') expect(t).toBeGreaterThan(tPrev);
        if (bothHold && b.change === 'DOWN') expect(t).toBeLessThan(tPrev);
      });
      expect(a.significantChanges).toBe(significant);
    }
    expect(Math.min(...cells.map((c) => c.truth))).toBeGreaterThan(300);
    expectCounts('trend', cells, sigma2, discreteGaussianAccuracy(Math.sqrt(sigma2)).ci95);
  });

  test('topK: the leading KEV CVEs by organisations hit, sorted by their noisy counts', async () => {
    // k where the k-th and (k+1)-th true counts are more than 2·7σ apart (see the file comment).
    const base = planAggregate(topKArgs({ k: 1, by: 'EXPLOIT', measure: 'ORGANISATIONS', filter: TOOL_WINDOW }), DEPS);
    expect(maxGroupsPerOrganisation(base.request)).toBeLessThanOrEqual(L0);
    const truth = truthOf(base.request);
    const sigma = base.mechanism.scale;
    const ranked = KEV.map((e) => ({ cve: e.cveID, t: countOf(truth, [e.cveID]) })).sort((a, b) => b.t - a.t || (a.cve < b.cve ? -1 : 1));
    // every CVE the nodes hold is in KEV, so the top-k is over public keys only
    expect([...truth.keys()].every((k) => kevByCve(JSON.parse(k)[0]) !== undefined)).toBe(true);
    for (let k = 10; k >= 1 && topK === 0; k--) if (ranked[k - 1]!.t - ranked[k]!.t > 2 * BOUND_SIGMAS * sigma) topK = k;
    expect(topK, `true counts ${ranked.slice(0, 11).map((r) => r.t).join(', ')}`).toBeGreaterThanOrEqual(3);
    const trueTop = ranked.slice(0, topK).map((r) => r.cve).sort();

    const sigma2 = countSigma2('ORGANISATIONS');
    const cells: CountCell[] = [];
    for (let r = 0; r < REPEATS; r++) {
      const { answer: a, plan } = await askFresh(TOPK);
      expect(a.by).toBe('EXPLOIT');
      expect(a.k).toBe(topK);
      expect(a.method).toMatch(/noisy-counts-then-rank/);
      expect(a.entries).toHaveLength(topK);
      expect(a.entries.map((e) => e.rank)).toEqual(Array.from({ length: topK }, (_, i) => i + 1));
      for (let i = 1; i < a.entries.length; i++) {
        const [p, c] = [a.entries[i - 1]!, a.entries[i]!];
        expect(p.rawValue > c.rawValue || (p.rawValue === c.rawValue && p.exploit!.cve < c.exploit!.cve)).toBe(true);
      }
      // the released set is the true top-k unless some noise reached 7σ (P ≤ 4.1e-7, file comment)
      expect(a.entries.map((e) => e.exploit!.cve).sort()).toEqual(trueTop);
      const t = truthOf(plan.request);
      for (const e of a.entries) {
        expectEstimate(e, a.accuracy);
        expect(e.selected).toBe(false);
        expect(e.tool).toBeNull();
        cells.push({ truth: countOf(t, [e.exploit!.cve]), raw: e.rawValue });
      }
    }
    expectCounts('topK', cells, sigma2, discreteGaussianAccuracy(Math.sqrt(sigma2)).ci95);
  });

  test('exploitVintages: incidents per (sector, vintage bucket) over 2024, with shares of each sector', async () => {
    const first = VINTAGES.plan(VINTAGES.variables(), undefined as never);
    expect(maxGroupsPerOrganisation(first.request)).toBeLessThanOrEqual(L0);
    const sigma2 = countSigma2('INCIDENTS');
    const cells: CountCell[] = [];
    for (let r = 0; r < REPEATS; r++) {
      const { answer: a, plan } = await askFresh(VINTAGES);
      expect(a.by).toEqual(['SECTOR']);
      expect(a.cells.map((c) => [c.sector, c.vintage])).toEqual(SECTOR_IDS.flatMap((s) => VINTAGE_BUCKETS.map((v) => [s, v])));
      const truth = truthOf(plan.request);
      const totals = new Map<string, number>();
      for (const c of a.cells) totals.set(c.sector!, (totals.get(c.sector!) ?? 0) + c.value);
      for (const c of a.cells) {
        expectEstimate(c, a.accuracy);
        expect([c.region, c.subregion, c.country]).toEqual([null, null, null]);
        const total = totals.get(c.sector!)!;
        if (total === 0) expect(c.share).toBeNull();
        else expect(c.share).toBeCloseTo(c.value / total, 12);
        cells.push({ truth: countOf(truth, [c.sector, c.vintage]), raw: c.rawValue });
      }
    }
    // every bucket is populated somewhere (zero-days included)
    const t = truthOf(first.request);
    for (const v of VINTAGE_BUCKETS) expect(SECTOR_IDS.reduce((s, sec) => s + countOf(t, [sec, v]), 0), v).toBeGreaterThan(0);
    expectCounts('exploitVintages', cells, sigma2, discreteGaussianAccuracy(Math.sqrt(sigma2)).ci95);
  });

  test('sectorImpact: incidents, mean severity and disruption share per sector', async () => {
    const first = IMPACT.plan(IMPACT.variables(), undefined as never);
    expect(maxGroupsPerOrganisation(first.request)).toBeLessThanOrEqual(L0);
    const ranges = impactRanges(first.request);
    // the oracle's (randomly bounded) sums lie in the ranges, and its counts are the ranges' counts
    const reference = truthOf(first.request);
    for (const s of SECTOR_IDS) {
      const r = ranges.get(s);
      const t = reference.get(keyOf([s]));
      expect(t?.count ?? 0).toBe(r?.count ?? 0);
      if (r && t) {
        expect(t.sum).toBeGreaterThanOrEqual(r.sum[0]);
        expect(t.sum).toBeLessThanOrEqual(r.sum[1]);
        expect(t.disrupted).toBeGreaterThanOrEqual(r.disrupted[0]);
        expect(t.disrupted).toBeLessThanOrEqual(r.disrupted[1]);
      }
    }
    const sigma2 = countSigma2('IMPACT');
    const counts: CountCell[] = [];
    const ratios = { meanSeverity: { n: 0, misses: 0 }, disruptionShare: { n: 0, misses: 0 } };
    const releases = { rawSeveritySum: { n: 0, misses: 0 }, rawDisrupted: { n: 0, misses: 0 } };
    for (let r = 0; r < REPEATS; r++) {
      const { answer: a, plan } = await askFresh(IMPACT);
      expect(a.groupBy).toEqual(['SECTOR']);
      expect(a.split.count + a.split.sum + a.split.disrupted).toBeCloseTo(1, 12);
      expect(a.severitySumAccuracy.scale).toBeCloseTo(plan.impact!.sum.scale, 9);
      expect(a.disruptionAccuracy.scale).toBeCloseTo(plan.impact!.disrupted.scale, 9);
      for (const acc of [a.severitySumAccuracy, a.disruptionAccuracy]) expect(acc.ci95).toBe(discreteGaussianAccuracy(acc.scale).ci95);
      // the disruption count has the count's sensitivity and ρ share; the severity sum 5× its L2 (severity ≤ 5)
      expect(a.disruptionAccuracy.scale).toBeCloseTo(a.accuracy.scale, 9);
      expect(Math.abs(a.severitySumAccuracy.scale / a.accuracy.scale / 5 - 1)).toBeLessThan(1e-5); // σ² on the core's grid
      expect(a.cells.map((c) => c.sector)).toEqual([...SECTOR_IDS]);
      const truth = truthOf(plan.request);
      for (const c of a.cells) {
        expectEstimate(c.incidents, a.accuracy);
        const count = countOf(truth, [c.sector]);
        counts.push({ truth: count, raw: c.incidents.rawValue });
        const range = ranges.get(c.sector) ?? { count: 0, sum: [0, 0], disrupted: [0, 0] };
        // the severity sum and disruption count releases: rawValue ± ci95 must meet the truth's range
        for (const [field, part, acc] of [['rawSeveritySum', range.sum, a.severitySumAccuracy], ['rawDisrupted', range.disrupted, a.disruptionAccuracy]] as const) {
          expect(Number.isInteger(c[field])).toBe(true);
          releases[field].n++;
          if (c[field] + acc.ci95 < part[0] || c[field] - acc.ci95 > part[1]) releases[field].misses++;
        }
        if (range.count === 0) continue;
        for (const [field, part, hi] of [['meanSeverity', range.sum, 5], ['disruptionShare', range.disrupted, 1]] as const) {
          const ratio = c[field];
          expect(ratio.confidence).toBe(0.95);
          expect(ratio.low).toBeLessThanOrEqual(ratio.high);
          expect(ratio.high).toBeLessThanOrEqual(hi);
          const [tLow, tHigh] = [part[0] / range.count, part[1] / range.count];
          ratios[field].n++;
          if (ratio.high < tLow - 1e-12 || ratio.low > tHigh + 1e-12) ratios[field].misses++;
        }
      }
    }
    expectCounts('sectorImpact incidents', counts, sigma2, discreteGaussianAccuracy(Math.sqrt(sigma2)).ci95);
    // Sum and disruption releases, and the ratio intervals, hold at ≥ 95% each: a miss (the interval
    // avoids the truth's whole range) is no likelier, so misses ~ Binomial(n, ≤ 0.05); upper alarm
    // at α = 1e-6 for each of the four.
    for (const [field, { n, misses }] of [...Object.entries(releases), ...Object.entries(ratios)]) {
      const upper = upperAlarm(n, 0.05, ALPHA);
      expect(n).toBeGreaterThan(50);
      expect(misses, `${field}: ${misses} of ${n} intervals avoid the true ratio; alarm at ≥ ${upper}`).toBeLessThan(upper);
    }
  });

  test('indicatorPrevalence: organisations that reported a planted indicator, and one nobody reported', async () => {
    const norm = normaliseIndicator(ABSENT_INDICATOR.type, ABSENT_INDICATOR.value);
    expect(Object.values(fed.datasets).some((d) => d.incidents.some((i) => i.indicators.some((x) => x.value === norm)))).toBe(false);
    const sigma2 = countSigma2('ORGANISATIONS');
    const cells: CountCell[] = [];
    for (const [q, answers] of [[PREVALENCE, REPEATS], [ABSENT, 3]] as const) {
      for (let r = 0; r < answers; r++) {
        const { answer: a, plan } = await askFresh(q);
        const planted = q === PREVALENCE;
        expect(a.indicatorType).toBe(planted ? PLANTED_INDICATOR.type : ABSENT_INDICATOR.type);
        // the window ends after today (UTC, the gateway's clock) and spans `days` days
        expect([addDays(TODAY, 1), addDays(TODAY, 2)]).toContain(a.window.to);
        expect(daysBetween(a.window.from, a.window.to)).toBe(a.window.days);
        expect(a.window.from <= '2024-01-01').toBe(true);
        expectEstimate(a.organisations, a.accuracy);
        const t = countOf(truthOf(plan.request), []);
        // the same truth counted directly: distinct organisations with a contributing incident carrying the value
        expect(t).toBe(holdersOf(planted ? PLANTED_INDICATOR : ABSENT_INDICATOR, a.window));
        if (planted) expect(t).toBeGreaterThanOrEqual(10);
        cells.push({ truth: t, raw: a.organisations.rawValue });
      }
    }
    expectCounts('indicatorPrevalence', cells, sigma2, discreteGaussianAccuracy(Math.sqrt(sigma2)).ci95);
  });
});

/** Distinct (node, organisation) pairs with a contributing incident in `window` that carries `indicator`. */
function holdersOf(indicator: { type: string; value: string }, window: { from: string; to: string }): number {
  const value = normaliseIndicator(indicator.type, indicator.value);
  const holders = new Set<string>();
  for (const id of NODE_IDS) {
    for (const i of fed.datasets[id]!.incidents) {
      if (!CONTRIBUTING.has(i.tlp) || i.date < window.from || i.date >= window.to) continue;
      if (i.indicators.some((x) => x.type === indicator.type && normaliseIndicator(x.type, x.value) === value)) holders.add(`${id}/${i.organisation}`);
    }
  }
  return holders.size;
}

/**
 * Per sector: the bounded incident count of an IMPACT request (exact) and the smallest and largest
 * severity sum and disruption count the random choice of ≤ L∞ rows per organisation can keep.
 * Only the window and the contributing TLP levels restrict the question (asserted).
 */
function impactRanges(request: ContributionRequest): Map<string, { count: number; sum: [number, number]; disrupted: [number, number] }> {
  const f = request.filter ?? {};
  expect(request.groupBy).toEqual(['SECTOR']);
  expect(Object.keys(f).filter((k) => !['from', 'to', 'subregions'].includes(k))).toEqual([]);
  expect(DATA_COUNTRIES.every((c) => !f.subregions || f.subregions.includes(countryByAlpha2(c)!.subregion))).toBe(true);
  const rows = new Map<string, IncidentRecord[]>();
  for (const id of NODE_IDS) {
    for (const i of fed.datasets[id]!.incidents) {
      if (!CONTRIBUTING.has(i.tlp) || (f.from && i.date < f.from) || (f.to && i.date >= f.to)) continue;
      const k = JSON.stringify([id, i.organisation, i.sector]);
      rows.set(k, [...(rows.get(k) ?? []), i]);
    }
  }
  const out = new Map<string, { count: number; sum: [number, number]; disrupted: [number, number] }>();
  for (const [k, list] of rows) {
    const sector = (JSON.parse(k) as string[])[2]!;
    const n = Math.min(list.length, LINF);
    const sev = list.map((i) => Math.min(5, Math.max(1, i.severity))).sort((a, b) => a - b);
    const dis = list.filter((i) => i.disruption).length;
    const o = out.get(sector) ?? { count: 0, sum: [0, 0] as [number, number], disrupted: [0, 0] as [number, number] };
    o.count += n;
    o.sum[0] += sev.slice(0, n).reduce((a, b) => a + b, 0);
    o.sum[1] += sev.slice(sev.length - n).reduce((a, b) => a + b, 0);
    o.disrupted[0] += Math.max(0, n - (list.length - dis));
    o.disrupted[1] += Math.min(n, dis);
    out.set(sector, o);
  }
  return out;
}

// --- 2. charge equals the ledger ----------------------------------------------------------------

interface Spent {
  rho: number;
  delta: number;
}
/** The member's spent amounts per node, in ledger units (pico-ρ, femto-δ). */
async function spentUnits(): Promise<Map<string, Spent>> {
  const res = await gql<{ myBudget: Array<{ node: string; spent: Spent }> }>(gatewayUrl, BUDGET_QUERY, {}, token);
  expect(res.errors, res.text.slice(0, 500)).toBeUndefined();
  return new Map(res.data!.myBudget.map((b) => [b.node, { rho: Math.round(b.spent.rho * 1e12), delta: Math.round(b.spent.delta * 1e15) }]));
}

describe('the charge of every answer is what the ledger records', () => {
  const questions: Array<[string, Question<Envelope>]> = [
    ['crossBorderPattern', CROSS as unknown as Question<Envelope>],
    ['trend', TREND as unknown as Question<Envelope>],
    ['topK', TOPK as unknown as Question<Envelope>],
    ['exploitVintages', VINTAGES as unknown as Question<Envelope>],
    ['sectorImpact', IMPACT as unknown as Question<Envelope>],
    ['indicatorPrevalence', PREVALENCE as unknown as Question<Envelope>],
  ];
  test.each(questions)('%s: a fresh answer adds its charge on every node asked; a cached repeat adds nothing', async (_, q) => {
    if (topK === 0) topK = 3; // when run alone
    const before = await spentUnits();
    const { answer: a, plan, variables } = await askFresh(q);
    const after = await spentUnits();
    // the ledger rounds a charge up to whole pico-ρ and femto-δ (gateway/ledger/units.ts)
    const expected = chargeUnits({ rho: a.charge.rho, delta: plan.zcdp.delta });
    expect(plan.zcdp.rho).toBe(a.charge.rho);
    expect(expected.rho).toBeGreaterThanOrEqual(a.charge.rho * 1e12);
    expect(expected.rho - a.charge.rho * 1e12).toBeLessThan(1 + 1e-3);
    for (const node of NODE_IDS) {
      expect(a.coverage.asked).toContain(node);
      expect(after.get(node)!.rho - before.get(node)!.rho, node).toBe(expected.rho);
      expect(after.get(node)!.delta - before.get(node)!.delta, node).toBe(expected.delta);
      // the answer's own budget view is the ledger after the answer
      expect(Math.round(a.remainingBudget.find((b) => b.node === node)!.spent.rho * 1e12)).toBe(after.get(node)!.rho);
    }
    if (plan.selection) expect(expected.delta).toBeGreaterThan(0);

    const again = await ask<Envelope>(q.field, q.query, variables);
    expect(again.cached).toBe(true);
    expect(again.queryId).toBe(a.queryId);
    expect(again.charge).toEqual(a.charge);
    const later = await spentUnits();
    for (const node of NODE_IDS) expect(later.get(node)).toEqual(after.get(node));
  });
});

// --- 3. node-data keys below the selection threshold ---------------------------------------------

/** Tools with their holders (node/organisation pairs) among the incidents a TOOL question counts. */
function toolHolders(): Map<string, Set<string>> {
  const holders = new Map<string, Set<string>>();
  for (const id of NODE_IDS) {
    const d = fed.datasets[id]!;
    const tools = new Map(d.exploits.filter((e) => e.kind === 'tool').map((e) => [e.id, e.name]));
    for (const i of d.incidents) {
      if (!CONTRIBUTING.has(i.tlp) || i.date < TOOL_WINDOW.from || i.date >= TOOL_WINDOW.to) continue;
      for (const e of i.exploits) {
        const name = tools.get(e);
        if (name === undefined) continue;
        const s = holders.get(name) ?? new Set<string>();
        s.add(`${id}/${i.organisation}`);
        holders.set(name, s);
      }
    }
  }
  return holders;
}

describe('node-data keys: partition selection', () => {
  test(`a tool one organisation holds never appears in ${2 * TOOL_VARIANTS} TOOL answers; a widespread campaign tool always does`, async () => {
    const holders = toolHolders();
    expect([...holders.get(PLANTED_TOOL)!]).toEqual([`${PLANT_NODE}/${PLANT.org}`]);
    expect(PLANT.incidents.length).toBeLessThanOrEqual(LINF);
    const single = [...holders].filter(([, s]) => s.size === 1).map(([name]) => name);
    expect(single).toContain(PLANTED_TOOL);
    const campaignTool = OT_CAMPAIGN.tool!;
    expect(holders.get(campaignTool)!.size).toBeGreaterThanOrEqual(10);

    const pattern = (): Record<string, unknown> => ({ measure: 'INCIDENTS', groupBy: ['TOOL'], filter: fresh(TOOL_WINDOW) });
    const ranking = (): Record<string, unknown> => ({ k: 100, by: 'TOOL', measure: 'ORGANISATIONS', filter: fresh(TOOL_WINDOW) });
    const released: Array<{ plan: AggregatePlan; threshold: number; keys: Array<{ tool: string; raw: number; selected: boolean }> }> = [];
    for (let r = 0; r < TOOL_VARIANTS; r++) {
      for (const kind of ['pattern', 'topK'] as const) {
        const variables = kind === 'pattern' ? pattern() : ranking();
        const plan = kind === 'pattern' ? planAggregate({ ...(variables as unknown as AggregateArgs), question: 'crossBorderPattern' }, DEPS) : planAggregate(topKArgs(variables as never), DEPS);
        if (r === 0) expect(maxGroupsPerOrganisation(plan.request)).toBeLessThanOrEqual(L0);
        let keys: Array<{ tool: string; raw: number; selected: boolean }>;
        let envelope: Envelope;
        if (kind === 'pattern') {
          const a = await ask<AggregateAnswer>('crossBorderPattern', CROSS_QUERY, variables);
          keys = a.cells.map((c) => ({ tool: c.tool!, raw: c.rawValue, selected: c.selected }));
          envelope = a;
        } else {
          const a = await ask<TopKAnswer>('topK', TOPK_QUERY, variables);
          expect(a.entries.length).toBe(a.selection!.released); // k = 100 returns every released key
          keys = a.entries.map((e) => ({ tool: e.tool!, raw: e.rawValue, selected: e.selected }));
          envelope = a;
        }
        checkEnvelope(envelope, plan);
        expect(envelope.selection!.released).toBe(keys.length);
        released.push({ plan, threshold: envelope.selection!.threshold, keys });
      }
    }
    // One-organisation keys: each reaches τ with P ≤ selection.delta / L0 = (δ/2)/L0 = 5e-10 per
    // answer, so over 32 answers and the |single| such tools P ≤ 32 · |single| · 5e-10 ≤ 1e-6.
    expect(released.length * single.length * (DELTA / 2 / L0)).toBeLessThanOrEqual(ALPHA);
    /** Misses of keys far above τ, per answer's own σ (upper alarm below). */
    const far: boolean[] = [];
    for (const { plan, threshold, keys } of released) {
      const truth = truthOf(plan.request);
      const sigma = plan.mechanism.scale;
      for (const k of keys) {
        expect(k.selected).toBe(true);
        expect(single, `${k.tool} is held by one organisation`).not.toContain(k.tool);
        const t = countOf(truth, [k.tool]);
        expect(t, k.tool).toBeGreaterThan(0);
        expect(k.raw).toBeGreaterThanOrEqual(threshold);
        // keys whose truth is ≥ 7σ above τ pass selection with P ≥ 1 − e^(−24.5): their noise is unconditioned
        if (t >= threshold + BOUND_SIGMAS * sigma) far.push(Math.abs(k.raw - t) > discreteGaussianAccuracy(sigma).ci95);
      }
      expect(keys.map((k) => k.tool)).not.toContain(PLANTED_TOOL);
      if (plan.query.question === 'topK') {
        // the campaign tool's organisation count is far above τ (computed from the answer's threshold):
        // it misses selection with P ≤ e^(−24.5) per answer
        expect(countOf(truth, [campaignTool])).toBeGreaterThanOrEqual(threshold + BOUND_SIGMAS * sigma);
        expect(keys.map((k) => k.tool)).toContain(campaignTool);
      }
    }
    // released counts of keys far above τ cover their truth: misses ~ Binomial(n, ≤ 0.05), upper alarm at α = 1e-6
    expect(far.length).toBeGreaterThan(50);
    const misses = far.filter(Boolean).length;
    const upper = upperAlarm(far.length, 0.05, ALPHA);
    expect(misses, `${misses} of ${far.length} selected keys miss their interval; alarm at ≥ ${upper}`).toBeLessThan(upper);
  });
});

// --- 4. the federation join ---------------------------------------------------------------------

describe('the reference subgraph joins public KEV and sector data and sees only entity keys', () => {
  let gw: Gateway | undefined;
  let joinToken = '';
  const seen: Array<{ query: string; variables: unknown }> = [];

  beforeAll(async () => {
    gw = await createGateway({
      port: 0,
      host: '127.0.0.1',
      nodes: registry,
      logger: quiet,
      refreshIntervalMs: 0,
      nodeTimeoutMs: 10_000,
      quorum: 'STRICT',
      privacy: { rho: RHO, delta: DELTA, maxPartitions: L0, maxPerPartition: LINF },
      indicatorKey: INDICATOR_KEY,
      access: fx!.access({ db: join(fx!.dir, 'in-process.sqlite') }),
      onReferenceRequest: (r) => seen.push(r),
    });
    joinToken = await fx!.token(JOIN_MEMBER);
  });

  afterAll(async () => {
    await gw?.close();
  });

  const KEY_FIELD: Record<string, string> = { Vulnerability: 'cve', Sector: 'id' };

  /** Every recorded operation is an `_entities` fetch of key-only representations carrying none of `numbers`. */
  function expectOnlyKeys(ops: ReadonlyArray<{ query: string; variables: unknown }>, keys: ReadonlySet<string>, numbers: readonly number[]): void {
    expect(ops.length).toBeGreaterThan(0);
    const sent = new Set<string>();
    for (const op of ops) {
      const doc = parse(op.query);
      expect(doc.definitions).toHaveLength(1);
      const def = doc.definitions[0]!;
      expect(def.kind).toBe('OperationDefinition');
      if (def.kind !== 'OperationDefinition') continue;
      expect(def.operation).toBe('query');
      expect(def.selectionSet.selections.map((s) => (s.kind === 'Field' ? s.name.value : s.kind))).toEqual(['_entities']);
      const vars = op.variables as Record<string, unknown>;
      expect(Object.keys(vars)).toEqual(['representations']);
      const reps = vars.representations as Array<Record<string, unknown>>;
      expect(Array.isArray(reps)).toBe(true);
      for (const rep of reps) {
        const field = KEY_FIELD[rep.__typename as string];
        expect(field, JSON.stringify(rep)).toBeDefined();
        expect(Object.keys(rep).sort()).toEqual(['__typename', field!].sort());
        expect(typeof rep[field!]).toBe('string');
        sent.add(`${rep.__typename}:${rep[field!]}`);
      }
      // no number from the answer, as a standalone token, in what the subgraph received
      const received = `${op.query}\n${JSON.stringify(op.variables)}`;
      for (const x of new Set(numbers)) {
        const literal = String(x).replace(/[.+]/g, (c) => `\\${c}`);
        expect(received, `${x} reached the reference subgraph`).not.toMatch(new RegExp(`(?<![\\w.\\-])${literal}(?![\\w.])`));
      }
    }
    expect(sent).toEqual(keys);
  }

  interface Kev {
    cve: string;
    vendor: string | null;
    product: string | null;
    dateAdded: string | null;
    inKev: boolean;
  }

  /** Every number in a JSON value. */
  function numbersIn(v: unknown, out: number[] = []): number[] {
    if (typeof v === 'number') out.push(v);
    else if (Array.isArray(v)) for (const x of v) numbersIn(x, out);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) numbersIn(x, out);
    return out;
  }

  test('topK by EXPLOIT with exploit { cve vendor product dateAdded inKev } matches the KEV catalog', async () => {
    const filter = { from: KEV_CAMPAIGN.window.from, to: addDays(KEV_CAMPAIGN.window.to, 1) };
    seen.length = 0;
    const res = await gql<{ topK: { cached: boolean; entries: Array<Estimate & { exploit: Kev }> } }>(
      gw!.url,
      /* GraphQL */ `query Join($filter: PatternFilter) {
        topK(k: 10, by: EXPLOIT, filter: $filter) {
          queryId k entries { rank selected ${EST} exploit { cve vendor product dateAdded inKev } }
          accuracy { ${ACCURACY} } charge { rho epsilon delta } cached
        }
      }`,
      { filter },
      joinToken,
    );
    expect(res.errors, res.text.slice(0, 800)).toBeUndefined();
    const a = res.data!.topK;
    expect(a.cached).toBe(false);
    expect(a.entries).toHaveLength(10);
    for (const e of a.entries) {
      const kev = kevByCve(e.exploit.cve)!;
      expect(kev, e.exploit.cve).toBeDefined();
      expect(e.exploit).toEqual({ cve: kev.cveID, vendor: kev.vendorProject, product: kev.product, dateAdded: kev.dateAdded, inKev: true });
    }
    expectOnlyKeys(seen.splice(0), new Set(a.entries.map((e) => `Vulnerability:${e.exploit.cve}`)), numbersIn(a));
  });

  test('crossBorderPattern by EXPLOIT with filter.exploits: a CVE outside KEV resolves inKev false', async () => {
    expect(kevByCve(NON_KEV_CVE)).toBeUndefined();
    const exploits = [KEV_CAMPAIGN.cve!, 'CVE-2021-44228', NON_KEV_CVE];
    seen.length = 0;
    const res = await gql<{ crossBorderPattern: { selection: unknown; cells: Array<Estimate & { exploit: Kev }> } }>(
      gw!.url,
      /* GraphQL */ `query Join($filter: PatternFilter) {
        crossBorderPattern(measure: ORGANISATIONS, groupBy: [EXPLOIT], filter: $filter) {
          queryId cells { ${EST} selected exploit { cve vendor product dateAdded inKev } } accuracy { ${ACCURACY} } charge { rho epsilon delta } selection { threshold }
        }
      }`,
      { filter: { exploits, from: YEAR.from, to: YEAR.to } },
      joinToken,
    );
    expect(res.errors, res.text.slice(0, 800)).toBeUndefined();
    const a = res.data!.crossBorderPattern;
    expect(a.selection).toBeNull(); // listed CVEs are public keys of the question
    expect(a.cells.map((c) => c.exploit.cve).sort()).toEqual([...exploits].sort());
    for (const c of a.cells) {
      const kev = kevByCve(c.exploit.cve);
      if (kev) expect(c.exploit).toEqual({ cve: kev.cveID, vendor: kev.vendorProject, product: kev.product, dateAdded: kev.dateAdded, inKev: true });
      else expect(c.exploit).toEqual({ cve: NON_KEV_CVE, vendor: null, product: null, dateAdded: null, inKev: false });
    }
    expectOnlyKeys(seen.splice(0), new Set(exploits.map((c) => `Vulnerability:${c}`)), numbersIn(a));
  });

  test('exploitVintages with sectorInfo { name } resolves each sector’s name', async () => {
    seen.length = 0;
    const res = await gql<{ exploitVintages: { cells: Array<Estimate & { sector: string; sectorInfo: { name: string } }> } }>(
      gw!.url,
      /* GraphQL */ `query Join($filter: PatternFilter) {
        exploitVintages(by: [SECTOR], filter: $filter) {
          queryId cells { vintage sector sectorInfo { name } ${EST} share } accuracy { ${ACCURACY} } charge { rho epsilon delta }
        }
      }`,
      { filter: TOOL_WINDOW },
      joinToken,
    );
    expect(res.errors, res.text.slice(0, 800)).toBeUndefined();
    const a = res.data!.exploitVintages;
    expect(a.cells).toHaveLength(SECTOR_IDS.length * VINTAGE_BUCKETS.length);
    for (const c of a.cells) expect(c.sectorInfo).toEqual({ name: sectorById(c.sector)!.name });
    expectOnlyKeys(seen.splice(0), new Set(SECTOR_IDS.map((s) => `Sector:${s}`)), numbersIn(a));
  });
});
