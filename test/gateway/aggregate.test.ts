/** Unit tests of the transport-free pattern logic: canonical query, key domain, partial validation, gather. */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { pino } from 'pino';
import type { Contribution } from '../../schema/contract/index.js';
import { codeOf as code } from '../helpers/errors.js';
import { COUNTRIES, REGIONS, SECTOR_IDS } from '../../schema/reference/index.js';
import { gatherAggregate } from '../../gateway/aggregate/gather.js';
import { planAggregate } from '../../gateway/aggregate/plan.js';
import { type NodeOutcome } from '../../gateway/aggregate/ports.js';
import { isoWeek } from '../../schema/contract/calendar.js';
import { MAX_FILTER_VALUES } from '../../schema/contract/limits.js';
import { countSensitivity } from '../../schema/privacy/index.js';
import { joinKey, keyDomain } from '../../gateway/aggregate/domain.js';
import { canonicalQuery, type AggregateArgs, type AggregateDimension, type AggregateFilterInput } from '../../gateway/aggregate/query.js';
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

// ---------------------------------------------------------------------------------------------
// One question, many spellings: the canonical form is a function of meaning.

/** The public horizon of these tests: data from 2020-01-01, today 2025-06-15 (so windows end by 2025-06-16). */
const HORIZON = { dataStart: '2020-01-01', today: '2025-06-15' };
const TOMORROW = '2025-06-16';
const horizonDeps = { ...deps, maxCells: 100_000, dataStart: HORIZON.dataStart, today: () => HORIZON.today };
const dayOffset = (date: string, days: number): string => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
const SPAN = Math.round((Date.parse(`${TOMORROW}T00:00:00Z`) - Date.parse(`${HORIZON.dataStart}T00:00:00Z`)) / 86_400_000);
const ALPHA2 = COUNTRIES.map((c) => c.alpha2);
const REGION_NAMES = Object.keys(REGIONS).sort();
const SUBREGION_NAMES = [...new Set(COUNTRIES.map((c) => c.subregion))].sort();
const TLP_LEVELS = ['CLEAR', 'GREEN', 'AMBER'];
const TIME_DIMS: readonly Dimension[] = ['WEEK', 'MONTH'];
const OTHER_DIMS: readonly Dimension[] = ['COUNTRY', 'REGION', 'SUBREGION', 'SECTOR', 'TLP', 'VINTAGE'];

type Dimension = AggregateDimension;
/** What a question means: the records it counts and the cells it counts them into. */
interface Meaning {
  measure: 'INCIDENTS' | 'ORGANISATIONS';
  groupBy: Dimension[];
  /** Countries admitted; null: every country. */
  countries: string[] | null;
  sectors: string[] | null;
  tlp: string[] | null;
  /** The window inside the horizon, [from, to); null: the horizon's bound. */
  from: string | null;
  to: string | null;
}

const timeGrouped = (g: readonly Dimension[]) => g.some((d) => TIME_DIMS.includes(d));
const countriesOf = (field: 'region' | 'subregion', names: readonly string[]) => COUNTRIES.filter((c) => names.includes(c[field])).map((c) => c.alpha2);
const namesOf = (field: 'region' | 'subregion', alpha2: readonly string[]) => [...new Set(COUNTRIES.filter((c) => alpha2.includes(c.alpha2)).map((c) => c[field]))];
const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && new Set([...a, ...b]).size === a.length;

