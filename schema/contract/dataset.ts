/**
 * Plain records a node stores — the shape the synthetic generator produces and a node's seeding
 * path accepts. This never crosses the node boundary on the wire; it is the node-local data model's
 * input form (ingestion of STIX/MISP/CSV maps onto the same records).
 */

export type ExploitKind = 'zero-day' | 'n-day' | 'tool';
export type TlpLevel = 'CLEAR' | 'GREEN' | 'AMBER' | 'AMBER+STRICT' | 'RED';
export const TLP_LEVELS: readonly TlpLevel[] = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'];

export interface OrganisationRecord {
  /** Node-local pseudonymous id (e.g. `org-3f9a…`); never leaves the node. */
  id: string;
  /** Sector id from the sector taxonomy (schema/reference). */
  sector: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
}

export interface ExploitRecord {
  /** Stable id within the dataset: the CVE id for vulnerabilities, `tool:<name>` for tools. */
  id: string;
  /** CVE id when the exploit targets a catalogued vulnerability. */
  cve?: string;
  /** Family / tool name (e.g. `Cobalt Strike`), or the KEV vulnerability name. */
  name: string;
  kind: ExploitKind;
  /** ISO date of public disclosure, when known. */
  disclosed?: string;
}

export interface ActorRecord {
  id: string;
  /** Name from the public actor catalog, or `unknown`. */
  name: string;
  /** True when the name is in the public catalog (a public-domain key). */
  catalogued: boolean;
  /** ISO 3166-1 alpha-2 of the suspected origin, when known. */
  country?: string;
}

export interface IndicatorRecord {
  /** STIX-like type: `ipv4-addr`, `ipv6-addr`, `domain-name`, `url`, `email-addr`, `file:sha256`, … */
  type: string;
  /** Normalised value (lower-cased domain, canonical IP, …). Node-local only. */
  value: string;
}

export interface IncidentRecord {
  id: string;
  /** ISO date `YYYY-MM-DD`. */
  date: string;
  /** ISO 3166-1 alpha-2 where the incident happened. */
  country: string;
  sector: string;
  /** 1–5. */
  severity: number;
  /** Whether an essential service was disrupted. */
  disruption: boolean;
  tlp: TlpLevel;
  /** OrganisationRecord.id */
  organisation: string;
  /** ExploitRecord.id list. */
  exploits: string[];
  /** ActorRecord.id list. */
  actors: string[];
  indicators: IndicatorRecord[];
}

export interface NodeDataset {
  organisations: OrganisationRecord[];
  exploits: ExploitRecord[];
  actors: ActorRecord[];
  incidents: IncidentRecord[];
}
