/**
 * Unit tests of the analyst questions without transport: node-data keys and partition selection,
 * the IMPACT plan and its ratios, trend flags, top-k ranking, vintage shares and the indicator
 * prevalence arguments.
 *
 * Statistical checks state their false-alarm rate; each is at most 1e-6 unless said otherwise.
 */
import { describe, expect, test } from 'vitest';
import { pino } from 'pino';
import { VINTAGE_BUCKETS } from '../../schema/contract/contribution.js';
import { indicatorHash } from '../../schema/contract/indicator.js';
import { countSensitivity, discreteGaussianWithSigma, noiseHalfWidth } from '../../schema/privacy/index.js';
import { ACTORS, KEV } from '../../schema/reference/index.js';
import { gatherAggregate, NO_KEY } from '../../gateway/aggregate/gather.js';
import { planAggregate } from '../../gateway/aggregate/plan.js';
import { type NodeOutcome } from '../../gateway/aggregate/ports.js';
import { type AggregateAnswer } from '../../gateway/aggregate/answer-types.js';
import { DEFAULT_CONFIG } from '../../gateway/config.js';
import {
  changeFlag,
  impactArgs,
  prevalenceArgs,
  ratioEstimate,
  shapeImpact,
  shapePattern,
  shapeTopK,
  shapeTrend,
  shapeVintages,
  topKArgs,
  trendArgs,
  vintageArgs,
} from '../../gateway/aggregate/questions.js';
import { validateContribution } from '../../gateway/aggregate/validate.js';
import { binomialUpperTail } from '../helpers/stats.js';
import { codeOf as code } from '../helpers/errors.js';

const quiet = pino({ level: 'silent' });
const privacy = DEFAULT_CONFIG.privacy;
const deps = { privacy, defaultQuorum: 'STRICT' as const, maxCells: 5_000 };

/** Smallest m with P(Binomial(n, p) ≥ m) ≤ alpha. */
function upperAlarm(n: number, p: number, alpha: number): number {
  let m = 0;
  while (binomialUpperTail(n, p, m) > alpha) m++;
  return m;
}

describe('key domains with node-data keys', () => {
  test('TOOL has no public keys; EXPLOIT and ACTOR release the catalogs; listing keys makes them public', () => {
    const tool = planAggregate({ groupBy: ['TOOL'] }, deps);
    expect(tool.domain.keys).toEqual([]);
    expect(tool.domain.open).toEqual([true]);
    expect(tool.selection).not.toBeNull();
    const exploit = planAggregate({ groupBy: ['EXPLOIT'] }, deps);
    expect(exploit.domain.keys.length).toBe(KEV.length);
    expect(exploit.domain.open).toEqual([true]);
    const actor = planAggregate({ groupBy: ['ACTOR'] }, deps);
    expect(actor.domain.keys.length).toBe(ACTORS.length);
    const listed = planAggregate({ groupBy: ['TOOL', 'SECTOR'], filter: { tools: ['Cobalt Strike', ' Mimikatz '], sectors: ['energy'] } }, deps);
    // the domain is in the canonical order (SECTOR before TOOL), whatever order the question used
    expect(listed.domain.keys).toEqual([
      ['energy', 'Cobalt Strike'],
      ['energy', 'Mimikatz'],
    ]);
    expect(listed.domain.open).toEqual([false, false]);
    expect(listed.selection).toBeNull();
  });
  test('TLP and VINTAGE enumerate their public buckets; the member ceiling narrows TLP', () => {
    expect(planAggregate({ groupBy: ['VINTAGE'] }, deps).domain.keys.map((k) => k[0])).toEqual([...VINTAGE_BUCKETS]);
    expect(planAggregate({ groupBy: ['TLP'] }, deps).domain.keys.map((k) => k[0])).toEqual(['CLEAR', 'GREEN', 'AMBER']);
    expect(planAggregate({ groupBy: ['TLP'] }, deps, { tlp: ['CLEAR', 'GREEN'] }).domain.keys.map((k) => k[0])).toEqual(['CLEAR', 'GREEN']);
    expect(planAggregate({ groupBy: ['TLP'], filter: { tlp: ['amber', 'GREEN'] } }, deps, { tlp: ['CLEAR', 'GREEN'] }).domain.keys.map((k) => k[0])).toEqual(['GREEN']);
    expect(code(() => planAggregate({ groupBy: ['TLP'], filter: { tlp: ['AMBER'] } }, deps, { tlp: ['CLEAR'] }))).toBe('INVALID_QUERY');
    expect(code(() => planAggregate({ groupBy: ['TLP'], filter: { tlp: ['RED'] } }, deps))).toBe('INVALID_QUERY');
  });
  test('filters validate CVE ids, canonicalise actor synonyms, and write tool names as the importers store them', () => {
    const q = planAggregate({ groupBy: [], filter: { exploits: ['cve-2021-44228'] } }, deps).query;
    expect(q.filter.exploits).toEqual(['CVE-2021-44228']);
    expect(code(() => planAggregate({ groupBy: [], filter: { exploits: ['log4shell'] } }, deps))).toBe('INVALID_QUERY');
    // the contract's rule (schema/contract/keys.ts): control characters and white space runs become one space, a long name is cut
    expect(planAggregate({ groupBy: [], filter: { tools: ['a\u0000b', ' Black\tCat '] } }, deps).query.filter.tools).toEqual(['Black Cat', 'a b']);
    expect(planAggregate({ groupBy: [], filter: { tools: ['x'.repeat(230)] } }, deps).query.filter.tools).toEqual(['x'.repeat(200)]);
    expect(code(() => planAggregate({ groupBy: [], filter: { tools: ['\u0000 \t'] } }, deps))).toBe('INVALID_QUERY');
    const withSynonym = ACTORS.find((a) => a.synonyms.length > 0)!;
    expect(planAggregate({ groupBy: [], filter: { actors: [withSynonym.synonyms[0]!] } }, deps).query.filter.actors).toEqual([withSynonym.name]);
  });
  test('a public domain above the cell limit is refused with a hint to use topK', () => {
    const c = code(() => planAggregate({ groupBy: ['EXPLOIT', 'SECTOR'] }, deps));
    expect(c).toBe('INVALID_QUERY');
  });
});

