/**
 * The ledger over a rolling horizon: caps hold over every window, old charges drop out, reserveAll is
 * all or nothing, the federation ledger (K > 1) caps the total across nodes, and budget views and
 * refusals carry only the caller's own spending.
 */
import { describe, expect, it } from 'vitest';
import { Budgets, resolveBudgets } from '../../gateway/ledger/budgets.js';
import { budgetView } from '../../gateway/ledger/budget-view.js';
import { answerCacheKey, Ledger } from '../../gateway/ledger/ledger.js';
import { openGatewayOrm } from '../../gateway/ledger/orm.js';
import { chargeUnits } from '../../gateway/ledger/units.js';
import { chargeToDp } from '../../schema/privacy/index.js';
import { isAccordError } from '../../schema/errors.js';

const DAY = 86_400_000;
const charge = chargeUnits({ rho: 0.25, delta: 0 });

async function open(budgets: Parameters<typeof resolveBudgets>[0], clock: { t: number }, federation = false) {
  const orm = await openGatewayOrm({ db: ':memory:' });
  return Ledger.open(orm, () => new Budgets(resolveBudgets(budgets)), { horizonDays: 365, federation, now: () => new Date(clock.t) });
}

const ask = (member: string, nodes: string[], q: string) => ({ member, nodes, charge, queryId: q, cacheKey: answerCacheKey(q, nodes) });

async function refusal(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    if (isAccordError(e) && e.code === 'BUDGET_EXHAUSTED') return e;
    throw e;
  }
  throw new Error('expected BUDGET_EXHAUSTED');
}

describe('ledger over a rolling horizon', () => {
  it('holds the cap over every 365-day window for 13 months, drops older charges, and reports what it holds', async () => {
    const clock = { t: Date.UTC(2026, 0, 1) };
    const ledger = await open({ nodeCap: { rho: 1 }, allocation: { rho: 1 } }, clock);
    const admitted: number[] = [];
    for (let day = 0; day < 13 * 30; day += 5) {
      clock.t = Date.UTC(2026, 0, 1) + day * DAY;
      try {
        const r = await ledger.reserve(ask('m', ['a'], `q${day}`));
        admitted.push(clock.t);
        const inWindow = admitted.filter((t) => t > clock.t - 365 * DAY).length;
        const own = r.nodes[0]!;
        expect(own.spent.rho).toBe(inWindow * charge.rho);
        const view = budgetView(own, 1e-6);
        expect(view.cumulative).toEqual(chargeToDp({ rho: view.spent.rho, delta: 0 }, 1e-6));
        expect((await ledger.accountsOf()).find((x) => x.id === 'NODE|a')!.spent.rho).toBe(inWindow * charge.rho);
      } catch (e) {
        if (!isAccordError(e) || e.code !== 'BUDGET_EXHAUSTED') throw e;
      }
      for (const t of admitted) expect(admitted.filter((u) => u > t - 365 * DAY && u <= t).length * charge.rho).toBeLessThanOrEqual(1e12);
    }
    // four fit in the first window, and after the first leaves the window a fifth is admitted
    expect(admitted.slice(0, 4).every((t) => t < Date.UTC(2026, 0, 1) + 20 * DAY)).toBe(true);
    expect(admitted.length).toBe(8);
    expect(admitted[4]).toBe(admitted[0]! + 365 * DAY); // exactly when the first charge leaves the window
    await ledger.close();
  });

  it('reserveAll is all or nothing: the second of two does not fit, so neither is charged', async () => {
    const clock = { t: Date.UTC(2026, 5, 1) };
    const ledger = await open({ nodeCap: { rho: 10 }, allocation: { rho: 0.5 } }, clock);
    const e = await refusal(ledger.reserveAll([ask('m', ['a'], 'q1'), ask('m', ['a', 'b'], 'q2'), ask('m', ['a'], 'q3')]));
    expect(e.details).toMatchObject({ request: 2, exhausted: [{ node: 'a', ledger: 'MEMBER' }] });
    expect((await ledger.accountsOf()).every((x) => x.spent.rho === 0)).toBe(true);
    expect(await ledger.reservations()).toEqual([]);
    const ok = await ledger.reserveAll([ask('m', ['a'], 'q1'), ask('m', ['b'], 'q2')]);
    expect(ok.map((r) => r.nodes[0]!.spent.rho)).toEqual([charge.rho, charge.rho]);
    expect((await ledger.reservations()).length).toBe(2);
    await ledger.close();
  });

  it('with K > 1 the federation ledger caps the total across nodes; once spent nothing is reserved', async () => {
    const clock = { t: Date.UTC(2026, 5, 1) };
    const ledger = await open({ nodeCap: { rho: 10 }, allocation: { rho: 10 }, federationCap: { rho: 0.5 }, federationAllocation: { rho: 10 } }, clock, true);
    await ledger.reserve(ask('m1', ['a'], 'qa'));
    const r = await ledger.reserve(ask('m2', ['b'], 'qb'));
    expect(r.federation).toMatchObject({ spent: charge, capAdmits: false });
    const e = await refusal(ledger.reserve(ask('m1', ['a', 'b'], 'qab')));
    expect(e.details).toMatchObject({ exhausted: [{ node: null, ledger: 'FEDERATION' }], federation: { capAdmits: false } });
    expect((await ledger.reservations()).length).toBe(2);
    await ledger.close();
  });

  it('views and refusals carry only the caller’s own totals and booleans for shared caps', async () => {
    const clock = { t: Date.UTC(2026, 5, 1) };
    const ledger = await open({ nodeCap: { rho: 0.5 }, allocation: { rho: 1 } }, clock);
    await ledger.reserve(ask('other', ['a'], 'q1'));
    await ledger.reserve(ask('other', ['a'], 'q2'));
    const mine = await ledger.budgetsOf('me', ['a'], charge);
    expect(mine.nodes[0]).toEqual({ node: 'a', horizonDays: 365, allocation: { rho: 1e12, delta: 1e10 }, spent: { rho: 0, delta: 0 }, remaining: { rho: 1e12, delta: 1e10 }, nodeCapAdmits: false });
    const e = await refusal(ledger.reserve(ask('me', ['a'], 'q3')));
    expect(e.details).toEqual({ horizonDays: 365, charge: { rho: 0.25, delta: 0 }, exhausted: [{ node: 'a', ledger: 'NODE' }], remaining: [{ node: 'a', member: { rho: 1, delta: 1e-5 }, nodeCapAdmits: false }] });
    expect(JSON.stringify(e.details)).not.toMatch(/0\.5/);
    await ledger.close();
  });
});