/** Random meanings: ≤ 2 dimensions (a time dimension never with COUNTRY, to keep domains small). */
const meaningArb: fc.Arbitrary<Meaning> = fc
  .record({
    measure: fc.constantFrom('INCIDENTS' as const, 'ORGANISATIONS' as const),
    others: fc.shuffledSubarray([...OTHER_DIMS], { maxLength: 2 }),
    time: fc.option(fc.constantFrom(...TIME_DIMS), { nil: undefined, freq: 3 }),
    geo: fc.oneof(
      fc.constant(null),
      fc.subarray(ALPHA2, { minLength: 1, maxLength: 6 }),
      fc.subarray(REGION_NAMES, { minLength: 1, maxLength: 2 }).map((r) => countriesOf('region', r)),
      fc.subarray(SUBREGION_NAMES, { minLength: 1, maxLength: 3 }).map((s) => countriesOf('subregion', s)),
    ),
    sectors: fc.option(fc.subarray([...SECTOR_IDS], { minLength: 1, maxLength: SECTOR_IDS.length - 1 }), { nil: null }),
    tlp: fc.option(fc.subarray(TLP_LEVELS, { minLength: 1, maxLength: 2 }), { nil: null }),
    a: fc.integer({ min: 0, max: SPAN - 1 }),
    b: fc.integer({ min: 1, max: SPAN }),
    openFrom: fc.boolean(),
    openTo: fc.boolean(),
  })
  .map((r) => {
    const groupBy = r.time && !r.others.includes('COUNTRY') ? [...r.others.slice(0, 1), r.time] : r.others;
    let [lo, hi] = r.a < r.b ? [r.a, r.b] : [r.b - 1, r.a + 1];
    if (timeGrouped(groupBy)) lo = Math.max(lo, hi - 400); // ≤ 400 days: keeps WEEK domains small
    else {
      if (r.openFrom) lo = 0;
      if (r.openTo) hi = SPAN;
    }
    return {
      measure: r.measure,
      groupBy,
      countries: r.geo === null ? null : [...new Set(r.geo)].sort(),
      sectors: r.sectors,
      tlp: r.tlp,
      from: lo === 0 ? null : dayOffset(HORIZON.dataStart, lo),
      to: hi === SPAN ? null : dayOffset(HORIZON.dataStart, hi),
    };
  });

/** A random spelling of a list: shuffled, one value repeated, values passed through `spell`. */
function spellList(g: fc.GeneratorValue, list: readonly string[], spell: (v: string) => string = (v) => v): string[] {
  const out = g(fc.shuffledSubarray, [...list], { minLength: list.length, maxLength: list.length });
  if (g(fc.boolean)) out.push(out[g(fc.nat, out.length - 1)]!);
  return out.map((v) => (g(fc.boolean) ? spell(v) : v));
}

/** Up to three values of `list`. */
const pickSome = (g: fc.GeneratorValue, list: readonly string[]): string[] => g(fc.subarray, [...list], { maxLength: Math.min(3, list.length) });

/** A random geography admitting exactly `countries` (null: every country). */
function spellGeography(g: fc.GeneratorValue, countries: string[] | null): AggregateFilterInput {
  const lower = (v: string) => v.toLowerCase();
  if (countries === null) {
    const all: (() => AggregateFilterInput)[] = [() => ({}), () => ({ countries: spellList(g, ALPHA2, lower) }), () => ({ regions: spellList(g, REGION_NAMES) }), () => ({ subregions: spellList(g, SUBREGION_NAMES) })];
    return all[g(fc.nat, all.length - 1)]!();
  }
  const regions = namesOf('region', countries);
  const subregions = namesOf('subregion', countries);
  const outside = (field: 'region' | 'subregion', names: string[]) => ALPHA2.filter((a) => !countriesOf(field, names).includes(a));
  const forms: (() => AggregateFilterInput)[] = [
    () => ({ countries: spellList(g, countries, lower) }),
    () => ({ countries: spellList(g, countries, lower), regions: spellList(g, regions) }),
    () => ({ countries: spellList(g, countries, lower), subregions: spellList(g, subregions) }),
    // the intersection is what counts: countries outside the listed regions change nothing
    () => ({ countries: spellList(g, [...countries, ...pickSome(g, outside('region', regions))], lower), regions: spellList(g, regions) }),
    () => ({ countries: spellList(g, [...countries, ...pickSome(g, outside('subregion', subregions))], lower), subregions: spellList(g, subregions) }),
  ];
  if (sameSet(countriesOf('region', regions), countries)) forms.push(() => ({ regions: spellList(g, regions) }), () => ({ regions: spellList(g, regions), subregions: spellList(g, subregions) }));
  if (sameSet(countriesOf('subregion', subregions), countries)) forms.push(() => ({ subregions: spellList(g, subregions) }));
  return forms[g(fc.nat, forms.length - 1)]!();
}