describe('validation of node-data keys', () => {
  const plan = planAggregate({ groupBy: ['SECTOR', 'TOOL'], filter: { sectors: ['energy', 'healthcare-public-health'] } }, deps);
  const exp = { node: 'n', queryId: plan.queryId, domain: plan.domain, bounds: plan.bounds };
  const c = (key: string[], count = 1) => ({ node: 'n', queryId: plan.queryId, units: 5, groups: [{ key, count, sum: null, disrupted: null }] });
  test('accepts a free-text value at the open position with public values elsewhere', () => {
    const v = validateContribution(c(['energy', 'Cobalt Strike']), exp);
    expect(v.ok && v.groups[0]).toMatchObject({ pos: -1, count: 1 });
  });
  test.each([
    ['closed part outside the filter', ['water', 'Cobalt Strike']],
    ['control character', ['energy', 'Cobalt\u0001Strike']],
    ['empty value', ['energy', '']],
    ['overlong value', ['energy', 'x'.repeat(201)]],
  ])('refuses %s', (_n, key) => {
    expect(validateContribution(c(key as string[]), exp).ok).toBe(false);
  });
  test('an open EXPLOIT value must be a CVE id', () => {
    const p = planAggregate({ groupBy: ['EXPLOIT'] }, deps);
    const e = { node: 'n', queryId: p.queryId, domain: p.domain, bounds: p.bounds };
    const mk = (key: string) => ({ node: 'n', queryId: p.queryId, units: 5, groups: [{ key: [key], count: 1, sum: null, disrupted: null }] });
    expect(validateContribution(mk('CVE-1999-0001'), e).ok).toBe(true);
    expect(validateContribution(mk('not a cve'), e).ok).toBe(false);
  });
  test('a repeated node-data key is refused', () => {
    const twice = { ...c(['energy', 'X']), groups: [c(['energy', 'X']).groups[0]!, c(['energy', 'X']).groups[0]!] };
    expect(validateContribution(twice, exp).ok).toBe(false);
  });
});

