/**
 * The multiplicity promise, end to end: one organisation reported at TWO nodes.
 *
 * What is tested. Two in-process nodes (SQLite files) hold background organisations. The pair D / D′
 * differs by ONE organisation reported at both nodes — an energy company that reports to its CERT
 * (node A) and to its sector ISAC (node B), stored at each under that node's own pseudonym. Its data
 * saturate the per-node bounds deterministically: at each node exactly L0 = 4 contributing groups of
 * COUNTRY×SECTOR (energy in DE, FR, PL, AT) with ≥ L∞ = 2 rows each (plus rows the filter or the TLP
 * gate drop before bounding), the same four groups at both nodes. The real node query
 * (`runContribution`) bounds each node's partial; the partials are validated and summed as the
 * gateway does (`validateContribution`, sum by domain position). Every background organisation has
 * ≤ L0 groups, so the totals are deterministic (checked by re-running the node query); the shift
 * Δ = total(D′) − total(D) is 4 = K·L∞ in each of the same L0 = 4 cells, ‖Δ‖₂² = 64 = K²·L0·L∞²
 * for K = 2: the worst case the K = 2 sensitivity allows, and four times the K = 1 sensitivity (16).
 *
 * The statistic. The released vector is total + discrete Gaussian noise from the plan's mechanism
 * (`planAggregate` with privacy.multiplicity = K, noise via `mechanism.releaseVector`). For a Gaussian
 * mechanism the privacy loss is governed by ‖Δ‖₂/σ and the most powerful events are half-spaces
 * orthogonal to Δ, so we project: T = ⟨Δ/g, Y⟩ (g = gcd of Δ, so T is an integer). Cells outside
 * supp(Δ) get noise that is independent of the rest and identically distributed under D and D′, and
 * contribute 0 to T, so only the cells of supp(Δ) are drawn (exactly the same distribution of T,
 * without drawing hundreds of irrelevant cells). On T we take every tail event {T ≤ y}, {T ≥ y}, y in
 * a range fixed before sampling (±8 noise standard deviations of T around both means), in both orders
 * of the pair, and bound ln((P_D[S] − δ) / P_D′[S]) from below with Chernoff–KL one-sided confidence
 * bounds (`test/helpers/loss-audit.ts`). (ε, δ)-DP requires this to be ≤ ε for every S.
 *
 * False-alarm rate. Bonferroni over all events and both bounds of each: a mechanism that keeps its
 * stated (ε, δ) (that of `plan.charge`) fails the K = 2 assertion with probability ≤ α = 1e-6.
 *
 * Negative control. With K = 1 the plan assumes each organisation at one node: sensitivity ‖Δ‖₂² = 16,
 * σ half as large, the same stated ρ = 0.05 (ε ≈ 1.47 at δ = 1e-6). The true shift is unchanged
 * (‖Δ‖₂² = 64), so the release really costs ρ = 64/(2σ²) = 0.2, and tail events of T at ≈ 3 noise
 * standard deviations have a true loss ≈ 2.0 > 1.47. The same audit must show a lower confidence bound
 * above the stated ε — otherwise the test would have no power to catch the multiplicity being ignored.
 * Draws: 8·10^5 per dataset and K (expected lower bound ≈ 1.63 for K = 1, ≈ 0.70 for K = 2; each
 * varies by ≈ 0.03 between runs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentRecord, NodeDataset, OrganisationRecord, TlpLevel } from '../../schema/contract/dataset.js';
import { seedDataset } from '../../nodes/db/seed.js';
import { runContribution, runContributionCells } from '../../nodes/contribution/run.js';
import { planAggregate, type AggregatePlan } from '../../gateway/aggregate/plan.js';
import { validateContribution } from '../../gateway/aggregate/validate.js';
import { DEFAULT_CONFIG } from '../../gateway/config.js';
import { Entropy, chargeToDp } from '../../schema/privacy/index.js';
import { prng } from '../nodes/helpers/dataset.js';
import { sqliteDb, type TestDb } from '../nodes/helpers/db.js';
import { auditTails, type TailAudit } from '../helpers/loss-audit.js';

const ALPHA = 1e-6;
const DRAWS = 800_000;
const entropy = new Entropy();

const SECTORS_ASKED = ['energy', 'financial-services', 'water'];
const QUESTION = { groupBy: ['COUNTRY', 'SECTOR'] as const, filter: { sectors: SECTORS_ASKED } };

function planFor(multiplicity: number): AggregatePlan {
  return planAggregate(
    { groupBy: [...QUESTION.groupBy], filter: QUESTION.filter },
    { privacy: { ...DEFAULT_CONFIG.privacy, multiplicity }, defaultQuorum: 'STRICT', maxCells: DEFAULT_CONFIG.maxCells },
  );
}

/** Background organisations of one node: each in 1–4 (country, sector) groups, so bounding keeps all of them. */
function background(seed: number, prefix: string): NodeDataset {
  const r = prng(seed);
  const countries = ['DE', 'FR', 'PL', 'AT', 'NL', 'IT', 'ES', 'US'];
  const sectors = ['energy', 'water', 'financial-services', 'transportation', 'healthcare-public-health'];
  const tlps: TlpLevel[] = ['CLEAR', 'GREEN', 'AMBER', 'GREEN', 'RED'];
  const organisations: OrganisationRecord[] = [];
  const incidents: IncidentRecord[] = [];
  for (let o = 0; o < 80; o++) {
    const id = `${prefix}-org-${o}`;
    const groups = new Map<string, [string, string]>();
    const want = 1 + Math.floor(r() * 4);
    while (groups.size < want) {
      const c = countries[Math.floor(r() * countries.length)]!;
      const s = sectors[Math.floor(r() * sectors.length)]!;
      groups.set(`${c}/${s}`, [c, s]);
    }
    const [c0, s0] = [...groups.values()][0]!;
    organisations.push({ id, sector: s0, country: c0 });
    for (const [country, sector] of groups.values()) {
      const rows = 1 + Math.floor(r() * 5);
      for (let i = 0; i < rows; i++) {
        incidents.push({
          id: `${id}-inc-${incidents.length}`,
          date: `2025-0${1 + Math.floor(r() * 6)}-1${Math.floor(r() * 9)}`,
          country,
          sector,
          severity: 1 + Math.floor(r() * 5),
          disruption: r() < 0.3,
          tlp: tlps[Math.floor(r() * tlps.length)]!,
          organisation: id,
          exploits: [],
          actors: [],
          indicators: [],
        });
      }
    }
  }
  return { organisations, exploits: [], actors: [], incidents };
}

