/**
 * The federation end to end as real processes: three nodes (dist/nodes/main.js), each over its own
 * SQLite file seeded from a synthetic dataset, and the gateway (dist/gateway/main.js), all on
 * 127.0.0.1 with ports chosen by the OS. The truth is computed independently of the gateway, from
 * the generated datasets with the node's contribution oracle (pure TypeScript) under the same
 * bounds the gateway is started with.
 *
 * Statistical decisions: a released cell "misses" when the true bounded total lies outside
 * rawValue ± ci95. Each cell's noise is an independent discrete Gaussian draw, so over n cells the
 * misses are Binomial(n, p) with p = P(|noise| > ci95) ≤ 0.05 (the interval's promise). A test fails
 * when the misses reach the smallest m with P(Binomial(n, 0.05) ≥ m) ≤ 1e-6, or fall to the largest
 * m with P(Binomial(n, p) ≤ m) ≤ 1e-6 for the exact p of the stated σ (too few misses: too little
 * noise). A bias check sums rawValue − truth over a set of cells: under a correct gateway the sum
 * is a sum of independent N_ℤ(0, σ²) draws, and it fails beyond the subgaussian bound with
 * P ≤ 1e-6. Each check raises a false alarm with probability ≤ 1e-6 (≤ 1e-5 for the file).
 *
 * Access control is on as in production: the analyst sends a member token, the nodes verify the
 * gateway's signed grants (`--gateway-jwks`) and keep their own ledgers. Identical questions would be
 * answered from the cache, so repeated questions differ in a way that changes nothing counted: every
 * country of the selection is in Europe, and the `regions` filter is Europe plus a different subset
 * of the other regions each time.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ContributionRequest } from '../../schema/contract/index.js';
import type { NodeDataset } from '../../schema/contract/dataset.js';
import { discreteGaussianAccuracy } from '../../schema/privacy/accuracy.js';
import { SECTOR_IDS } from '../../schema/reference/index.js';
import { oracleContribution } from '../../nodes/contribution/oracle.js';
import { ensureSigningKey } from '../../gateway/grants/signer.js';
import { makeAccessFixture, type AccessFixture } from '../helpers/access.js';
import { DEMO_NODES, generateFederation } from '../../scripts/synth/index.js';
import {
  GATEWAY_MAIN,
  NODE_MAIN,
  PATTERN_QUERY,
  discreteGaussianMiss,
  gql,
  lowerAlarm,
  makeTempDir,
  subGaussianBound,
  removeDir,
  startProcess,
  stopProcess,
  upperAlarm,
  waitListening,
  type Answer,
  type Proc,
} from './helpers.js';

const INCIDENTS_PER_NODE = 3_000;
const RHO = 0.1;
const DELTA = 1e-6;
const L0 = 4;
const LINF = 2;
/** Δ₂² of bounded counts: one organisation changes at most L0 groups by at most L∞ each. */
const L2_SQUARED = L0 * LINF * LINF;
const SIGMA2 = L2_SQUARED / (2 * RHO);
const ALPHA = 1e-6;
const FROM = '2024-02-01';
/** The day after the generated data ends: windows ending on or after it count the same incidents. */
const TO = '2025-01-01';
const REPEATS = 10;
const REPEATS_AFTER_FAILURE = 5;
const VICTIM = 'isac-energy';

const fed = generateFederation({ seed: 'accord-e2e', nodes: DEMO_NODES, incidentsPerNode: INCIDENTS_PER_NODE });
const NODE_IDS = DEMO_NODES.map((n) => n.id);
const COUNTRIES = [...new Set(Object.values(fed.datasets).flatMap((d) => d.incidents.map((i) => i.country)))].sort();

const keyOf = (country: string | null, sector: string | null): string => `${country}/${sector}`;

/**
 * Largest number of distinct (country, sector) groups one organisation has among the incidents the
 * query selects (contributing TLP, countries, window). At most L0 means no organisation is cut by
 * the random L0 choice, so the bounded totals are deterministic.
 */