describe('partition selection in gather', () => {
  const plan = planAggregate({ groupBy: ['TOOL'] }, deps);
  const L = plan.bounds.maxPerPartition;
  const outcomes = (rare: number, common: number): NodeOutcome[] => [
    {
      node: 'a',
      ok: true,
      contribution: {
        node: 'a',
        queryId: plan.queryId,
        units: 500,
        groups: [
          { key: ['RareTool'], count: rare, sum: null, disrupted: null },
          { key: ['CommonTool'], count: common, sum: null, disrupted: null },
        ],
      },
    },
  ];

  test('the charge states the deployment δ; half of it is spent on selection', () => {
    expect(plan.selection!.delta).toBeCloseTo(privacy.delta / 2, 15);
    expect(plan.zcdp.delta).toBeGreaterThanOrEqual(privacy.delta / 2);
    expect(plan.charge.delta).toBeGreaterThanOrEqual(privacy.delta);
    expect(plan.charge.delta).toBeLessThan(privacy.delta * (1 + 1e-9));
    // τ ≥ L∞ + σ √(2 ln(L0/δsel)): one organisation's key is released with probability ≤ δsel / L0
    const sigma = plan.mechanism.scale;
    const l0 = countSensitivity({ ...plan.bounds, multiplicity: privacy.multiplicity }).l0;
    expect(plan.selection!.threshold).toBeGreaterThanOrEqual(L + sigma * Math.sqrt(2 * Math.log(l0 / plan.selection!.delta)));
  });

  test('a key one organisation holds never appears; a widespread key always does (2,000 runs)', () => {
    // Each run releases RareTool with probability ≤ δsel/L0 ≈ 1e-7, so one appearance in 2,000 runs has
    // probability ≤ 2e-4 (the false-alarm rate of this test). CommonTool sits 12 σ above τ: it is missed
    // with probability < 1e-30 per run.
    const sigma = plan.mechanism.scale;
    const common = Math.ceil(plan.selection!.threshold + 12 * sigma);
    let rareSeen = 0;
    let commonSeen = 0;
    for (let i = 0; i < 2_000; i++) {
      const a = gatherAggregate(plan, ['a'], outcomes(L, common), { logger: quiet });
      for (const c of a.cells) {
        if (c.tool === 'RareTool') rareSeen++;
        if (c.tool === 'CommonTool') {
          commonSeen++;
          expect(c.selected).toBe(true);
        }
      }
      expect(a.selection).toMatchObject({ method: 'gaussian-threshold', threshold: plan.selection!.threshold });
    }
    expect(rareSeen).toBe(0);
    expect(commonSeen).toBe(2_000);
  });
});

