/** The node-local contribution log: one row per contribution request answered or refused. */
import { dialectOf, knexOf, type NodeOrm } from '../db/orm.js';
import { exec, queryRows } from '../db/sql.js';

export interface ContributionLogRecord {
  requestId: string;
  queryId: string;
  measure: string;
  groupBy: string[];
  /** ISO 8601 (UTC). */
  at: string;
  /** `ANSWERED` or the refusal's error code. */
  outcome: string;
  grantPresent: boolean;
  groupsReturned: number | null;
  durationMs: number;
}

const MAX = { requestId: 64, queryId: 255, measure: 32, groupBy: 255, outcome: 32 } as const;

/** Appends one record (strings are cut to their column widths). */
export async function appendContributionLog(orm: NodeOrm, r: ContributionLogRecord): Promise<void> {
  await exec(
    knexOf(orm),
    'insert into "contribution_log" ("request_id", "query_id", "measure", "group_by", "at", "outcome", "grant_present", "groups_returned", "duration_ms") values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    [
      r.requestId.slice(0, MAX.requestId),
      r.queryId.slice(0, MAX.queryId),
      r.measure.slice(0, MAX.measure),
      r.groupBy.join(',').slice(0, MAX.groupBy),
      r.at,
      r.outcome.slice(0, MAX.outcome),
      r.grantPresent,
      r.groupsReturned,
      Math.round(r.durationMs * 1000) / 1000,
    ],
  );
}

/** The most recent `limit` records, newest first. */
export async function recentContributions(orm: NodeOrm, limit: number): Promise<ContributionLogRecord[]> {
  const rows = await queryRows<Record<string, unknown>>(
    knexOf(orm),
    dialectOf(orm),
    'select "request_id", "query_id", "measure", "group_by", "at", "outcome", "grant_present", "groups_returned", "duration_ms" from "contribution_log" order by "id" desc limit ?',
    [limit],
  );
  return rows.map((r) => ({
    requestId: String(r.request_id),
    queryId: String(r.query_id),
    measure: String(r.measure),
    groupBy: String(r.group_by) === '' ? [] : String(r.group_by).split(','),
    at: String(r.at),
    outcome: String(r.outcome),
    grantPresent: r.grant_present === true || r.grant_present === 1,
    groupsReturned: r.groups_returned === null ? null : Number(r.groups_returned),
    durationMs: Number(r.duration_ms),
  }));
}
