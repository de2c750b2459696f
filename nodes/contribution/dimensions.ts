/**
 * The allow-list that maps contract dimensions and filters to fixed SQL. Nothing a requester sends
 * is ever spliced into SQL: dimensions select one of these constant fragments, filter values are
 * bound as parameters.
 */
import type { Dimension } from '../../schema/contract/contribution.js';
import type { ExploitKind } from '../../schema/contract/dataset.js';

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
export type LinkDimension = 'EXPLOIT' | 'TOOL' | 'ACTOR';

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
  /** Target column that is the group key. */
  keyColumn: 'cve' | 'name';
  /** Fixed condition on the target row (its alias is substituted for `$`). */
  condition: string;
}

export const LINK_DIMENSIONS: Record<LinkDimension, LinkSpec> = {
  // Exploits of a catalogued vulnerability, keyed by CVE id; exploits without a CVE are skipped.
  EXPLOIT: { alias: 'xv', link: 'incident_exploit', linkColumn: 'exploit_id', target: 'exploit', keyColumn: 'cve', condition: `$."cve" is not null and $."kind" in ('zero-day', 'n-day')` },
  // Tools and malware families, keyed by name (node-data keys: the gateway selects partitions).
  TOOL: { alias: 'xt', link: 'incident_exploit', linkColumn: 'exploit_id', target: 'exploit', keyColumn: 'name', condition: `$."kind" = 'tool'` },
  ACTOR: { alias: 'xa', link: 'incident_actor', linkColumn: 'actor_id', target: 'actor', keyColumn: 'name', condition: '1 = 1' },
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
  return d === 'EXPLOIT' || d === 'TOOL' || d === 'ACTOR';
}

/** Exploit kinds keyed by EXPLOIT (the others are TOOL). */
export const VULNERABILITY_KINDS: readonly ExploitKind[] = ['zero-day', 'n-day'];