describe('sector impact', () => {
  const plan = planAggregate(impactArgs({ groupBy: ['SECTOR'], filter: { sectors: ['energy', 'healthcare-public-health'] } }), deps);
  test('three releases with ρ split in thirds; the composed charge stays within ρ', () => {
    expect(plan.request.measure).toBe('SEVERITY_SUM');
    expect(plan.bounds).toMatchObject({ clampLo: 1, clampHi: 5, gridExponent: 0 });
    expect(plan.impact!.split).toEqual({ count: 1 / 3, sum: 1 / 3, disrupted: 1 / 3 });
    expect(plan.charge.rho).toBeLessThanOrEqual(privacy.rho);
    expect(plan.charge.rho).toBeGreaterThan(privacy.rho * 0.999);
    // the sum's L2 sensitivity is 5× the count's, so its σ is 5× the count's at equal ρ
    expect(plan.impact!.sum.scale / plan.mechanism.scale).toBeCloseTo(5, 3);
  });
  test('IMPACT is the measure of sectorImpact and of no other question', () => {
    expect(code(() => planAggregate({ question: 'crossBorderPattern', measure: 'IMPACT', groupBy: ['SECTOR'] }, deps))).toBe('INVALID_QUERY');
    expect(code(() => planAggregate(trendArgs({ measure: 'IMPACT', interval: 'MONTH', filter: { from: '2024-01-01', to: '2024-03-01' } }), deps))).toBe('INVALID_QUERY');
    expect(code(() => planAggregate({ question: 'sectorImpact', measure: 'INCIDENTS', groupBy: ['SECTOR'] }, deps))).toBe('INVALID_QUERY');
  });
  test('ratios: value, interval and the range when the count is too noisy', () => {
    const parts = { sdNum: 2, sdDen: 1, hNum: 5, hDen: 3 };
    const r = ratioEstimate(300, 100, parts, { lo: 1, hi: 5 });
    expect(r.value).toBe(3);
    expect(r.low).toBeCloseTo(295 / 103, 12);
    expect(r.high).toBeCloseTo(305 / 97, 12);
    expect(r.confidence).toBe(0.95);
    const noisy = ratioEstimate(3, 2, parts, { lo: 1, hi: 5 });
    expect([noisy.low, noisy.high]).toEqual([1, 5]);
    expect(ratioEstimate(3, 0, parts, { lo: 0, hi: 1 }).value).toBeNull();
  });
  test('the ratio intervals hold the true ratio at ≥ 95% (4,000 simulated releases)', () => {
    // Misses are Binomial(n, p ≤ 0.05); alarm at P ≤ 1e-6.
    const count = discreteGaussianWithSigma(plan.mechanism.scale);
    const sum = discreteGaussianWithSigma(plan.impact!.sum.scale);
    const dis = discreteGaussianWithSigma(plan.impact!.disrupted.scale);
    const [N, S, D] = [60, 200, 12];
    const h = (m: { scale: number }) => noiseHalfWidth('discrete-gaussian', m.scale, 0.975);
    let meanMiss = 0;
    let shareMiss = 0;
    const n = 4_000;
    for (let i = 0; i < n; i++) {
      const nN = count.release(N);
      const m = ratioEstimate(sum.release(S), nN, { sdNum: sum.scale, sdDen: count.scale, hNum: h(sum), hDen: h(count) }, { lo: 1, hi: 5 });
      const s = ratioEstimate(dis.release(D), nN, { sdNum: dis.scale, sdDen: count.scale, hNum: h(dis), hDen: h(count) }, { lo: 0, hi: 1 });
      if (S / N < m.low || S / N > m.high) meanMiss++;
      if (D / N < s.low || D / N > s.high) shareMiss++;
    }
    const alarm = upperAlarm(n, 0.05, 1e-6);
    expect(meanMiss).toBeLessThan(alarm);
    expect(shareMiss).toBeLessThan(alarm);
  });
  test('gather noises sums and disruption counts and shapes mean severity and disruption share', () => {
    const outcome: NodeOutcome = {
      node: 'a',
      ok: true,
      contribution: { node: 'a', queryId: plan.queryId, units: 900, groups: [{ key: ['energy'], count: 800, sum: 2400, disrupted: 200 }] },
    };
    const a = gatherAggregate(plan, ['a'], [outcome], { logger: quiet });
    const shaped = shapeImpact(a, ['SECTOR']);
    const energy = shaped.cells.find((c) => c.sector === 'energy')!;
    // 10 σ bounds: false alarm < 1e-20
    expect(Math.abs(energy.incidents.rawValue - 800)).toBeLessThan(10 * a.accuracy.stdDev);
    expect(Math.abs(energy.rawSeveritySum - 2400)).toBeLessThan(10 * shaped.severitySumAccuracy.stdDev);
    expect(energy.meanSeverity.value!).toBeGreaterThan(2.5);
    expect(energy.meanSeverity.value!).toBeLessThan(3.5);
    expect(energy.disruptionShare.value!).toBeGreaterThan(0.15);
    expect(energy.disruptionShare.value!).toBeLessThan(0.35);
    expect(energy.meanSeverity.low).toBeLessThanOrEqual(energy.meanSeverity.value!);
    expect(energy.meanSeverity.high).toBeGreaterThanOrEqual(energy.meanSeverity.value!);
    expect(shaped.split).toEqual({ count: 1 / 3, sum: 1 / 3, disrupted: 1 / 3 });
  });
});

function fakeAnswer(cells: Array<Partial<AggregateAnswer['cells'][number]> & { rawValue: number }>, ci = 10): AggregateAnswer {
  return {
    queryId: 'q',
    question: 'crossBorderPattern',
    measure: 'INCIDENTS',
    groupBy: [],
    cells: cells.map((c) => ({
      ...NO_KEY,
      value: Math.max(0, c.rawValue),
      stdDev: 5,
      low: Math.max(0, c.rawValue - ci),
      high: Math.max(0, c.rawValue + ci),
      selected: false,
      impact: null,
      ...c,
    })),
    accuracy: { mechanism: 'discrete-gaussian', scale: 5, stdDev: 5, ci95: ci, confidence: 0.95 },
    impact: null,
    selection: null,
    charge: { rho: 0.1, epsilon: 1, delta: 1e-6 },
    coverage: { asked: [], answered: [], missing: [], complete: true, excluded: [] },
    cached: false,
    remainingBudget: [],
  };
}

