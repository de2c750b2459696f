/** Unit tests of the transport-free pattern logic: canonical query, key domain, partial validation, gather. */
import { describe, expect, test } from 'vitest';
import { pino } from 'pino';
import type { Contribution } from '../../schema/contract/index.js';
import { codeOf as code } from '../helpers/errors.js';
import { COUNTRIES, REGIONS, SECTOR_IDS } from '../../schema/reference/index.js';
import { gatherAggregate } from '../../gateway/aggregate/gather.js';
import { planAggregate } from '../../gateway/aggregate/plan.js';
import { type NodeOutcome } from '../../gateway/aggregate/ports.js';
import { isoWeek } from '../../schema/contract/calendar.js';
import { joinKey, keyDomain } from '../../gateway/aggregate/domain.js';
import { canonicalQuery } from '../../gateway/aggregate/query.js';
import { validateContribution } from '../../gateway/aggregate/validate.js';
import { DEFAULT_CONFIG, resolveConfig, validateNodes } from '../../gateway/config.js';

const quiet = pino({ level: 'silent' });
const deps = { privacy: DEFAULT_CONFIG.privacy, defaultQuorum: 'STRICT' as const, maxCells: 5_000 };

describe('canonicalQuery', () => {
  test('sorts and de-duplicates filter lists, normalises country case, fills defaults', () => {
    const q = canonicalQuery({ groupBy: ['SECTOR'], filter: { countries: ['fr', 'DE', 'FR'], sectors: ['water', 'energy'] } }, 'BEST_EFFORT');
    expect(q).toEqual({ question: 'crossBorderPattern', measure: 'INCIDENTS', groupBy: ['SECTOR'], filter: { countries: ['DE', 'FR'], sectors: ['energy', 'water'] }, quorum: 'BEST_EFFORT' });
  });
  test.each([
    [{ groupBy: ['COUNTRY'], filter: { countries: [] } }],
    [{ groupBy: ['COUNTRY'], filter: { regions: ['Atlantis'] } }],
    [{ groupBy: ['COUNTRY'], filter: { sectors: ['piracy'] } }],
    [{ groupBy: ['COUNTRY'], filter: { from: '2025-02-30' } }],
    [{ groupBy: ['COUNTRY'], filter: { from: '2025-03-01', to: '2025-03-01' } }],
    [{ groupBy: ['MONTH'], filter: { from: '2025-03-01' } }],
    [{ groupBy: ['WEEK'], filter: { from: '2000-01-01', to: '2025-01-01' } }],
    [{ groupBy: ['COUNTRY', 'COUNTRY'] }],
    [{ groupBy: ['VENDOR'] }],
    [{ groupBy: ['COUNTRY'], measure: 'SEVERITY_SUM' }],
  ])('refuses %j with INVALID_QUERY', (args) => {
    expect(code(() => canonicalQuery(args as never, 'STRICT'))).toBe('INVALID_QUERY');
  });
});

describe('keyDomain', () => {
  const domain = (args: object, maxCells = 5_000) => keyDomain(canonicalQuery(args as never, 'STRICT'), maxCells);

  test('is the full public cross product, independent of any data', () => {
    const d = domain({ groupBy: ['COUNTRY', 'SECTOR'], filter: { countries: ['FR', 'DE'] } });
    expect(d.keys).toHaveLength(2 * SECTOR_IDS.length);
    // catalog order (ISO names: France before Germany), the last groupBy dimension varying fastest
    expect(d.keys[0]).toEqual(['FR', SECTOR_IDS[0]]);
    expect(d.keys[1]).toEqual(['FR', SECTOR_IDS[1]]);
    expect(d.keys[SECTOR_IDS.length]).toEqual(['DE', SECTOR_IDS[0]]);
    expect(new Set(d.keys.map(joinKey)).size).toBe(d.keys.length);
  });
  test('without a country filter covers every country; regions form a partition', () => {
    expect(domain({ groupBy: ['COUNTRY'] }).keys).toHaveLength(COUNTRIES.length);
    expect(domain({ groupBy: ['REGION'] }).keys.map((k) => k[0]).sort()).toEqual(Object.keys(REGIONS).sort());
    expect(domain({ groupBy: [] }).keys).toEqual([[]]);
  });
  test('geography is enumerated jointly (no impossible country × region pairs)', () => {
    const d = domain({ groupBy: ['COUNTRY', 'REGION'], filter: { regions: ['Europe'] } });
    expect(d.keys.every(([, r]) => r === 'Europe')).toBe(true);
    expect(d.keys.length).toBe(COUNTRIES.filter((c) => c.region === 'Europe').length);
  });
  test('weeks cover the window, ISO week-year included', () => {
    const d = domain({ groupBy: ['WEEK'], filter: { from: '2024-12-28', to: '2025-01-07' } });
    expect(d.keys.map((k) => k[0])).toEqual(['2024-W52', '2025-W01', '2025-W02']);
    expect(isoWeek('2021-01-03')).toBe('2020-W53');
  });
  test('refuses a domain above the cell limit and a filter that admits no country', () => {
    // every country × every sector is 249 × 21 = 5,229 cells: above the default 5,000
    expect(code(() => domain({ groupBy: ['COUNTRY', 'SECTOR'] }))).toBe('INVALID_QUERY');
    expect(domain({ groupBy: ['COUNTRY', 'SECTOR'] }, 6_000).keys.length).toBe(COUNTRIES.length * SECTOR_IDS.length);
    expect(code(() => domain({ groupBy: ['COUNTRY'], filter: { countries: ['FR'], regions: ['Asia'] } }))).toBe('INVALID_QUERY');
  });
});

