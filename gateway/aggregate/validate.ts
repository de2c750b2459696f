/**
 * Checks one node's contribution against what its declared bounds allow (DESIGN §2.2, §3).
 *
 * A contribution that its bounds do not allow is an error, not data: the node is counted as
 * missing (INVALID_CONTRIBUTION) and nothing of it enters the sum. Problems are phrased without
 * the node's numbers, because they end up in logs.
 */
import type { ContributionBounds } from '../../schema/contract/index.js';
import { gridBounds } from '../../schema/privacy/index.js';
import { isContractKey } from '../../schema/contract/keys.js';
import { joinKey, type KeyDomain } from './domain.js';

export interface ContributionExpectation {
  /** The node's registered id (it must echo it). */
  node: string;
  /** The fingerprint sent (it must echo it). */
  queryId: string;
  domain: KeyDomain;
  /** The bounds sent to the node. */
  bounds: ContributionBounds;
}

/** One validated group: its public-domain position (or, for a node-data key, -1 and the joined key), count, sum and disruptions. */
export interface ValidGroup {
  pos: number;
  /** Joined key for a node-data key (pos −1); undefined for public keys. */
  key?: string;
  count: number;
  /** Grid-unit sum (IMPACT), else null. */
  sum: number | null;
  /** Disrupted rows among `count` (IMPACT), else null. */
  disrupted: number | null;
}

export type ValidatedContribution = { ok: true; groups: ValidGroup[] } | { ok: false; problem: string };

const isNonNegInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Validates a node's `contribution` object: identity echo (node id, queryId), units, key arity,
 * keys inside the query's public domain (or, at open positions, node-data keys the contract carries:
 * `isContractKey`, the rule the nodes' importers store by), no duplicate keys, non-negative integer counts, per-group
 * count ≤ units × maxPerPartition, non-empty groups ≤ units × maxPartitions, Σ counts ≤
 * units × maxPartitions × maxPerPartition, and sums and disruption counts (only when the bounds clamp)
 * integer with |sum| ≤ count × maxAbsGridUnits and 0 ≤ disrupted ≤ count. Never throws.
 */
export function validateContribution(raw: unknown, exp: ContributionExpectation): ValidatedContribution {
  const fail = (problem: string): ValidatedContribution => ({ ok: false, problem });
  if (typeof raw !== 'object' || raw === null) return fail('contribution is not an object');
  const c = raw as Record<string, unknown>;
  if (c.node !== exp.node) return fail('node id does not echo the registered id');
  if (c.queryId !== exp.queryId) return fail('queryId does not echo the request');
  if (!isNonNegInt(c.units)) return fail('units is not a non-negative integer');
  if (!Array.isArray(c.groups)) return fail('groups is not a list');

  const { maxPartitions, maxPerPartition } = exp.bounds;
  const units = c.units;
  const maxGroupCount = units * maxPerPartition;
  const maxGroups = units * maxPartitions;
  const maxTotal = units * maxPartitions * maxPerPartition;
  const hasClamp = typeof exp.bounds.clampLo === 'number' && typeof exp.bounds.clampHi === 'number';
  const maxAbsUnits = hasClamp ? gridBounds(exp.bounds.clampLo!, exp.bounds.clampHi!, exp.bounds.gridExponent ?? 0).maxAbsUnits : 0;
  const arity = exp.domain.groupBy.length;

  const seen = new Set<number>();
  const seenOpen = new Set<string>();
  const groups: ValidGroup[] = [];
  const { open, values, groupBy } = exp.domain;
  let total = 0;
  let nonEmpty = 0;
  for (const g of c.groups as unknown[]) {
    if (typeof g !== 'object' || g === null) return fail('a group is not an object');
    const { key, count, sum, disrupted } = g as Record<string, unknown>;
    if (!Array.isArray(key) || key.length !== arity) return fail('a group key does not have one value per groupBy dimension');
    if (!key.every((k) => typeof k === 'string')) return fail('a group key holds a non-string value');
    const joined = joinKey(key as string[]);
    const pos = exp.domain.index.get(joined) ?? -1;
    if (pos >= 0) {
      if (seen.has(pos)) return fail('a group key appears twice');
      seen.add(pos);
    } else {
      // outside the public domain: allowed only with a node-data value at an open position
      let hasOpen = false;
      for (let j = 0; j < arity; j++) {
        const v = (key as string[])[j]!;
        if (values[j]!.has(v)) continue;
        if (!open[j] || !isContractKey(groupBy[j]!, v)) return fail('a group key is outside the public domain of the query');
        hasOpen = true;
      }
      if (!hasOpen) return fail('a group key is outside the public domain of the query');
      if (seenOpen.has(joined)) return fail('a group key appears twice');
      seenOpen.add(joined);
    }
    if (!isNonNegInt(count)) return fail('a group count is not a non-negative integer');
    if (count > maxGroupCount) return fail('a group count exceeds units × maxPerPartition');
    let s: number | null = null;
    let d: number | null = null;
    if (sum === null || sum === undefined) {
      if (hasClamp) return fail('a group of a sum query has no sum');
    } else {
      if (!hasClamp) return fail('a group of a count query carries a sum');
      if (typeof sum !== 'number' || !Number.isSafeInteger(sum)) return fail('a group sum is not an integer number of grid units');
      if (Math.abs(sum) > count * maxAbsUnits) return fail('a group sum exceeds count × the clamp bound');
      s = sum;
    }
    if (disrupted === null || disrupted === undefined) {
      if (hasClamp) return fail('a group of an impact query has no disruption count');
    } else {
      if (!hasClamp) return fail('a group of a count query carries a disruption count');
      if (!isNonNegInt(disrupted) || disrupted > count) return fail('a group disruption count is not an integer between 0 and the group count');
      d = disrupted;
    }
    if (count > 0) nonEmpty++;
    total += count;
    groups.push(pos >= 0 ? { pos, count, sum: s, disrupted: d } : { pos, key: joined, count, sum: s, disrupted: d });
  }
  if (nonEmpty > maxGroups) return fail('more non-empty groups than units × maxPartitions');
  if (total > maxTotal) return fail('the counts add up to more than units × maxPartitions × maxPerPartition');
  return { ok: true, groups };
}