describe('trend, top-k and vintages are post-processing', () => {
  test('a change is flagged only when the intervals do not overlap', () => {
    expect(changeFlag(100, 121, 10)).toBe('UP');
    expect(changeFlag(100, 120, 10)).toBe('WITHIN_NOISE');
    expect(changeFlag(100, 79, 10)).toBe('DOWN');
    const t = shapeTrend(fakeAnswer([{ month: '2024-01', rawValue: 10 }, { month: '2024-02', rawValue: 50 }, { month: '2024-03', rawValue: 45 }]), 'MONTH');
    expect(t.buckets.map((b) => [b.period, b.change])).toEqual([
      ['2024-01', 'FIRST'],
      ['2024-02', 'UP'],
      ['2024-03', 'WITHIN_NOISE'],
    ]);
    expect(t.significantChanges).toBe(1);
    expect(code(() => trendArgs({ interval: 'MONTH', filter: { from: '2024-01-01' } }))).toBe('INVALID_QUERY');
  });
  test('top-k ranks by noisy count, ties by key, and keeps at most k', () => {
    const a = fakeAnswer([
      { tool: 'b', rawValue: 5 },
      { tool: 'a', rawValue: 5 },
      { tool: 'c', rawValue: 9 },
      { tool: 'd', rawValue: -2 },
    ]);
    expect(shapeTopK(a, 'TOOL', 3).entries.map((e) => [e.rank, e.tool])).toEqual([
      [1, 'c'],
      [2, 'a'],
      [3, 'b'],
    ]);
    expect(code(() => topKArgs({ k: 0, by: 'TOOL' }))).toBe('INVALID_QUERY');
    expect(code(() => topKArgs({ k: 101, by: 'TOOL' }))).toBe('INVALID_QUERY');
    expect(topKArgs({ k: 5, by: 'EXPLOIT' })).toMatchObject({ measure: 'ORGANISATIONS', groupBy: ['EXPLOIT'] });
  });
  test('vintage shares are within each group', () => {
    const a: AggregateAnswer = { ...fakeAnswer([
      { sector: 'energy', vintage: 'ZERO_DAY', rawValue: 10 },
      { sector: 'energy', vintage: 'OVER_3_YEARS', rawValue: 30 },
      { sector: 'healthcare-public-health', vintage: 'ZERO_DAY', rawValue: -3 },
      { sector: 'healthcare-public-health', vintage: 'OVER_3_YEARS', rawValue: 0 },
    ]), groupBy: ['SECTOR', 'VINTAGE'] };
    const v = shapeVintages(a, ['SECTOR']);
    expect(v.cells.map((c) => c.share)).toEqual([0.25, 0.75, null, null]);
    expect(vintageArgs({ by: ['SECTOR'] }).groupBy).toEqual(['SECTOR', 'VINTAGE']);
  });
});

