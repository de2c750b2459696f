/**
 * Gathering one aggregate: validate each node's partial against its bounds, apply the quorum rule,
 * sum, add noise once per cell through the privacy core, and select node-data keys.
 */
import type { Logger } from 'pino';
import { AccordError } from '../../schema/errors.js';
import { defaultEntropy, selectPartitions, type Entropy, type NoiseMechanism } from '../../schema/privacy/index.js';
import type { AggregateAnswer, AggregateCell, MissingNode, ReleaseAccuracy } from './answer-types.js';
import { joinKey, keyFactors, splitKey } from './domain.js';
import type { AggregatePlan } from './plan.js';
import type { NodeOutcome } from './ports.js';
import type { AggregateDimension } from './query.js';
import { validateContribution, type ValidGroup } from './validate.js';

/** What gathering needs besides the plan. */
export interface GatherDeps {
  logger: Logger;
  /** Noise source; the privacy core's process-wide CSPRNG when absent. */
  entropy?: Entropy;
}

/** The cell fields that hold a key. */
type KeyField = 'country' | 'region' | 'subregion' | 'sector' | 'week' | 'month' | 'exploit' | 'tool' | 'actor' | 'tlp' | 'vintage';

const CELL_FIELD: Record<AggregateDimension, KeyField> = {
  COUNTRY: 'country',
  REGION: 'region',
  SUBREGION: 'subregion',
  SECTOR: 'sector',
  WEEK: 'week',
  MONTH: 'month',
  EXPLOIT: 'exploit',
  TOOL: 'tool',
  ACTOR: 'actor',
  TLP: 'tlp',
  VINTAGE: 'vintage',
};

/** The key fields of a cell, all null: a cell sets those of its groupBy dimensions. */
export const NO_KEY: Readonly<Pick<AggregateCell, KeyField>> = Object.freeze({
  country: null,
  region: null,
  subregion: null,
  sector: null,
  week: null,
  month: null,
  exploit: null,
  tool: null,
  actor: null,
  tlp: null,
  vintage: null,
});

/**
 * The answer in the order the asker wrote `groupBy`: the same cells, public ones in the order a
 * domain enumerated in that order has (the last asked dimension varying fastest), then the
 * node-data cells sorted by their key in the asker's order; `groupBy` echoed as asked. Answers are
 * computed and cached in the canonical order so that reordered questions share them; this is
 * post-processing of released values. Throws AccordError('INTERNAL') when `asked` is not an
 * ordering of the answer's dimensions.
 */
export function inAskedOrder(a: AggregateAnswer, asked: readonly AggregateDimension[]): AggregateAnswer {
  if (asked.length !== a.groupBy.length || a.groupBy.some((d) => !asked.includes(d))) {
    throw new AccordError('INTERNAL', 'An answer was shaped for dimensions other than those it was computed for.');
  }
  if (asked.every((d, i) => d === a.groupBy[i])) return a;
  const tuple = (c: AggregateCell, dims: readonly AggregateDimension[]): string => joinKey(dims.map((d) => c[CELL_FIELD[d]] ?? ''));
  const publicCells = a.cells.filter((c) => !c.selected);
  // The public cells are a full product of factors, so each factor's tuples first appear in that
  // factor's own order: the first appearance ranks them.
  const ranks = keyFactors(asked).map((dims) => {
    const rank = new Map<string, number>();
    for (const c of publicCells) {
      const t = tuple(c, dims);
      if (!rank.has(t)) rank.set(t, rank.size);
    }
    return { dims, rank };
  });
  const byRanks = publicCells.map((c) => ({ c, r: ranks.map(({ dims, rank }) => rank.get(tuple(c, dims))!) }));
  byRanks.sort((x, y) => {
    for (let i = 0; i < x.r.length; i++) if (x.r[i] !== y.r[i]) return x.r[i]! - y.r[i]!;
    return 0;
  });
  const selected = a.cells.filter((c) => c.selected).map((c) => ({ c, k: tuple(c, asked) }));
  selected.sort((x, y) => (x.k < y.k ? -1 : x.k > y.k ? 1 : 0));
  return { ...a, groupBy: [...asked], cells: [...byRanks.map((x) => x.c), ...selected.map((x) => x.c)] };
}

/** How node-data keys are released (stated in every answer that has them). */
export const SELECTION_METHOD = 'gaussian-threshold';

/**
 * Validates the partials, applies the quorum rule, sums and noises once per cell.
 * Throws AccordError: CONTRIBUTION_INVALID (STRICT, a node's partial broke its bounds),
 * NODE_UNAVAILABLE (STRICT, a node did not answer), NO_NODES (nobody asked, or nobody answered).
 * Error details name nodes and reasons only, never numbers from partials.
 */