/** A window bound: the meaning's date, else (at the horizon) omitted or any date at or past it. */
function spellBound(g: fc.GeneratorValue, date: string | null, side: 'from' | 'to', required: boolean): string | undefined {
  if (date !== null) return date;
  if (!required && g(fc.boolean)) return undefined;
  const past = g(fc.nat, 9_000);
  return side === 'from' ? dayOffset(HORIZON.dataStart, -past) : dayOffset(TOMORROW, past);
}

/** A random analyst question meaning `m`. */
function spell(g: fc.GeneratorValue, m: Meaning): AggregateArgs {
  const time = timeGrouped(m.groupBy);
  const filter: AggregateFilterInput = { ...spellGeography(g, m.countries) };
  if (m.sectors) filter.sectors = spellList(g, m.sectors);
  else if (g(fc.boolean)) filter.sectors = spellList(g, SECTOR_IDS);
  const lowerTlp = (v: string) => v.toLowerCase();
  if (m.tlp) filter.tlp = spellList(g, m.tlp, lowerTlp);
  else if (g(fc.boolean)) filter.tlp = spellList(g, TLP_LEVELS, lowerTlp);
  const from = spellBound(g, m.from, 'from', time);
  const to = spellBound(g, m.to, 'to', time);
  if (from !== undefined) filter.from = from;
  if (to !== undefined) filter.to = to;
  const groupBy = g(fc.shuffledSubarray, m.groupBy, { minLength: m.groupBy.length, maxLength: m.groupBy.length });
  return { measure: m.measure, groupBy, filter };
}

/** A meaning that differs from `m` in exactly one respect, `how`. */
function mutate(g: fc.GeneratorValue, m: Meaning, how: string): Meaning {
  const toggle = (list: readonly string[] | null, all: readonly string[]): string[] | null => {
    const base = list ?? all;
    const v = all[g(fc.nat, all.length - 1)]!;
    const next = base.includes(v) ? base.filter((x) => x !== v) : [...base, v].sort();
    if (next.length === 0) return [all.find((x) => x !== v)!];
    return next.length === all.length ? null : next.sort();
  };
  switch (how) {
    case 'measure':
      return { ...m, measure: m.measure === 'INCIDENTS' ? 'ORGANISATIONS' : 'INCIDENTS' };
    case 'countries':
      return { ...m, countries: toggle(m.countries, ALPHA2) };
    case 'sectors':
      return { ...m, sectors: toggle(m.sectors, SECTOR_IDS) };
    case 'tlp':
      return { ...m, tlp: toggle(m.tlp, TLP_LEVELS) };
    case 'groupBy': {
      if (m.groupBy.length > 0 && g(fc.boolean)) {
        const dropped = m.groupBy[g(fc.nat, m.groupBy.length - 1)];
        return { ...m, groupBy: m.groupBy.filter((d) => d !== dropped) };
      }
      const extra = ['SECTOR', 'TLP', 'VINTAGE'].filter((d) => !m.groupBy.includes(d as Dimension)) as Dimension[];
      return { ...m, groupBy: [...m.groupBy, extra[g(fc.nat, extra.length - 1)]!] };
    }
    default: {
      // a different window inside the horizon: move one bound by 1–30 days, keeping from < to
      const lo = m.from === null ? 0 : Math.round((Date.parse(`${m.from}T00:00:00Z`) - Date.parse(`${HORIZON.dataStart}T00:00:00Z`)) / 86_400_000);
      const hi = m.to === null ? SPAN : Math.round((Date.parse(`${m.to}T00:00:00Z`) - Date.parse(`${HORIZON.dataStart}T00:00:00Z`)) / 86_400_000);
      const step = g(fc.integer, { min: 1, max: 30 });
      const moveFrom = hi - lo > step ? g(fc.boolean) : lo - step >= 0;
      const [nlo, nhi] = moveFrom ? [hi - lo > step ? lo + step : lo - step, hi] : [lo, hi - step > lo ? hi - step : Math.min(SPAN, hi + step)];
      if (nlo < 0 || nhi > SPAN || nlo >= nhi || (nlo === lo && nhi === hi)) return { ...m, measure: m.measure === 'INCIDENTS' ? 'ORGANISATIONS' : 'INCIDENTS' };
      return { ...m, from: nlo === 0 ? null : dayOffset(HORIZON.dataStart, nlo), to: nhi === SPAN ? null : dayOffset(HORIZON.dataStart, nhi) };
    }
  }
}