describe('indicator prevalence arguments', () => {
  const key = 'federation-indicator-key-for-tests';
  test('normalises the value before hashing, so spellings of one indicator share a hash', () => {
    const a = prevalenceArgs({ indicator: { type: 'domain-name', value: 'Evil.Example.' }, days: 7 }, key, '2024-06-30');
    const b = prevalenceArgs({ indicator: { type: 'domain-name', value: 'evil.example' }, days: 7 }, key, '2024-06-30');
    expect(a.args.indicators).toEqual(b.args.indicators);
    expect(a.args.indicators).toEqual([indicatorHash(key, 'domain-name', 'evil.example')]);
    expect(a.window).toEqual({ from: '2024-06-24', to: '2024-07-01', days: 7 });
    expect(a.args).toMatchObject({ measure: 'ORGANISATIONS', groupBy: [], filter: { from: '2024-06-24', to: '2024-07-01' } });
    // the value itself is not in what is sent or fingerprinted
    expect(JSON.stringify(a.args)).not.toContain('evil');
  });
  test('refuses without a key, with an unknown type, a malformed value or a bad window', () => {
    expect(code(() => prevalenceArgs({ indicator: { type: 'domain-name', value: 'x.example' } }, undefined, '2024-06-30'))).toBe('INDICATORS_UNAVAILABLE');
    expect(code(() => prevalenceArgs({ indicator: { type: 'vin', value: 'x' } }, key, '2024-06-30'))).toBe('INVALID_QUERY');
    expect(code(() => prevalenceArgs({ indicator: { type: 'ipv4-addr', value: '300.1.1.1' } }, key, '2024-06-30'))).toBe('INVALID_QUERY');
    expect(code(() => prevalenceArgs({ indicator: { type: 'ipv4-addr', value: '192.0.2.1' }, days: 0 }, key, '2024-06-30'))).toBe('INVALID_QUERY');
  });
});

describe("answers come back in the asker's groupBy order", () => {
  test('a reordered groupBy is the same aggregate, and its shaped answer follows the asked order', () => {
    const filter = { countries: ['FR', 'DE'], sectors: ['energy', 'water'] };
    const asked = planAggregate({ groupBy: ['SECTOR', 'COUNTRY'], filter }, deps);
    const canonical = planAggregate({ groupBy: ['COUNTRY', 'SECTOR'], filter }, deps);
    expect(asked.queryId).toBe(canonical.queryId);
    expect(asked.request.groupBy).toEqual(['COUNTRY', 'SECTOR']);
    const outcome: NodeOutcome = { node: 'a', ok: true, contribution: { node: 'a', queryId: asked.queryId, units: 100, groups: [{ key: ['DE', 'water'], count: 200, sum: null }] } };
    const answer = gatherAggregate(asked, ['a'], [outcome], { logger: quiet });
    const shaped = shapePattern(answer, ['SECTOR', 'COUNTRY']);
    expect(shaped.groupBy).toEqual(['SECTOR', 'COUNTRY']);
    // the asked order: sector slowest, country fastest (France before Germany in the catalog)
    expect(shaped.cells.map((c) => [c.sector, c.country])).toEqual([
      ['energy', 'FR'],
      ['energy', 'DE'],
      ['water', 'FR'],
      ['water', 'DE'],
    ]);
    expect(shaped.cells[3]!.rawValue).toBe(answer.cells.find((c) => c.country === 'DE' && c.sector === 'water')!.rawValue);
    expect(shapePattern(answer, ['COUNTRY', 'SECTOR']).cells).toEqual(answer.cells);
    expect(code(() => shapePattern(answer, ['SECTOR']))).toBe('INTERNAL');
  });
  test('node-data cells follow the asked order too; vintages and impact keep their own by', () => {
    const plan = planAggregate({ groupBy: ['TOOL', 'SECTOR'], filter: { sectors: ['energy', 'water'] } }, deps);
    const answer: AggregateAnswer = {
      ...fakeAnswer([
        { sector: 'energy', tool: 'b', rawValue: 1, selected: true },
        { sector: 'water', tool: 'a', rawValue: 2, selected: true },
      ]),
      groupBy: plan.query.groupBy,
    };
    expect(plan.query.groupBy).toEqual(['SECTOR', 'TOOL']);
    expect(shapePattern(answer, ['TOOL', 'SECTOR']).cells.map((c) => c.tool)).toEqual(['a', 'b']);
    const vintages: AggregateAnswer = {
      ...fakeAnswer([
        { country: 'FR', sector: 'energy', vintage: 'ZERO_DAY', rawValue: 1 },
        { country: 'FR', sector: 'water', vintage: 'ZERO_DAY', rawValue: 2 },
        { country: 'DE', sector: 'energy', vintage: 'ZERO_DAY', rawValue: 3 },
        { country: 'DE', sector: 'water', vintage: 'ZERO_DAY', rawValue: 4 },
      ]),
      groupBy: ['COUNTRY', 'SECTOR', 'VINTAGE'],
    };
    expect(shapeVintages(vintages, ['SECTOR', 'COUNTRY']).cells.map((c) => c.value)).toEqual([1, 3, 2, 4]);
  });
});