export function gatherAggregate(plan: AggregatePlan, asked: readonly string[], outcomes: readonly NodeOutcome[], deps: GatherDeps): AggregateAnswer {
  const { domain } = plan;
  const n = domain.keys.length;
  const isImpact = plan.impact !== null;
  const totals = new Array<number>(n).fill(0);
  const sums = isImpact ? new Array<number>(n).fill(0) : null;
  const disrupted = isImpact ? new Array<number>(n).fill(0) : null;
  const openTotals = new Map<string, { count: number; sum: number; disrupted: number }>();
  const answered: string[] = [];
  const missing: MissingNode[] = [];
  const valid: ValidGroup[][] = [];
  for (const o of outcomes) {
    if (!o.ok) {
      missing.push({ node: o.node, reason: o.reason, code: o.code ?? null });
      continue;
    }
    const v = validateContribution(o.contribution, { node: o.node, queryId: plan.queryId, domain, bounds: plan.bounds });
    if (!v.ok) {
      deps.logger.warn({ code: 'CONTRIBUTION_INVALID', node: o.node, queryId: plan.queryId, problem: v.problem }, 'node contribution rejected');
      missing.push({ node: o.node, reason: 'INVALID_CONTRIBUTION', code: 'CONTRIBUTION_INVALID' });
      continue;
    }
    answered.push(o.node);
    valid.push(v.groups);
  }
  const missingDetails = missing.map((m) => ({ node: m.node, reason: m.reason }));
  if (plan.query.quorum === 'STRICT' && missing.length > 0) {
    if (missing.some((m) => m.reason === 'INVALID_CONTRIBUTION')) {
      throw new AccordError(
        'CONTRIBUTION_INVALID',
        'A node returned a contribution its bounds do not allow, so a strict-quorum answer cannot be given; retry with quorum BEST_EFFORT or ask the node operator to check the node.',
        { missing: missingDetails },
      );
    }
    throw new AccordError(
      'NODE_UNAVAILABLE',
      'Not every member node answered, so a strict-quorum answer cannot be given; retry later or with quorum BEST_EFFORT.',
      { missing: missingDetails },
    );
  }
  if (answered.length === 0) {
    throw new AccordError('NO_NODES', 'No member node answered the query; retry later.', { missing: missingDetails });
  }
  for (const groups of valid) {
    for (const g of groups) {
      if (g.pos >= 0) {
        totals[g.pos]! += g.count;
        if (sums) sums[g.pos]! += g.sum ?? 0;
        if (disrupted) disrupted[g.pos]! += g.disrupted ?? 0;
      } else {
        const t = openTotals.get(g.key!) ?? { count: 0, sum: 0, disrupted: 0 };
        t.count += g.count;
        t.sum += g.sum ?? 0;
        t.disrupted += g.disrupted ?? 0;
        openTotals.set(g.key!, t);
      }
    }
  }

  const entropy = deps.entropy ?? defaultEntropy();
  const mech = plan.mechanism;
  const acc = mech.accuracy();
  const ci = acc.ci95;
  const makeCell = (key: readonly string[], raw: number, selected: boolean, impact: AggregateCell['impact']): AggregateCell => {
    const cell: AggregateCell = {
      ...NO_KEY,
      value: Math.max(0, raw),
      rawValue: raw,
      stdDev: acc.stdDev,
      low: Math.max(0, raw - ci),
      high: Math.max(0, raw + ci),
      selected,
      impact,
    };
    domain.groupBy.forEach((d, j) => {
      cell[CELL_FIELD[d]] = key[j]!;
    });
    return cell;
  };

  const noisy = mech.releaseVector(totals, entropy);
  const noisySums = sums ? plan.impact!.sum.releaseVector(sums, entropy) : null;
  const noisyDisrupted = disrupted ? plan.impact!.disrupted.releaseVector(disrupted, entropy) : null;
  const cells: AggregateCell[] = domain.keys.map((key, i) =>
    makeCell(key, noisy[i]!, false, noisySums ? { rawSum: noisySums[i]!, rawDisrupted: noisyDisrupted![i]! } : null),
  );

  let selection: AggregateAnswer['selection'] = null;
  if (plan.selection) {
    // Noise every node-data key the nodes reported, keep those at or above τ (in random order), then
    // sort the survivors by key for a stable presentation (post-processing of the released set).
    const candidates = [...openTotals.entries()].map(([key, t]) => ({ key, t, noisy: mech.release(t.count, entropy) }));
    const kept = selectPartitions(candidates, plan.selection.threshold, entropy).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const c of kept) {
      const impact = plan.impact ? { rawSum: plan.impact.sum.release(c.t.sum, entropy), rawDisrupted: plan.impact.disrupted.release(c.t.disrupted, entropy) } : null;
      cells.push(makeCell(splitKey(c.key), c.noisy, true, impact));
    }
    selection = { method: SELECTION_METHOD, threshold: plan.selection.threshold, delta: plan.selection.delta, released: kept.length };
  }
  const view = (m: NoiseMechanism): ReleaseAccuracy => {
    const a = m.accuracy();
    return { mechanism: m.kind, scale: m.scale, stdDev: a.stdDev, ci95: a.ci95, confidence: a.confidence };
  };
  return {
    queryId: plan.queryId,
    question: plan.query.question,
    measure: plan.query.measure,
    groupBy: [...plan.query.groupBy],
    cells,
    accuracy: view(mech),
    impact: plan.impact ? { sum: view(plan.impact.sum), disrupted: view(plan.impact.disrupted), split: { ...plan.impact.split } } : null,
    selection,
    charge: plan.charge,
    coverage: { asked: [...asked], answered, missing, complete: missing.length === 0, excluded: [] },
    cached: false,
    remainingBudget: [],
  };
}