describe('equivalent questions share one fingerprint', () => {
  // fast-check prints the seed and the counterexample's path when a property fails; the fixed
  // seed makes every run check the same questions (rerun with the printed seed and path to replay).
  const SEED = 20_241_122;
  const fingerprint = (args: AggregateArgs) => planAggregate(args, horizonDeps).queryId;

  test('1,200 rephrasings of 300 random questions: reordered groupBy, shuffled, repeated and lower-case lists, implied geography, full sector and TLP lists, windows past the horizon', () => {
    let forms = 0;
    fc.assert(
      fc.property(meaningArb, fc.gen(), (m, g) => {
        const ids = new Set<string>();
        for (let i = 0; i < 4; i++) {
          ids.add(fingerprint(spell(g, m)));
          forms++;
        }
        expect(ids.size).toBe(1);
      }),
      { seed: SEED, numRuns: 300, endOnFailure: true },
    );
    expect(forms).toBeGreaterThanOrEqual(1_000);
  }, 120_000);

  test('300 pairs that differ in meaning never share one (countries, window, measure, groupBy, sectors, TLP)', () => {
    fc.assert(
      fc.property(meaningArb, fc.constantFrom('measure', 'countries', 'sectors', 'tlp', 'groupBy', 'window'), fc.gen(), (m, how, g) => {
        const other = mutate(g, m, how);
        expect(fingerprint(spell(g, other))).not.toBe(fingerprint(spell(g, m)));
      }),
      { seed: SEED + 1, numRuns: 300, endOnFailure: true },
    );
  }, 120_000);

  test('worked cases', () => {
    const q = (args: AggregateArgs) => canonicalQuery(args, 'STRICT', HORIZON);
    // regions implied by the countries, a TLP list naming every level, a window past both ends
    expect(q({ groupBy: ['SECTOR', 'COUNTRY'], filter: { countries: ['fr', 'DE'], regions: ['Europe'], tlp: ['green', 'AMBER', 'CLEAR'], from: '1999-01-01', to: '2030-01-01' } })).toEqual({
      question: 'crossBorderPattern',
      measure: 'INCIDENTS',
      groupBy: ['COUNTRY', 'SECTOR'],
      filter: { countries: ['DE', 'FR'] },
      quorum: 'STRICT',
    });
    // every country of a region is the region; every country at all is no filter
    expect(q({ groupBy: [], filter: { countries: countriesOf('region', ['Oceania']) } }).filter).toEqual({ regions: ['Oceania'] });
    expect(q({ groupBy: [], filter: { countries: ALPHA2, sectors: [...SECTOR_IDS] } }).filter).toEqual({});
    // a time-grouped window keeps both bounds, clamped
    expect(q({ groupBy: ['MONTH'], filter: { from: '2025-03-10', to: '2026-01-01' } }).filter).toEqual({ from: '2025-03-10', to: TOMORROW });
  });

  test('a window holding no day of the horizon, too many dimensions or filter values: INVALID_QUERY before planning', () => {
    const q = (args: object) => code(() => canonicalQuery(args as never, 'STRICT', HORIZON));
    expect(q({ groupBy: [], filter: { to: '2019-12-31' } })).toBe('INVALID_QUERY');
    expect(q({ groupBy: [], filter: { to: HORIZON.dataStart } })).toBe('INVALID_QUERY');
    expect(q({ groupBy: [], filter: { from: TOMORROW } })).toBe('INVALID_QUERY');
    expect(q({ groupBy: [], filter: { from: HORIZON.today } })).toBeUndefined();
    expect(q({ groupBy: ['COUNTRY', 'SECTOR', 'TLP', 'VINTAGE', 'REGION'] })).toBe('INVALID_QUERY');
    expect(q({ groupBy: ['COUNTRY', 'SECTOR', 'TLP', 'VINTAGE'] })).toBeUndefined();
    expect(q({ groupBy: [], filter: { countries: new Array(MAX_FILTER_VALUES + 1).fill('FR') } })).toBe('INVALID_QUERY');
    expect(q({ groupBy: [], filter: { countries: new Array(MAX_FILTER_VALUES).fill('FR') } })).toBeUndefined();
  });
});