/** Where the energy company operates; at each node its contributing rows fall in exactly these four groups. */
const COMPANY_COUNTRIES = ['DE', 'FR', 'PL', 'AT'];

/**
 * The energy company as one node stores it: `ref` is the node's own pseudonym, `perGroup` rows in each
 * of the four groups (≥ L∞), plus rows that never reach the bounding: RED (the TLP gate) and a sector
 * outside the question's filter.
 */
function company(ref: string, perGroup: number, tlp: TlpLevel): NodeDataset {
  const incidents: IncidentRecord[] = [];
  const row = (country: string, sector: string, t: TlpLevel): void => {
    incidents.push({
      id: `${ref}-inc-${incidents.length}`,
      date: `2025-04-${String(1 + incidents.length).padStart(2, '0')}`,
      country,
      sector,
      severity: 4,
      disruption: true,
      tlp: t,
      organisation: ref,
      exploits: [],
      actors: [],
      indicators: [],
    });
  };
  for (const c of COMPANY_COUNTRIES) for (let i = 0; i < perGroup; i++) row(c, 'energy', tlp);
  row('NL', 'energy', 'RED');
  row('NL', 'energy', 'RED');
  row('DE', 'information-technology', tlp);
  return { organisations: [{ id: ref, sector: 'energy', country: 'DE' }], exploits: [], actors: [], incidents };
}

const REF_AT_A = 'cert-7f3a91';
const REF_AT_B = 'isac-energy-0042';

interface Node {
  id: string;
  db: TestDb;
}

/** The node query at every node, validated and summed as the gateway does: exact totals over plan.domain. */
async function federatedTotals(plan: AggregatePlan, nodes: readonly Node[]): Promise<number[]> {
  const totals = new Array<number>(plan.domain.keys.length).fill(0);
  for (const n of nodes) {
    const result = await runContribution(n.db.orm, plan.request);
    const v = validateContribution({ node: n.id, queryId: plan.queryId, units: result.units, groups: result.groups }, { node: n.id, queryId: plan.queryId, domain: plan.domain, bounds: plan.bounds });
    if (!v.ok) throw new Error(`contribution of ${n.id} rejected: ${v.problem}`);
    for (const g of v.groups) {
      expect(g.pos).toBeGreaterThanOrEqual(0); // COUNTRY×SECTOR keys are all public
      totals[g.pos]! += g.count;
    }
  }
  return totals;
}

