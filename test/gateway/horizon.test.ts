/**
 * The privacy horizon through the whole gateway (in-process, injected clock): over 13 months of
 * questions a member's allocation holds over every 365-day window, a charge stops counting exactly
 * one horizon after it was made, and every answer's cumulative (ε, δ) is what the ledger holds.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildGateway, type BuiltGateway } from '../../gateway/app.js';
import { DEFAULT_CONFIG } from '../../gateway/config.js';
import { planAggregate } from '../../gateway/aggregate/plan.js';
import { chargeUnits, fromUnits } from '../../gateway/ledger/units.js';
import { chargeToDp } from '../../schema/privacy/index.js';
import { makeAccessFixture, type AccessFixture } from '../helpers/access.js';
import { gql } from '../helpers/graphql.js';
import { createStubNode, stubScatter } from '../helpers/stub-node.js';
import { PATTERN_QUERY, quietLogger, type Answer } from './helpers.js';

const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);
/** What one question charges each ledger, as the ledger records it. */
const CHARGE = fromUnits(chargeUnits(planAggregate({ groupBy: ['COUNTRY'] }, { privacy: DEFAULT_CONFIG.privacy, defaultQuorum: 'STRICT', maxCells: 5000 }).zcdp)).rho;
const ALLOCATION = 3.5 * CHARGE; // three questions per horizon

let fx: AccessFixture;
let gw: BuiltGateway;
const clock = { t: START };

beforeAll(async () => {
  fx = await makeAccessFixture({ budgets: { allocation: { rho: ALLOCATION }, nodeCap: { rho: 1000 } } });
  const nodes = ['cert-a', 'cert-b'].map((id) => createStubNode({ id, planted: [{ country: 'FR', sector: 'energy', count: 7, date: '2024-06-15' }] }));
  gw = await buildGateway({
    nodes: nodes.map((n) => ({ id: n.id, name: n.id, kind: 'national-cert', url: `http://${n.id}.invalid/graphql` })),
    logger: quietLogger,
    refreshIntervalMs: 0,
    access: fx.access(),
    scatter: stubScatter(nodes),
    now: () => new Date(clock.t),
  });
});
afterAll(async () => {
  await gw?.close();
  fx?.remove();
});

test('13 months of monthly questions: the allocation holds over every 365-day window, and each answer states the cumulative loss the ledger holds', async () => {
  const answered: number[] = [];
  for (let month = 0; month < 13; month++) {
    clock.t = START + month * 30 * DAY;
    const token = await fx.token('eu-analyst');
    const r = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, { groupBy: ['COUNTRY'], filter: { countries: ['FR'], from: '2024-01-01', to: `2025-01-${String(month + 2).padStart(2, '0')}` } }, token);
    const inWindow = (t: number) => answered.filter((u) => u > t - 365 * DAY).length;
    if (r.errors) {
      expect(r.errors[0]!.extensions!.code, r.text).toBe('BUDGET_EXHAUSTED');
      expect(inWindow(clock.t), `month ${month}`).toBe(3); // refused only when the window is full
      continue;
    }
    answered.push(clock.t);
    for (const b of r.data!.crossBorderPattern.remainingBudget as unknown as Array<{ spent: { rho: number }; cumulative: { epsilon: number; delta: number } }>) {
      expect(b.spent.rho).toBeCloseTo(inWindow(clock.t) * CHARGE, 12);
      expect(b.cumulative).toEqual(chargeToDp({ rho: b.spent.rho, delta: 0 }, DEFAULT_CONFIG.privacy.delta));
    }
    // the ledger holds the same: the member's spend on each node within the window
    const own = (await gw.ledger.accountsOf()).filter((a) => a.id.startsWith('MEMBER|') && a.id.endsWith('|eu-analyst'));
    for (const a of own) expect(a.spent.rho).toBe(inWindow(clock.t) * chargeUnits({ rho: CHARGE, delta: 0 }).rho);
  }
  // months 0, 1, 2 fill the window; months 3 … 11 are refused; month 12 (360 days on) still sees
  // months 0–2 inside 365 days, so the cap holds there too — checked for every window:
  for (const t of answered) expect(answered.filter((u) => u > t - 365 * DAY && u <= t).length).toBeLessThanOrEqual(3);
  expect(answered.slice(0, 3)).toEqual([0, 1, 2].map((m) => START + m * 30 * DAY));
  // 13 months after the first question, its charge has left the window
  clock.t = START + 366 * DAY;
  const later = await gql<{ crossBorderPattern: Answer }>(gw, PATTERN_QUERY, { groupBy: ['COUNTRY'], filter: { countries: ['FR'], from: '2024-01-01', to: '2025-02-01' } }, await fx.token('eu-analyst'));
  expect(later.errors, later.text).toBeUndefined();
});
