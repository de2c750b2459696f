/**
 * The allow-list that maps contract dimensions and filters to fixed SQL. Nothing a requester sends
 * is ever spliced into SQL: dimensions select one of these constant fragments, filter values are
 * bound as parameters.
 */
import { VINTAGE_BUCKETS, VINTAGE_LOWER_DAYS, type Dimension } from '../../schema/contract/contribution.js';
import type { ExploitKind } from '../../schema/contract/dataset.js';
import type { Dialect } from '../db/orm.js';

/** Dimensions read straight from an incident column (one key per incident). */
export const INCIDENT_DIMENSIONS = {
  COUNTRY: { column: 'country', nullable: false },
  REGION: { column: 'region', nullable: true },
  SUBREGION: { column: 'subregion', nullable: true },
  SECTOR: { column: 'sector', nullable: false },
  WEEK: { column: 'week', nullable: false },
  MONTH: { column: 'month', nullable: false },
  TLP: { column: 'tlp', nullable: false },
} as const satisfies Partial<Record<Dimension, { column: string; nullable: boolean }>>;

export type IncidentDimension = keyof typeof INCIDENT_DIMENSIONS;
export type LinkDimension = 'EXPLOIT' | 'TOOL' | 'ACTOR' | 'VINTAGE';

/** The filter lists that name link values (exploit CVE ids, tool names, actor names). */
export type LinkFilter = 'exploits' | 'tools' | 'actors';

/**
 * Dimensions reached through a link table: an incident with several linked values appears in
 * several groups (once per distinct value).
 */
export interface LinkSpec {
  /** Fixed alias prefix. */
  alias: string;
  link: 'incident_exploit' | 'incident_actor';
  linkColumn: 'exploit_id' | 'actor_id';
  target: 'exploit' | 'actor';
  /** The group key over the target row `t` (and the incident `i`); fixed SQL. */
  key: (t: string, dialect: Dialect) => string;
  /** Fixed condition on the target row (its alias is substituted for `$`). */
  condition: string;
  /**
   * The filter list that, when this dimension is grouped, restricts which target rows give keys
   * (the list names values of `column`); when the dimension is not grouped the list filters incidents.
   */
  filter: { list: LinkFilter; column: 'cve' | 'name' };
}

/**
 * Exploit age in days at the incident: incident date − disclosure date (both `YYYY-MM-DD` text).
 * SQLite: julianday difference (exact: both at midnight); PostgreSQL: date subtraction (integer).
 */
function ageDays(t: string, dialect: Dialect): string {
  return dialect === 'postgresql' ? `(cast(i."date" as date) - cast(${t}."disclosed" as date))` : `(julianday(i."date") - julianday(${t}."disclosed"))`;
}

/** The VINTAGE bucket in SQL, exactly `vintageBucket` of the contract (constants only). */
export function vintageBucketSql(t: string, dialect: Dialect): string {
  const d = ageDays(t, dialect);
  const [zero, ...rest] = VINTAGE_BUCKETS;
  const lower = VINTAGE_LOWER_DAYS as Readonly<Record<string, number>>;
  // d < lower(b₁) → ZERO_DAY; d < lower(bₖ₊₁) → bₖ; else the last bucket.
  const whens = [`when ${d} < ${lower[rest[0]!]} then '${zero}'`];
  for (let k = 0; k + 1 < rest.length; k++) whens.push(`when ${d} < ${lower[rest[k + 1]!]} then '${rest[k]}'`);
  return `(case ${whens.join(' ')} else '${rest[rest.length - 1]}' end)`;
}

export const LINK_DIMENSIONS: Record<LinkDimension, LinkSpec> = {
  // Exploits of a catalogued vulnerability, keyed by CVE id; exploits without a CVE are skipped.
  EXPLOIT: {
    alias: 'xv', link: 'incident_exploit', linkColumn: 'exploit_id', target: 'exploit', key: (t) => `${t}."cve"`,
    condition: `$."cve" is not null and $."kind" in ('zero-day', 'n-day')`, filter: { list: 'exploits', column: 'cve' },
  },
  // Tools and malware families, keyed by name (node-data keys: the gateway selects partitions).
  TOOL: { alias: 'xt', link: 'incident_exploit', linkColumn: 'exploit_id', target: 'exploit', key: (t) => `${t}."name"`, condition: `$."kind" = 'tool'`, filter: { list: 'tools', column: 'name' } },
  ACTOR: { alias: 'xa', link: 'incident_actor', linkColumn: 'actor_id', target: 'actor', key: (t) => `${t}."name"`, condition: '1 = 1', filter: { list: 'actors', column: 'name' } },
  // Exploited vulnerabilities with a disclosure date, keyed by their age bucket at the incident. With
  // an exploits filter only the listed CVEs give a vintage.
  VINTAGE: {
    alias: 'xg', link: 'incident_exploit', linkColumn: 'exploit_id', target: 'exploit', key: vintageBucketSql,
    condition: `$."disclosed" is not null and $."kind" in ('zero-day', 'n-day')`, filter: { list: 'exploits', column: 'cve' },
  },
};

/** Which filter list restricts which dimension's values. */
export const FILTER_OF_DIMENSION = {
  COUNTRY: 'countries',
  REGION: 'regions',
  SUBREGION: 'subregions',
  SECTOR: 'sectors',
  TLP: 'tlp',
  EXPLOIT: 'exploits',
  TOOL: 'tools',
  ACTOR: 'actors',
} as const;

export function isLinkDimension(d: Dimension): d is LinkDimension {
  return d === 'EXPLOIT' || d === 'TOOL' || d === 'ACTOR' || d === 'VINTAGE';
}

/** Exploit kinds keyed by EXPLOIT (the others are TOOL). */
export const VULNERABILITY_KINDS: readonly ExploitKind[] = ['zero-day', 'n-day'];