describe('right-sized L0', () => {
  test('groupBy [] plans with maxPartitions 1: σ is half that of L0 = 4 (L2 ∝ √L0)', () => {
    const total = planAggregate({ groupBy: [], filter: { from: '2024-01-01', to: '2025-01-01' } }, deps);
    const full = planAggregate({ groupBy: ['COUNTRY'], filter: { from: '2024-01-01', to: '2025-01-01' } }, deps);
    expect(total.bounds.maxPartitions).toBe(1);
    expect(total.request.bounds.maxPartitions).toBe(1);
    expect(total.sensitivity).toEqual(countSensitivity({ maxPartitions: 1, maxPerPartition: deps.privacy.maxPerPartition, multiplicity: 1 }));
    expect(full.bounds.maxPartitions).toBe(deps.privacy.maxPartitions);
    expect(total.mechanism.scale / full.mechanism.scale).toBeCloseTo(0.5, 3);
    expect(total.charge.rho).toBeCloseTo(full.charge.rho, 6);
  });
  test('a domain of 2 cells plans with L0 = 2; IMPACT over 3 sectors with L0 = 3 in all three releases', () => {
    expect(planAggregate({ groupBy: ['SECTOR'], filter: { sectors: ['energy', 'water'] } }, deps).bounds.maxPartitions).toBe(2);
    const impact = planAggregate({ question: 'sectorImpact', measure: 'IMPACT', groupBy: ['SECTOR'], filter: { sectors: ['energy', 'water', 'healthcare-public-health'] } }, deps);
    expect(impact.bounds.maxPartitions).toBe(3);
    expect(impact.sensitivity.l0).toBe(3);
    expect(impact.impact!.sumSensitivity.l0).toBe(3);
  });
  test('node-data keys keep the deployment L0 and their threshold', () => {
    const tool = planAggregate({ groupBy: ['TOOL'], filter: { sectors: ['energy'] } }, deps);
    expect(tool.bounds.maxPartitions).toBe(deps.privacy.maxPartitions);
    expect(tool.selection).not.toBeNull();
    const listed = planAggregate({ groupBy: ['TOOL'], filter: { tools: ['Mimikatz'] } }, deps);
    expect(listed.bounds.maxPartitions).toBe(1);
    expect(listed.selection).toBeNull();
  });
  test('the fingerprint follows the bounds: the same question under another L0 is another aggregate', () => {
    const small = { ...deps, privacy: { ...deps.privacy, maxPartitions: 1 } };
    expect(planAggregate({ groupBy: [] }, small).queryId).toBe(planAggregate({ groupBy: [] }, deps).queryId);
    expect(planAggregate({ groupBy: ['SECTOR'] }, small).queryId).not.toBe(planAggregate({ groupBy: ['SECTOR'] }, deps).queryId);
  });
});
