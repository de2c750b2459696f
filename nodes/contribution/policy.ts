/**
 * The node's sharing rule for TLP levels and the shapes of a computed contribution. Pure: no
 * database, so the reference implementation and the configuration can use it.
 */
import type { ContributionGroup } from '../../schema/contract/contribution.js';
import type { TlpLevel } from '../../schema/contract/dataset.js';
import { AccordError } from '../../schema/errors.js';

/** TLP levels a node contributes unless its operator says otherwise. */
export const DEFAULT_CONTRIBUTING_TLP: readonly TlpLevel[] = ['CLEAR', 'GREEN', 'AMBER'];
/** TLP levels that never contribute, whatever the configuration. */
export const NEVER_CONTRIBUTING_TLP: readonly TlpLevel[] = ['AMBER+STRICT', 'RED'];

/**
 * Checks a node's TLP sharing rule and returns it without duplicates. Throws
 * AccordError('CONFIG_INVALID') when it names an unknown level or AMBER+STRICT / RED.
 */
export function checkContributingTlp(levels: readonly string[]): readonly TlpLevel[] {
  for (const l of levels) {
    if (!DEFAULT_CONTRIBUTING_TLP.includes(l as TlpLevel)) {
      throw new AccordError('CONFIG_INVALID', 'contributingTlp may list only CLEAR, GREEN and AMBER; AMBER+STRICT and RED never contribute.', { field: 'contributingTlp' });
    }
  }
  return [...new Set(levels)] as TlpLevel[];
}

/** A node's partial answer before it is labelled with the node id and query id. */
export interface ContributionResult {
  /** Distinct organisations kept after bounding (private; for the gateway's checks only). */
  units: number;
  /** Groups sorted by key. */
  groups: ContributionGroup[];
}

/** One kept (organisation, group) cell, for tests and operator audits; never served. */
export interface ContributionCell {
  org: string;
  key: string[];
  count: number;
  sum: number | null;
  /** SEVERITY_SUM: kept rows with a disruption; null for the other measures. */
  disrupted: number | null;
}

/** Orders keys element-wise by UTF-16 code units (the same order everywhere in the node). */
export function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i]! < b[i]!) return -1;
    if (a[i]! > b[i]!) return 1;
  }
  return 0;
}