describe('validateContribution', () => {
  const plan = planAggregate({ groupBy: ['COUNTRY', 'SECTOR'], filter: { countries: ['FR', 'DE'] } }, deps);
  const exp = { node: 'n1', queryId: plan.queryId, domain: plan.domain, bounds: plan.bounds }; // L0 = 4, L∞ = 2
  const good = (): Contribution => ({
    node: 'n1',
    queryId: plan.queryId,
    units: 2,
    groups: [
      { key: ['FR', 'energy'], count: 4, sum: null },
      { key: ['DE', 'water'], count: 3, sum: null },
    ],
  });
  const problem = (c: unknown) => {
    const v = validateContribution(c, exp);
    return v.ok ? 'ok' : v.problem;
  };

  test('accepts an honest partial and maps keys to domain positions', () => {
    const v = validateContribution(good(), exp);
    expect(v.ok).toBe(true);
    if (v.ok) expect(v.groups.map((g) => [plan.domain.keys[g.pos], g.count])).toEqual([[['FR', 'energy'], 4], [['DE', 'water'], 3]]);
  });
  test.each<[string, (c: Contribution) => unknown, RegExp]>([
    ['wrong node id', (c) => ({ ...c, node: 'n2' }), /node id/],
    ['wrong queryId', (c) => ({ ...c, queryId: 'x' }), /queryId/],
    ['negative units', (c) => ({ ...c, units: -1 }), /units/],
    ['fractional units', (c) => ({ ...c, units: 1.5 }), /units/],
    ['key arity', (c) => ({ ...c, groups: [{ key: ['FR'], count: 1, sum: null }] }), /one value per/],
    ['key outside the filter', (c) => ({ ...c, groups: [{ key: ['IT', 'energy'], count: 1, sum: null }] }), /outside/],
    ['unknown sector', (c) => ({ ...c, groups: [{ key: ['FR', 'piracy'], count: 1, sum: null }] }), /outside/],
    ['separator smuggling', (c) => ({ ...c, groups: [{ key: ['FR\u0001energy', ''], count: 1, sum: null }] }), /outside/],
    ['duplicate key', (c) => ({ ...c, groups: [c.groups[0], c.groups[0]] }), /twice/],
    ['negative count', (c) => ({ ...c, groups: [{ key: ['FR', 'energy'], count: -1, sum: null }] }), /non-negative/],
    ['fractional count', (c) => ({ ...c, groups: [{ key: ['FR', 'energy'], count: 0.5, sum: null }] }), /non-negative/],
    ['group count > units × L∞', (c) => ({ ...c, groups: [{ key: ['FR', 'energy'], count: 5, sum: null }] }), /maxPerPartition/],
    [
      'groups > units × L0',
      (c) => ({ ...c, units: 1, groups: SECTOR_IDS.slice(0, 5).map((s) => ({ key: ['FR', s], count: 1, sum: null })) }),
      /maxPartitions/,
    ],
    ['sum on a count query', (c) => ({ ...c, groups: [{ key: ['FR', 'energy'], count: 1, sum: 3 }] }), /carries a sum/],
    ['not an object', () => 'rows', /not an object/],
  ])('%s', (_name, mutate, expected) => {
    expect(problem(mutate(good()))).toMatch(expected);
  });
  test('Σ counts is bounded by units × L0 × L∞ even when each group is within L∞', () => {
    // 1 unit, L0 = 4, L∞ = 2: four groups of 2 are allowed (total 8)
    const c = good();
    const four = { ...c, units: 1, groups: SECTOR_IDS.slice(0, 4).map((s) => ({ key: ['FR', s], count: 2, sum: null })) };
    expect(problem(four)).toBe('ok');
    // 2 units: 8 groups (≤ units × L0) of 4 (≤ units × L∞) each pass the other checks, yet 32 > 2 × 4 × 2
    const tooMuch = { ...c, units: 2, groups: SECTOR_IDS.slice(0, 8).map((s) => ({ key: ['FR', s], count: 4, sum: null })) };
    expect(problem(tooMuch)).toMatch(/add up/);
  });
  test('sums are checked against count × the clamp bound when the bounds clamp', () => {
    const clamped = { ...exp, bounds: { ...exp.bounds, clampLo: -1, clampHi: 5, gridExponent: 0 } };
    const c = { node: 'n1', queryId: plan.queryId, units: 1, groups: [{ key: ['FR', 'energy'], count: 2, sum: 10, disrupted: 1 }] };
    expect(validateContribution(c, clamped).ok).toBe(true);
    expect(validateContribution({ ...c, groups: [{ key: ['FR', 'energy'], count: 2, sum: 11, disrupted: 1 }] }, clamped).ok).toBe(false);
    expect(validateContribution({ ...c, groups: [{ key: ['FR', 'energy'], count: 2, sum: 2.5, disrupted: 1 }] }, clamped).ok).toBe(false);
    expect(validateContribution({ ...c, groups: [{ key: ['FR', 'energy'], count: 2, sum: null, disrupted: 1 }] }, clamped).ok).toBe(false);
    // the disruption count rides with the sum: present, integer, at most the group count
    expect(validateContribution({ ...c, groups: [{ key: ['FR', 'energy'], count: 2, sum: 10, disrupted: null }] }, clamped).ok).toBe(false);
    expect(validateContribution({ ...c, groups: [{ key: ['FR', 'energy'], count: 2, sum: 10, disrupted: 3 }] }, clamped).ok).toBe(false);
    expect(validateContribution({ ...c, groups: [{ key: ['FR', 'energy'], count: 2, sum: 10, disrupted: -1 }] }, clamped).ok).toBe(false);
    // a count query carries no disruption count
    expect(validateContribution({ ...c, groups: [{ key: ['FR', 'energy'], count: 2, sum: null, disrupted: 0 }] }, exp).ok).toBe(false);
  });
});