function maxGroupsPerOrganisation(d: NodeDataset): number {
  const groups = new Map<string, Set<string>>();
  for (const i of d.incidents) {
    if (!['CLEAR', 'GREEN', 'AMBER'].includes(i.tlp) || i.date < FROM || i.date >= TO || !COUNTRIES.includes(i.country)) continue;
    let s = groups.get(i.organisation);
    if (!s) groups.set(i.organisation, (s = new Set()));
    s.add(keyOf(i.country, i.sector));
  }
  return Math.max(0, ...[...groups.values()].map((s) => s.size));
}

/** True bounded totals per (country, sector), summed over `nodes`. */
function truth(nodes: readonly string[]): Map<string, number> {
  const request: ContributionRequest = {
    queryId: 'e2e-truth',
    measure: 'INCIDENTS',
    groupBy: ['COUNTRY', 'SECTOR'],
    filter: { countries: COUNTRIES, from: FROM, to: TO },
    bounds: { maxPartitions: L0, maxPerPartition: LINF },
  };
  const totals = new Map<string, number>();
  for (const id of nodes) {
    for (const g of oracleContribution(fed.datasets[id]!, request).groups) {
      const k = keyOf(g.key[0]!, g.key[1]!);
      totals.set(k, (totals.get(k) ?? 0) + g.count);
    }
  }
  return totals;
}

const QUESTION = { measure: 'INCIDENTS', groupBy: ['COUNTRY', 'SECTOR'], filter: { countries: COUNTRIES, from: FROM, to: TO } };
let variants = 0;
/**
 * The question over a window never used before: it ends n days after the data does, so it means
 * something else (another window) and counts the same incidents.
 */
