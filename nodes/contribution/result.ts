/**
 * The shapes of a computed contribution, shared by the SQL path (`run.ts`) and the oracle
 * (`oracle.ts`). Pure: no database.
 */
import type { ContributionGroup } from '../../schema/contract/contribution.js';

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