describe('gatherAggregate', () => {
  const plan = planAggregate({ groupBy: ['SECTOR'], filter: { sectors: ['energy', 'water'] } }, deps);
  const part = (node: string, energy: number): NodeOutcome => ({
    node,
    ok: true,
    contribution: { node, queryId: plan.queryId, units: 400, groups: [{ key: ['energy'], count: energy, sum: null }] },
  });

  test('sums valid partials and noises each released cell', () => {
    const a = gatherAggregate(plan, ['a', 'b'], [part('a', 500), part('b', 700)], { logger: quiet });
    expect(a.cells.map((c) => c.sector)).toEqual(['energy', 'water']);
    const ci = a.accuracy.ci95;
    // |noise| ≤ 10 σ fails with probability < 1e-20
    expect(Math.abs(a.cells[0]!.rawValue - 1200)).toBeLessThan(10 * a.accuracy.stdDev);
    expect(ci).toBeGreaterThan(0);
    expect(a.coverage).toEqual({ asked: ['a', 'b'], answered: ['a', 'b'], missing: [], complete: true, excluded: [] });
    expect(a.cached).toBe(false);
  });
  test('quorum rules: STRICT refuses any gap, BEST_EFFORT reports it, nobody answering is NO_NODES', () => {
    const down: NodeOutcome = { node: 'b', ok: false, reason: 'UNREACHABLE' };
    expect(code(() => gatherAggregate(plan, ['a', 'b'], [part('a', 5), down], { logger: quiet }))).toBe('NODE_UNAVAILABLE');
    const invalid = { ...part('b', 5), contribution: { node: 'b', queryId: plan.queryId, units: 0, groups: [{ key: ['energy'], count: 5, sum: null }] } };
    expect(code(() => gatherAggregate(plan, ['a', 'b'], [part('a', 5), invalid], { logger: quiet }))).toBe('CONTRIBUTION_INVALID');
    const best = { ...plan, query: { ...plan.query, quorum: 'BEST_EFFORT' as const } };
    const a = gatherAggregate(best, ['a', 'b'], [part('a', 5), invalid], { logger: quiet });
    expect(a.coverage.missing).toEqual([{ node: 'b', reason: 'INVALID_CONTRIBUTION', code: 'CONTRIBUTION_INVALID' }]);
    expect(code(() => gatherAggregate(best, ['a', 'b'], [down, { ...down, node: 'a' }], { logger: quiet }))).toBe('NO_NODES');
  });
});

describe('configuration', () => {
  test('validates node entries and privacy defaults', () => {
    expect(validateNodes([{ id: 'cert-fr', name: 'CERT-FR', kind: 'national-cert', url: 'http://127.0.0.1:1/graphql' }])).toHaveLength(1);
    expect(code(() => validateNodes([{ id: 'a', name: 'A', kind: 'k', url: 'ftp://x' }]))).toBe('CONFIG_INVALID');
    expect(code(() => validateNodes([{ id: 'a', name: 'A', kind: 'k', url: 'http://x' }, { id: 'a', name: 'B', kind: 'k', url: 'http://y' }]))).toBe('CONFIG_INVALID');
    expect(code(() => resolveConfig({ nodes: '/nonexistent/nodes.json' }))).toBe('CONFIG_INVALID');
    expect(code(() => resolveConfig({ privacy: { rho: Number.NaN } }))).toBe('CONFIG_INVALID');
    expect(code(() => resolveConfig({ quorum: 'SOME' as never }))).toBe('CONFIG_INVALID');
    expect(resolveConfig({ privacy: { rho: 0.1 } }).privacy).toEqual({ ...DEFAULT_CONFIG.privacy, rho: 0.1 });
  });
});