/** Totals, re-running the node query to check that bounding leaves them deterministic. */
async function deterministicTotals(plan: AggregatePlan, nodes: readonly Node[]): Promise<number[]> {
  const first = await federatedTotals(plan, nodes);
  for (let i = 0; i < 3; i++) expect(await federatedTotals(plan, nodes)).toEqual(first);
  return first;
}

const sq = (v: readonly number[]): number => v.reduce((s, x) => s + x * x, 0);
const gcd = (a: number, b: number): number => (b === 0 ? Math.abs(a) : gcd(b, a % b));

interface Outcome {
  audit: TailAudit;
  stated: { rho: number; epsilon: number; delta: number };
  trueRho: number;
  trueEpsilon: number;
  sigma: number;
  ms: number;
}

describe('multiplicity: one organisation reported at two nodes (K = 2)', () => {
  let a: Node;
  let b: Node;
  const plans = { 1: planFor(1), 2: planFor(2) } as const;
  /** Exact totals per plan: D (background), D plus the company at A only, D′ (the company at A and B). */
  const totals: Record<1 | 2, { D: number[]; onlyA: number[]; D1: number[] }> = {} as never;
  let cellsA: Awaited<ReturnType<typeof runContributionCells>>;
  let cellsB: Awaited<ReturnType<typeof runContributionCells>>;

  beforeAll(async () => {
    a = { id: 'node-cert', db: await sqliteDb() };
    b = { id: 'node-isac', db: await sqliteDb() };
    await seedDataset(a.db.orm, background(11, 'cert'), { secret: 'node-cert-secret' });
    await seedDataset(b.db.orm, background(12, 'isac'), { secret: 'node-isac-secret' });
    const D = { 1: await deterministicTotals(plans[1], [a, b]), 2: await deterministicTotals(plans[2], [a, b]) };
    await seedDataset(a.db.orm, company(REF_AT_A, 3, 'GREEN'), { secret: 'node-cert-secret' });
    const onlyA = { 1: await deterministicTotals(plans[1], [a, b]), 2: await deterministicTotals(plans[2], [a, b]) };
    await seedDataset(b.db.orm, company(REF_AT_B, 5, 'AMBER'), { secret: 'node-isac-secret' });
    const D1 = { 1: await deterministicTotals(plans[1], [a, b]), 2: await deterministicTotals(plans[2], [a, b]) };
    for (const k of [1, 2] as const) totals[k] = { D: D[k], onlyA: onlyA[k], D1: D1[k] };
    cellsA = (await runContributionCells(a.db.orm, plans[2].request)).filter((c) => c.org === REF_AT_A);
    cellsB = (await runContributionCells(b.db.orm, plans[2].request)).filter((c) => c.org === REF_AT_B);
  });
  afterAll(async () => {
    await a?.db.dispose();
    await b?.db.dispose();
  });

  it('the node query bounds the company at each node to L0 groups × L∞ rows, under each node’s pseudonym', () => {
    const expected = COMPANY_COUNTRIES.map((c) => ({ key: [c, 'energy'], count: 2 })).sort((x, y) => (x.key[0]! < y.key[0]! ? -1 : 1));
    for (const cells of [cellsA, cellsB]) expect(cells.map((c) => ({ key: c.key, count: c.count }))).toEqual(expected);
  });

  it('the shift is deterministic and saturates the K = 2 sensitivity (and exceeds the K = 1 one)', () => {
    for (const k of [1, 2] as const) {
      const t = totals[k];
      expect(t.D).toEqual(totals[2].D); // same node answers whatever K the gateway assumes
      const oneNode = t.onlyA.map((x, i) => x - t.D[i]!);
      const delta = t.D1.map((x, i) => x - t.D[i]!);
      // at one node the company moves four cells by L∞ = 2: exactly the K = 1 sensitivity
      expect(oneNode.filter((x) => x !== 0)).toEqual([2, 2, 2, 2]);
      expect(sq(oneNode)).toBe(plans[1].sensitivity.l2Squared);
      // at two nodes the same four cells move by 4 each
      const support = delta.flatMap((x, i) => (x !== 0 ? [plans[k].domain.keys[i]!.join('/')] : []));
      expect(support.sort()).toEqual(COMPANY_COUNTRIES.map((c) => `${c}/energy`).sort());
      expect(delta.filter((x) => x !== 0)).toEqual([4, 4, 4, 4]);
      expect(sq(delta)).toBe(plans[2].sensitivity.l2Squared);
      expect(sq(delta)).toBe(4 * plans[1].sensitivity.l2Squared);
    }
  });

  function runAudit(k: 1 | 2): Outcome {
    const plan = plans[k];
    const { D, D1 } = totals[k];
    const delta = D1.map((x, i) => x - D[i]!);
    const support = delta.flatMap((x, i) => (x !== 0 ? [i] : []));
    const g = support.reduce((acc, i) => gcd(acc, delta[i]!), 0);
    const w = support.map((i) => delta[i]! / g);
    const xD = support.map((i) => D[i]!);
    const xD1 = support.map((i) => D1[i]!);
    const mech = plan.mechanism;
    const sigmaT = mech.scale * Math.sqrt(sq(w));
    const cD = xD.reduce((s, x, j) => s + x * w[j]!, 0);
    const cD1 = xD1.reduce((s, x, j) => s + x * w[j]!, 0);
    const lo = Math.floor(Math.min(cD, cD1) - 8 * sigmaT);
    const hi = Math.ceil(Math.max(cD, cD1) + 8 * sigmaT);
    const t0 = performance.now();
    const draw = (x: readonly number[]): Int32Array => {
      const out = new Int32Array(DRAWS);
      for (let i = 0; i < DRAWS; i++) {
        const y = mech.releaseVector(x, entropy);
        let t = 0;
        for (let j = 0; j < y.length; j++) t += w[j]! * y[j]!;
        out[i] = t;
      }
      return out;
    };
    const sD = draw(xD);
    const sD1 = draw(xD1);
    const audit = auditTails(sD, sD1, lo, hi, plan.charge.delta, ALPHA);
    const ms = performance.now() - t0;
    // What the shift really costs under this plan's noise (the privacy map applied to the true ‖Δ‖₂²).
    const trueCharge = mech.charge({ l0: support.length, lInf: Math.max(...delta.map(Math.abs)), l1: delta.reduce((s, x) => s + Math.abs(x), 0), l2Squared: sq(delta) });
    const trueDp = chargeToDp(trueCharge, plan.charge.delta);
    const out = { audit, stated: plan.charge, trueRho: trueCharge.rho, trueEpsilon: trueDp.epsilon, sigma: mech.scale, ms };
    console.info(
      `K=${k}: σ=${mech.scale.toFixed(3)} stated ρ=${plan.charge.rho.toFixed(4)} ε=${plan.charge.epsilon.toFixed(3)} (δ=${plan.charge.delta}); ` +
        `true ρ=${trueCharge.rho.toFixed(4)} ε=${trueDp.epsilon.toFixed(3)}; empirical loss: lower bound ${audit.maxLowerBound.toFixed(3)} (${audit.event}), ` +
        `max estimate ${audit.maxEstimate.toFixed(3)}; ${audit.events} events, ${DRAWS} draws per dataset, ${Math.round(ms)} ms`,
    );
    return out;
  }

  it('K = 2: the empirical loss of the released vector stays within the stated (ε, δ)', () => {
    const r = runAudit(2);
    expect(r.stated.rho).toBeLessThanOrEqual(DEFAULT_CONFIG.privacy.rho);
    expect(r.trueRho).toBeLessThanOrEqual(r.stated.rho); // the worst case is what was charged
    expect(r.audit.maxLowerBound).toBeLessThanOrEqual(r.stated.epsilon);
    // the audit sees the company (the shift is detected), so passing is not for lack of signal
    expect(r.audit.maxLowerBound).toBeGreaterThan(0.3);
  });

  it('negative control, K = 1 on the same data: the empirical loss exceeds the stated ε', () => {
    const r = runAudit(1);
    expect(r.stated.epsilon).toBeCloseTo(planFor(2).charge.epsilon, 12); // same stated promise as K = 2
    expect(r.trueRho).toBeGreaterThan(3.9 * r.stated.rho); // four times what was charged
    expect(r.audit.maxLowerBound).toBeGreaterThan(r.stated.epsilon);
  });
});
