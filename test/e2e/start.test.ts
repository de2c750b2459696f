/**
 * The README's `npm start` from a clean state: dist/scripts/start.js in a fresh data folder seeds
 * three demo nodes, starts them and the gateway as child processes, and prints the gateway URL and
 * a ready-to-paste query. The printed query must work over real HTTP with full coverage, the
 * answers must match the seeded data, and Ctrl-C (SIGINT) must stop every child and exit 0.
 *
 * The children are found through the process table: their command lines contain the temporary
 * data folder, which nothing else on the machine uses.
 *
 * Statistical decisions: each released cell carries an independent N_ℤ(0, σ²) draw. Per-cell
 * deviations are checked with a union bound and the sum of deviations with the subgaussian bound,
 * each at false-alarm probability ≤ 1e-6 (≤ 4e-6 for the file).
 */
import { afterAll, expect, test } from 'vitest';
import type { ContributionRequest } from '../../schema/contract/index.js';
import { DEFAULT_CONFIG } from '../../gateway/config.js';
import { DEMO_MEMBERS } from '../../gateway/policy/defaults.js';
import { oracleContribution } from '../../nodes/contribution/oracle.js';
import { DEMO_NODES, generateFederation } from '../../scripts/synth/index.js';
import { DEMO_ORGANISATION_MULTIPLICITY } from '../../scripts/start.js';
import {
  START_MAIN,
  gql,
  makeTempDir,
  pidAlive,
  processesWithArg,
  removeDir,
  startProcess,
  stopProcess,
  subGaussianBound,
  type Proc,
} from './helpers.js';

const INCIDENTS = 2_000;
const SEED = 'accord-e2e-start';
const ALPHA = 1e-6;
const FROM = '2024-01-01';
const TO = '2025-01-01';
const { maxPartitions: L0, maxPerPartition: LINF, rho: RHO } = DEFAULT_CONFIG.privacy;
/** Discrete Gaussian σ² for bounded counts: Δ₂² / (2ρ) with Δ₂² = K² · L0 · L∞² (BS16 Prop. 1.6; the demo's K). */
const K = DEMO_ORGANISATION_MULTIPLICITY;
const SIGMA2 = (K * K * L0 * LINF * LINF) / (2 * RHO);
const NODE_IDS = DEMO_NODES.map((n) => n.id);

let dir: string | undefined;
let start: Proc | undefined;

afterAll(async () => {
  if (start) await stopProcess(start, 'SIGINT', 15_000);
  // Anything still running from this test's data folder was started by this test: stop it by PID.
  if (dir) for (const p of processesWithArg(dir)) process.kill(p.pid, 'SIGKILL');
  removeDir(dir);
});

/** True bounded totals per `${region}/${sector}` of the demo datasets `start` seeds. */
function truth(filter: ContributionRequest['filter']): Map<string, number> {
  const fed = generateFederation({ seed: SEED, nodes: DEMO_NODES, incidentsPerNode: INCIDENTS });
  // Every organisation's incidents share one country and one sector, hence one (region, sector)
  // group: the random L0 choice cuts nothing and the totals are deterministic.
  for (const d of Object.values(fed.datasets)) {
    const groups = new Map<string, Set<string>>();
    for (const i of d.incidents) groups.set(i.organisation, (groups.get(i.organisation) ?? new Set()).add(`${i.country}/${i.sector}`));
    expect(Math.max(...[...groups.values()].map((s) => s.size))).toBeLessThanOrEqual(L0);
  }
  const request: ContributionRequest = { queryId: 'e2e-truth', measure: 'INCIDENTS', groupBy: ['REGION', 'SECTOR'], filter, bounds: { maxPartitions: L0, maxPerPartition: LINF } };
  const totals = new Map<string, number>();
  for (const id of NODE_IDS) {
    for (const g of oracleContribution(fed.datasets[id]!, request).groups) {
      const k = `${g.key[0]}/${g.key[1]}`;
      totals.set(k, (totals.get(k) ?? 0) + g.count);
    }
  }
  return totals;
}

/**
 * Every cell within t of its truth, t = σ·√(2 ln(2C/α)) (subgaussian tail and a union bound over the
 * C cells), and the deviations' sum within the subgaussian bound. `value` is max(0, raw), which is
 * never farther from a non-negative truth than raw, so it may stand in for raw.
 */
function expectNearTruth(cells: Array<{ region: string; sector: string; value: number; rawValue?: number }>, truths: Map<string, number>): void {
  const sigma = Math.sqrt(SIGMA2);
  const t = sigma * Math.sqrt(2 * Math.log((2 * cells.length) / ALPHA));
  let sum = 0;
  for (const c of cells) {
    const expected = truths.get(`${c.region}/${c.sector}`) ?? 0;
    const released = c.rawValue ?? c.value;
    expect(Math.abs(released - expected), `${c.region}/${c.sector}: released ${released}, truth ${expected}`).toBeLessThanOrEqual(t);
    sum += released - expected;
  }
  if (cells.every((c) => c.rawValue !== undefined)) expect(Math.abs(sum)).toBeLessThan(subGaussianBound(cells.length, SIGMA2, ALPHA));
}

