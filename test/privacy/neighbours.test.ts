/**
 * Empirical privacy loss of the end-to-end count mechanism on neighbouring datasets
 * (D versus D plus one privacy unit), in the spirit of DP auditing.
 *
 * For output events S, ln(P_D[S] / P_D′[S]) must not exceed the claimed ε. We estimate it for the
 * tail events {Y ≤ y} and {Y ≥ y} in both directions, each with a one-sided normal confidence
 * bound; Bonferroni over all events keeps the family-wise false-alarm rate ≤ α = 1e-6 for a
 * correct mechanism. A deliberately mis-scaled mechanism (labelled ε = 1, really ε = 1.1) must be
 * caught by the same procedure (negative control), and the honest mechanism must come close to its
 * claim (the claim is tight, so the test has power).
 */
import { describe, expect, it } from 'vitest';
import {
  Entropy,
  countSensitivity,
  laplaceForEpsilon,
  makeDiscreteLaplace,
  rational,
  shuffle,
  type ContributionBoundsSpec,
  type NoiseMechanism,
} from '../../schema/privacy/index.js';
import { normalUpperQuantile } from '../helpers/stats.js';

const ALPHA = 1e-6;
const entropy = new Entropy();

interface Row {
  unit: string;
  group: string;
}

/** Reference contribution bounding: each unit keeps ≤ L0 random groups and ≤ L∞ rows per group. */
function boundedCounts(rows: Row[], b: ContributionBoundsSpec): Map<string, number> {
  const perUnit = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const g = perUnit.get(r.unit) ?? new Map<string, number>();
    g.set(r.group, (g.get(r.group) ?? 0) + 1);
    perUnit.set(r.unit, g);
  }
  const out = new Map<string, number>();
  for (const groups of perUnit.values()) {
    const keys = shuffle(entropy, [...groups.keys()]).slice(0, b.maxPartitions);
    for (const k of keys) out.set(k, (out.get(k) ?? 0) + Math.min(groups.get(k)!, b.maxPerPartition));
  }
  return out;
}

function releaseCount(rows: Row[], b: ContributionBoundsSpec, mech: NoiseMechanism, group: string): number {
  return mech.release(boundedCounts(rows, b).get(group) ?? 0, entropy);
}

interface Audit {
  /** Largest lower confidence bound on the loss over all events. */
  maxLowerBound: number;
  /** Largest point estimate over events with enough mass. */
  maxEstimate: number;
}

function audit(samplesD: number[], samplesD1: number[]): Audit {
  const n = samplesD.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of samplesD) (lo = Math.min(lo, x)), (hi = Math.max(hi, x));
  for (const x of samplesD1) (lo = Math.min(lo, x)), (hi = Math.max(hi, x));
  // Four tail events per output value in the observed range: Bonferroni over all of them.
  const z = normalUpperQuantile(ALPHA / (4 * (hi - lo + 1)));
  const cdf = (s: number[]): Map<number, number> => {
    const h = new Map<number, number>();
    for (const x of s) h.set(x, (h.get(x) ?? 0) + 1);
    const c = new Map<number, number>();
    let acc = 0;
    for (let y = lo; y <= hi; y++) {
      acc += h.get(y) ?? 0;
      c.set(y, acc);
    }
    return c;
  };
  const cD = cdf(samplesD);
  const cD1 = cdf(samplesD1);
  let maxLowerBound = -Infinity;
  let maxEstimate = -Infinity;
  const consider = (k1: number, k2: number): void => {
    if (k1 < 1000 || k2 < 1000) return; // normal approximation of ln p̂ needs mass
    const p1 = k1 / n;
    const p2 = k2 / n;
    const est = Math.log(p1 / p2);
    const se = Math.sqrt((1 - p1) / k1 + (1 - p2) / k2);
    maxEstimate = Math.max(maxEstimate, est);
    maxLowerBound = Math.max(maxLowerBound, est - z * se);
  };
  for (let y = lo; y <= hi; y++) {
    const leD = cD.get(y)!;
    const leD1 = cD1.get(y)!;
    const geD = n - (cD.get(y - 1) ?? 0);
    const geD1 = n - (cD1.get(y - 1) ?? 0);
    consider(leD, leD1);
    consider(leD1, leD);
    consider(geD, geD1);
    consider(geD1, geD);
  }
  return { maxLowerBound, maxEstimate };
}

describe('end-to-end count mechanism on neighbouring datasets', () => {
  const bounds = { maxPartitions: 1, maxPerPartition: 3 };
  // D: 40 organisations reporting 1–6 incidents in "energy/DE"; D′ adds one organisation with 5 incidents there
  // (bounded to 3) — the worst case for this group.
  const D: Row[] = [];
  for (let u = 0; u < 40; u++) for (let r = 0; r <= u % 6; r++) D.push({ unit: `org-${u}`, group: 'energy/DE' });
  const D1: Row[] = [...D, ...Array.from({ length: 5 }, () => ({ unit: 'org-extra', group: 'energy/DE' }))];
  const N = 300_000;

  function run(mech: NoiseMechanism): Audit {
    const a: number[] = new Array(N);
    const b: number[] = new Array(N);
    // Bounding is deterministic here (one group per unit), so compute it once and noise N times.
    const cD = boundedCounts(D, bounds).get('energy/DE')!;
    const cD1 = boundedCounts(D1, bounds).get('energy/DE')!;
    expect(cD1 - cD).toBe(3);
    for (let i = 0; i < N; i++) {
      a[i] = mech.release(cD, entropy);
      b[i] = mech.release(cD1, entropy);
    }
    return audit(a, b);
  }

  it('the honest mechanism (ε = 1 from the bounds) shows no loss above ε, and comes close to it', () => {
    const s = countSensitivity(bounds);
    const mech = laplaceForEpsilon(1, s);
    expect(mech.epsilon(s)).toBeLessThanOrEqual(1 + 1e-12);
    expect(releaseCount(D, bounds, mech, 'energy/DE')).toEqual(expect.any(Number));
    const r = run(mech);
    expect(r.maxLowerBound).toBeLessThanOrEqual(1);
    expect(r.maxEstimate).toBeGreaterThan(0.95);
  });

  it('negative control: a mechanism labelled ε = 1 but scaled for ε = 1.1 is caught', () => {
    const mis = makeDiscreteLaplace(rational(30, 11)); // t = Δ₁/1.1 with Δ₁ = 3
    const r = run(mis);
    expect(r.maxLowerBound).toBeGreaterThan(1);
  });
});
