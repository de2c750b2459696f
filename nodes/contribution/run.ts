/**
 * Running a contribution: validate, build the one bounded statement, execute it, shape the answer.
 */
import type { ContributionGroup, ContributionRequest } from '../../schema/contract/contribution.js';
import type { TlpLevel } from '../../schema/contract/dataset.js';
import { dialectOf, knexOf, type NodeOrm } from '../db/orm.js';
import { queryRows } from '../db/sql.js';
import { DEFAULT_CONTRIBUTING_TLP } from './tlp-gate.js';
import { compareKeys, type ContributionCell, type ContributionResult } from './result.js';
import { buildContributionStatement } from './sql.js';
import { validateContributionRequest, type ValidatedRequest } from './validate.js';

export { DEFAULT_CONTRIBUTING_TLP, NEVER_CONTRIBUTING_TLP, checkContributingTlp } from './tlp-gate.js';
export type { ContributionCell, ContributionResult } from './result.js';

export interface RunOptions {
  /** TLP levels whose incidents may contribute (default {@link DEFAULT_CONTRIBUTING_TLP}). */
  contributingTlp?: readonly TlpLevel[];
}

function toNumber(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

function keysOf(row: Record<string, unknown>, dims: number): string[] {
  const key: string[] = [];
  for (let i = 0; i < dims; i++) key.push(String(row[`k${i}`]));
  return key;
}

/** Executes a validated request on the node's database (one statement). */
export async function runValidatedContribution(orm: NodeOrm, req: ValidatedRequest, opts: RunOptions = {}): Promise<ContributionResult> {
  const dialect = dialectOf(orm);
  const stmt = buildContributionStatement(req, dialect, opts.contributingTlp ?? DEFAULT_CONTRIBUTING_TLP, 'groups');
  const rows = await queryRows<Record<string, unknown>>(knexOf(orm), dialect, stmt.sql, stmt.params);
  const sum = req.bounds.clamp !== undefined;
  let units = 0;
  const groups: ContributionGroup[] = [];
  for (const row of rows) {
    if (row.cnt === null || row.cnt === undefined) continue; // no group by and nothing kept
    units = toNumber(row.units);
    groups.push({ key: keysOf(row, stmt.dims), count: toNumber(row.cnt), sum: sum ? toNumber(row.sm) : null, disrupted: sum ? toNumber(row.ds) : null });
  }
  groups.sort((a, b) => compareKeys(a.key, b.key));
  return { units, groups };
}

/**
 * Computes this node's bounded partial aggregates for `request` in one parameterised SQL statement.
 * Throws AccordError('INVALID_QUERY' | 'INVALID_BOUNDS') for a malformed request (see
 * validateContributionRequest); database errors propagate. Whether indicator hashes may be matched
 * at all is the service's check (`indicator-access.ts`), not this function's.
 */
export async function runContribution(orm: NodeOrm, request: ContributionRequest, opts: RunOptions = {}): Promise<ContributionResult> {
  return runValidatedContribution(orm, validateContributionRequest(request), opts);
}

/**
 * The kept (organisation, group) cells of the same bounded statement (with fresh randomness), so
 * tests can check per-organisation invariants. Never exposed through the federated schema.
 */
export async function runContributionCells(orm: NodeOrm, request: ContributionRequest, opts: RunOptions = {}): Promise<ContributionCell[]> {
  const req = validateContributionRequest(request);
  const dialect = dialectOf(orm);
  const stmt = buildContributionStatement(req, dialect, opts.contributingTlp ?? DEFAULT_CONTRIBUTING_TLP, 'cells');
  const rows = await queryRows<Record<string, unknown>>(knexOf(orm), dialect, stmt.sql, stmt.params);
  const sum = req.bounds.clamp !== undefined;
  return rows
    .map((row) => ({ org: String(row.org), key: keysOf(row, stmt.dims), count: toNumber(row.cnt), sum: sum ? toNumber(row.sm) : null, disrupted: sum ? toNumber(row.ds) : null }))
    .sort((a, b) => (a.org < b.org ? -1 : a.org > b.org ? 1 : compareKeys(a.key, b.key)));
}