function variant() {
  const n = ++variants;
  const to = new Date(Date.parse(`${TO}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
  return { ...QUESTION, filter: { ...QUESTION.filter, to } };
}

let fx: AccessFixture | undefined;
let token = '';
let dir: string | undefined;
const nodes = new Map<string, Proc>();
let gateway: Proc | undefined;
let gatewayUrl = '';

beforeAll(async () => {
  dir = makeTempDir('federation');
  fx = await makeAccessFixture({ budgets: { nodeCap: { rho: 100 }, allocation: { rho: 100 } } });
  token = await fx.token('eu-analyst');
  await ensureSigningKey(fx.signingKey, fx.signingJwksOut); // the nodes need the gateway's keys before it starts
  const started = NODE_IDS.map((id) => {
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
      '--member-cap-rho', '100',
    ]);
    nodes.set(id, proc);
    return waitListening(proc, 60_000);
  });
  const listening = await Promise.all(started);
  const registry = NODE_IDS.map((id, i) => {
    expect(listening[i]!.id).toBe(id);
    expect(listening[i]!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
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
    ...fx.cliArgs(),
  ]);
  gatewayUrl = (await waitListening(gateway, 60_000)).url;
  expect(gatewayUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
});

afterAll(async () => {
  await Promise.all([...(gateway ? [gateway] : []), ...nodes.values()].map((p) => stopProcess(p, 'SIGTERM', 5_000)));
  removeDir(dir);
  fx?.remove();
});

/** Asks a never-asked variant of the question (so the answer is fresh, not cached). */
async function ask(quorum: 'STRICT' | 'BEST_EFFORT') {
  return gql<{ crossBorderPattern: Answer | null }>(gatewayUrl, PATTERN_QUERY, { ...variant(), quorum }, token);
}

/** Checks one answer's accuracy and charge against the gateway's flags, and every cell's interval arithmetic. */
function checkAnswerShape(a: Answer): void {
  expect(a.measure).toBe('INCIDENTS');
  expect(a.groupBy).toEqual(['COUNTRY', 'SECTOR']);
  // The whole public domain, each key once.
  const keys = a.cells.map((c) => keyOf(c.country, c.sector));
  expect(new Set(keys).size).toBe(keys.length);
  expect(new Set(keys)).toEqual(new Set(COUNTRIES.flatMap((c) => SECTOR_IDS.map((s) => keyOf(c, s)))));

  // Accuracy: discrete Gaussian with σ² = Δ₂² / (2ρ) (BS16 Prop. 1.6; CKS20 Thm. 14), interval from its pmf.
  expect(a.accuracy.mechanism).toMatch(/gaussian/i);
  expect(a.accuracy.scale).toBeCloseTo(Math.sqrt(SIGMA2), 4);
  expect(a.accuracy.ci95).toBeGreaterThan(0);
  expect(Number.isInteger(a.accuracy.ci95)).toBe(true);
  expect(a.accuracy.ci95).toBe(discreteGaussianAccuracy(Math.sqrt(SIGMA2)).ci95);
  expect(a.accuracy.stdDev).toBeGreaterThan(0);
  expect(Math.abs(a.accuracy.stdDev - Math.sqrt(SIGMA2))).toBeLessThan(0.01);
  expect(a.accuracy.confidence).toBe(0.95);

  // Charge: the flags' ρ and δ up to rounding (the core rounds privacy losses up), ε > 0.
  expect(Math.abs(a.charge.rho - RHO) / RHO).toBeLessThan(1e-6);
  expect(a.charge.delta).toBeGreaterThanOrEqual(DELTA);
  expect((a.charge.delta - DELTA) / DELTA).toBeLessThan(1e-9);
  // ε(ρ, δ) ≤ ρ + 2√(ρ ln(1/δ)) (BS16 Prop. 1.3); the conversion may be tighter, never looser.
  expect(a.charge.epsilon).toBeGreaterThan(0);
  expect(a.charge.epsilon).toBeLessThanOrEqual(RHO + 2 * Math.sqrt(RHO * Math.log(1 / DELTA)) + 1e-9);

  const ci = a.accuracy.ci95;
  for (const c of a.cells) {
    expect(Number.isInteger(c.rawValue)).toBe(true);
    expect(c.value).toBe(Math.max(0, c.rawValue));
    expect(c.low).toBe(Math.max(0, c.rawValue - ci));
    expect(c.high).toBe(Math.max(0, c.rawValue + ci));
  }
}

/** Number of cells whose true total lies outside rawValue ± ci95. */
function misses(answers: readonly Answer[], truths: Map<string, number>): number {
  let out = 0;
  for (const a of answers) {
    for (const c of a.cells) {
      const t = truths.get(keyOf(c.country, c.sector)) ?? 0;
      if (t < c.rawValue - a.accuracy.ci95 || t > c.rawValue + a.accuracy.ci95) out++;
    }
  }
  return out;
}

/** Applies the two-sided binomial decision (see the file comment) to `answers`. */
function expectCoverage(answers: readonly Answer[], truths: Map<string, number>): void {
  const n = answers.reduce((s, a) => s + a.cells.length, 0);
  const upper = upperAlarm(n, 0.05, ALPHA);
  const lower = lowerAlarm(n, discreteGaussianMiss(SIGMA2, answers[0]!.accuracy.ci95), ALPHA);
  const m = misses(answers, truths);
  expect(m, `${m} of ${n} cells miss their interval; alarm at ≥ ${upper}`).toBeLessThan(upper);
  expect(m, `${m} of ${n} cells miss their interval; alarm at ≤ ${lower} (too little noise)`).toBeGreaterThan(lower);
}

/** Σ (rawValue − truth) over the cells whose key passes `keep`, and how many cells that is. */
function errorSum(answers: readonly Answer[], truths: Map<string, number>, keep: (key: string) => boolean = () => true): { sum: number; n: number } {
  let sum = 0;
  let n = 0;
  for (const a of answers) {
    for (const c of a.cells) {
      const k = keyOf(c.country, c.sector);
      if (!keep(k)) continue;
      sum += c.rawValue - (truths.get(k) ?? 0);
      n++;
    }
  }
  return { sum, n };
}

describe('three node processes and the gateway process over HTTP', () => {
  test('the truth for this question is deterministic (no organisation cut by L0) and not trivial', () => {
    // the generated data ends before TO, so every window of variant() counts the same incidents
    for (const id of NODE_IDS) expect(fed.datasets[id]!.incidents.every((i) => i.date < TO)).toBe(true);
    for (const id of NODE_IDS) expect(maxGroupsPerOrganisation(fed.datasets[id]!)).toBeLessThanOrEqual(L0);
    const t = truth(NODE_IDS);
    const total = [...t.values()].reduce((s, v) => s + v, 0);
    expect(total).toBeGreaterThan(1_000);
    // Far above the noise in some cells, so a missing node's share would be visible.
    expect(Math.max(...t.values())).toBeGreaterThan(10 * Math.sqrt(SIGMA2));
    // L∞ binds: the bounded total is below the raw incident count of the selection.
    const raw = NODE_IDS.flatMap((id) => fed.datasets[id]!.incidents).filter(
      (i) => ['CLEAR', 'GREEN', 'AMBER'].includes(i.tlp) && i.date >= FROM && i.date < TO,
    ).length;
    expect(total).toBeLessThan(raw);
  });

  test(`STRICT: ${REPEATS} noised answers cover the true bounded totals across the three nodes`, async () => {
    const truths = truth(NODE_IDS);
    const answers: Answer[] = [];
    for (let r = 0; r < REPEATS; r++) {
      const res = await ask('STRICT');
      expect(res.errors, res.text.slice(0, 500)).toBeUndefined();
      expect(res.status).toBe(200);
      const a = res.data!.crossBorderPattern!;
      checkAnswerShape(a);
      expect(a.coverage).toEqual({ asked: NODE_IDS, answered: NODE_IDS, missing: [], complete: true });
      answers.push(a);
    }
    expect(new Set(answers.map((a) => a.queryId)).size).toBe(REPEATS);
    expect(answers.every((a) => a.cached === false)).toBe(true);
    // Fresh noise per query: repeated answers differ.
    expect(new Set(answers.map((a) => a.cells.map((c) => c.rawValue).join(','))).size).toBe(REPEATS);
    expectCoverage(answers, truths);
    const bias = errorSum(answers, truths);
    expect(Math.abs(bias.sum)).toBeLessThan(subGaussianBound(bias.n, SIGMA2, ALPHA));
  });

  test('a SIGKILLed node: STRICT refuses with NODE_UNAVAILABLE, BEST_EFFORT answers from the two others', async () => {
    const victim = nodes.get(VICTIM)!;
    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');

    const strict = await ask('STRICT');
    expect(strict.status).toBe(503);
    expect(strict.data?.crossBorderPattern ?? null).toBeNull();
    expect(strict.errors).toHaveLength(1);
    const err = strict.errors![0]!;
    expect(err.extensions?.code).toBe('NODE_UNAVAILABLE');
    expect(err.extensions?.missing).toEqual([{ node: VICTIM, reason: 'UNREACHABLE' }]);
    // No numbers leak: nothing from cells, accuracy or partials, and no digits in what is said.
    expect(strict.text).not.toMatch(/rawValue|"cells"|"units"|"count"/);
    expect(err.message).not.toMatch(/\d/);
    expect(JSON.stringify(err.extensions)).not.toMatch(/\d/);

    const truths = truth(NODE_IDS.filter((id) => id !== VICTIM));
    const answers: Answer[] = [];
    for (let r = 0; r < REPEATS_AFTER_FAILURE; r++) {
      const res = await ask('BEST_EFFORT');
      expect(res.errors, res.text.slice(0, 500)).toBeUndefined();
      const a = res.data!.crossBorderPattern!;
      checkAnswerShape(a);
      expect(a.coverage.asked).toEqual(NODE_IDS);
      expect(a.coverage.answered).toEqual(NODE_IDS.filter((id) => id !== VICTIM));
      expect(a.coverage.missing).toEqual([{ node: VICTIM, reason: 'UNREACHABLE', code: null }]);
      expect(a.coverage.complete).toBe(false);
      answers.push(a);
    }
    expectCoverage(answers, truths);
    // Unbiased for the two-node truth, and visibly not the three-node one, over the cells where the
    // dead node had a share.
    const allThree = truth(NODE_IDS);
    const victimCells = (k: string): boolean => (allThree.get(k) ?? 0) > (truths.get(k) ?? 0);
    const two = errorSum(answers, truths, victimCells);
    const three = errorSum(answers, allThree, victimCells);
    const bound = subGaussianBound(two.n, SIGMA2, ALPHA);
    expect(two.n).toBeGreaterThan(0);
    expect(Math.abs(two.sum)).toBeLessThan(bound);
    expect(Math.abs(three.sum)).toBeGreaterThanOrEqual(bound);
  });
});