test('npm start from a clean data folder: printed query answers with full coverage; SIGINT stops everything and exits 0', async () => {
  dir = makeTempDir('start');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ACCORD_')));
  start = startProcess('start', START_MAIN, ['--port', '0', '--data-dir', dir, '--incidents', String(INCIDENTS), '--seed', SEED], env);

  const urlLine = await start.waitForLine((l) => l.startsWith('Gateway (analyst GraphQL API):'), 90_000);
  const url = /(http:\/\/127\.0\.0\.1:\d+\/graphql)\s*$/.exec(urlLine)?.[1];
  expect(url, urlLine).toBeDefined();
  await start.waitForLine((l) => l.includes('Press Ctrl-C'), 10_000);

  // The printed curl command: its URL is the gateway's, a member token, a GraphQL request body.
  const curl = start.stdout.find((l) => l.startsWith('curl '));
  expect(curl, start.stdout.join('\n')).toBeDefined();
  const m = /^curl -s (\S+) -H 'content-type: application\/json' -H 'authorization: Bearer ([A-Za-z0-9_.-]+)' --data '(.*)'$/.exec(curl!);
  expect(m, curl).not.toBeNull();
  expect(m![1]).toBe(url);
  const token = m![2]!;
  const body = JSON.parse(m![3]!.replace(/'\\''/g, "'")) as { query: string; variables?: Record<string, unknown> };
  expect(body.query).toContain('crossBorderPattern');
  // one printed token per demo member, and the gateway refuses requests without one
  expect(start.stdout.filter((l) => /^\s+eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(l)).length).toBe(DEMO_MEMBERS.length + 1);
  const anonymous = await gql(url!, body.query, body.variables);
  expect(anonymous.status).toBe(401);
  expect(anonymous.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');

  const printed = await gql<{ crossBorderPattern: any }>(url!, body.query, body.variables, token);
  expect(printed.errors, printed.text.slice(0, 500)).toBeUndefined();
  expect(printed.status).toBe(200);
  const p = printed.data!.crossBorderPattern;
  expect(p.coverage.asked).toEqual(NODE_IDS);
  expect(p.coverage.answered).toEqual(NODE_IDS);
  expect(p.coverage.missing).toEqual([]);
  expect(p.accuracy.ci95).toBeGreaterThan(0);
  expect(Math.abs(p.charge.rho - RHO) / RHO).toBeLessThan(1e-6);
  expect(p.cells.length).toBeGreaterThan(0);
  for (const c of p.cells) {
    expect(c.low).toBeLessThanOrEqual(c.value);
    expect(c.value).toBeLessThanOrEqual(c.high);
    expect(c.high - c.low).toBeLessThanOrEqual(2 * p.accuracy.ci95);
  }
  // The printed query is about energy across regions in 2024; the nodes hold the seeded data.
  expect(p.cells.every((c: { sector: string }) => c.sector === 'energy')).toBe(true);
  expectNearTruth(p.cells, truth({ sectors: ['energy'], from: FROM, to: TO }));

  // A wider question with raw values: every sector by region.
  const wide = await gql<{ crossBorderPattern: any }>(
    url!,
    `{ crossBorderPattern(groupBy: [REGION, SECTOR], filter: { from: "${FROM}", to: "${TO}" }) {
         cells { region sector value rawValue } coverage { complete } } }`,
    undefined,
    token,
  );
  expect(wide.errors, wide.text.slice(0, 500)).toBeUndefined();
  expect(wide.data!.crossBorderPattern.coverage.complete).toBe(true);
  expect(wide.data!.crossBorderPattern.cells.length).toBeGreaterThan(20);
  expectNearTruth(wide.data!.crossBorderPattern.cells, truth({ from: FROM, to: TO }));

  // The printed query again: the cached answer, nothing charged. The demo denial: the Japanese
  // ISAC member may not break down by sector outside Asia.
  const again = await gql<{ crossBorderPattern: any }>(url!, body.query, body.variables, token);
  expect(again.data!.crossBorderPattern.cached).toBe(true);
  expect(again.data!.crossBorderPattern.cells).toEqual(p.cells);
  const isacLine = start.stdout.findIndex((l) => l.trimStart().startsWith('jp-energy-isac '));
  expect(isacLine).toBeGreaterThan(0);
  const isacToken = start.stdout[isacLine + 1]!.trim();
  const denied = await gql(url!, body.query, body.variables, isacToken);
  expect(denied.status).toBe(403);
  expect(denied.errors![0]!.extensions).toMatchObject({ code: 'POLICY_DENIED', rule: 'isac-sector-breakdown-own-region' });

  // Three node processes and the gateway run as children of start, found by their data folder.
  const running = processesWithArg(dir).filter((p) => p.pid !== start!.pid);
  const nodePids = running.filter((p) => p.cmdline.includes('nodes/main.js'));
  const gatewayPids = running.filter((p) => p.cmdline.includes('gateway/main.js'));
  expect(nodePids.map((p) => /--id (\S+)/.exec(p.cmdline)?.[1]).sort()).toEqual([...NODE_IDS].sort());
  expect(gatewayPids).toHaveLength(1);

  start.child.kill('SIGINT');
  const exit = await Promise.race([start.exited, new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), 20_000))]);
  expect(exit, start.stderrTail.join('\n')).toEqual({ code: 0, signal: null });
  // start waits for its children before exiting; allow the kernel a moment to finish reaping.
  const deadline = Date.now() + 2_000;
  while (running.some((p) => pidAlive(p.pid)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  expect(running.filter((p) => pidAlive(p.pid)).map((p) => p.cmdline)).toEqual([]);
  expect(processesWithArg(dir)).toEqual([]);
}, 120_000);
