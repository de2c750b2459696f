/**
 * The node's storage model as MikroORM entity schemas (plain definitions, every type explicit).
 *
 * Entities are storage, not contract: nothing here is exposed through the federated schema. The
 * tables are created by the migrations in `./migrations/` (the same DDL on SQLite and PostgreSQL);
 * a test checks that these definitions and the migrated schema agree.
 *
 * Surrogate integer keys keep the bounded aggregate's joins and window partitions cheap; the
 * dataset's own ids are kept in `ref` columns (unique). CHECK constraints (severity 1–5, TLP level,
 * exploit kind) live in the migrations only: MikroORM cannot compare them reliably across platforms.
 */
import { EntitySchema, type Rel } from '@mikro-orm/core';
import type { ExploitKind, TlpLevel } from '../../schema/contract/dataset.js';
import { INGEST_ENTITIES } from './ingest-entities.js';
import { GRANT_ENTITIES } from './grant-entities.js';
import { SETTING_ENTITIES } from './setting-entities.js';

export interface Organisation {
  id: number;
  /** Node-local pseudonymous id; never leaves the node. */
  ref: string;
  sector: string;
  country: string;
}

export interface Incident {
  id: number;
  ref: string;
  /** `YYYY-MM-DD`. */
  date: string;
  /** ISO week `YYYY-Www`, derived from `date` at write time. */
  week: string;
  /** `YYYY-MM`, derived from `date` at write time. */
  month: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
  /** UN M49 region, derived from `country` at write time. */
  region: string | null;
  subregion: string | null;
  sector: string;
  /** 1–5. */
  severity: number;
  disruption: boolean;
  tlp: TlpLevel;
  organisation: Rel<Organisation>;
}

export interface Exploit {
  id: number;
  ref: string;
  cve: string | null;
  name: string;
  kind: ExploitKind;
  disclosed: string | null;
}

export interface IncidentExploit {
  incident: Rel<Incident>;
  exploit: Rel<Exploit>;
}

export interface Actor {
  id: number;
  ref: string;
  name: string;
  catalogued: boolean;
  country: string | null;
}

export interface IncidentActor {
  incident: Rel<Incident>;
  actor: Rel<Actor>;
}

export interface Indicator {
  id: number;
  type: string;
  /** Normalised value; node-local only. */
  value: string;
  /** Hex HMAC-SHA256 of `type:value` under the node secret. */
  hash: string;
  incident: Rel<Incident>;
}

export interface ContributionLogEntry {
  id: number;
  requestId: string;
  queryId: string;
  measure: string;
  /** Dimensions joined with `,`. */
  groupBy: string;
  /** ISO 8601 timestamp (UTC) of the answer. */
  at: string;
  /** `ANSWERED`, or the AccordError code of the refusal. */
  outcome: string;
  grantPresent: boolean;
  groupsReturned: number | null;
  durationMs: number;
}

export const OrganisationSchema = new EntitySchema<Organisation>({
  name: 'Organisation',
  tableName: 'organisation',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    ref: { type: 'string', length: 255, unique: 'organisation_ref_unique' },
    sector: { type: 'string', length: 255 },
    country: { type: 'string', length: 2 },
  },
});

export const IncidentSchema = new EntitySchema<Incident>({
  name: 'Incident',
  tableName: 'incident',
  indexes: [
    { name: 'incident_organisation_id_date_index', properties: ['organisation', 'date'] },
    { name: 'incident_date_index', properties: ['date'] },
  ],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    ref: { type: 'string', length: 255, unique: 'incident_ref_unique' },
    date: { type: 'string', length: 10 },
    week: { type: 'string', length: 8 },
    month: { type: 'string', length: 7 },
    country: { type: 'string', length: 2 },
    region: { type: 'string', length: 255, nullable: true },
    subregion: { type: 'string', length: 255, nullable: true },
    sector: { type: 'string', length: 255 },
    severity: { type: 'integer' },
    disruption: { type: 'boolean' },
    tlp: { type: 'string', length: 12 },
    organisation: { kind: 'm:1', entity: () => OrganisationSchema, type: 'Organisation', deleteRule: 'cascade' },
  },
});

export const ExploitSchema = new EntitySchema<Exploit>({
  name: 'Exploit',
  tableName: 'exploit',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    ref: { type: 'string', length: 255, unique: 'exploit_ref_unique' },
    cve: { type: 'string', length: 32, nullable: true },
    name: { type: 'string', length: 255 },
    kind: { type: 'string', length: 16 },
    disclosed: { type: 'string', length: 10, nullable: true },
  },
});

export const IncidentExploitSchema = new EntitySchema<IncidentExploit>({
  name: 'IncidentExploit',
  tableName: 'incident_exploit',
  indexes: [{ name: 'incident_exploit_exploit_id_index', properties: ['exploit'] }],
  properties: {
    incident: { kind: 'm:1', entity: () => IncidentSchema, type: 'Incident', primary: true, deleteRule: 'cascade' },
    exploit: { kind: 'm:1', entity: () => ExploitSchema, type: 'Exploit', primary: true, deleteRule: 'cascade' },
  },
});

export const ActorSchema = new EntitySchema<Actor>({
  name: 'Actor',
  tableName: 'actor',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    ref: { type: 'string', length: 255, unique: 'actor_ref_unique' },
    name: { type: 'string', length: 255 },
    catalogued: { type: 'boolean' },
    country: { type: 'string', length: 2, nullable: true },
  },
});

export const IncidentActorSchema = new EntitySchema<IncidentActor>({
  name: 'IncidentActor',
  tableName: 'incident_actor',
  indexes: [{ name: 'incident_actor_actor_id_index', properties: ['actor'] }],
  properties: {
    incident: { kind: 'm:1', entity: () => IncidentSchema, type: 'Incident', primary: true, deleteRule: 'cascade' },
    actor: { kind: 'm:1', entity: () => ActorSchema, type: 'Actor', primary: true, deleteRule: 'cascade' },
  },
});

export const IndicatorSchema = new EntitySchema<Indicator>({
  name: 'Indicator',
  tableName: 'indicator',
  indexes: [
    { name: 'indicator_incident_id_index', properties: ['incident'] },
    { name: 'indicator_hash_index', properties: ['hash'] },
  ],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    type: { type: 'string', length: 64 },
    value: { type: 'text' },
    hash: { type: 'string', length: 64 },
    incident: { kind: 'm:1', entity: () => IncidentSchema, type: 'Incident', deleteRule: 'cascade' },
  },
});

export const ContributionLogSchema = new EntitySchema<ContributionLogEntry>({
  name: 'ContributionLogEntry',
  tableName: 'contribution_log',
  indexes: [{ name: 'contribution_log_at_index', properties: ['at'] }],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    requestId: { type: 'string', length: 64 },
    queryId: { type: 'string', length: 255 },
    measure: { type: 'string', length: 32 },
    groupBy: { type: 'string', length: 255 },
    at: { type: 'string', length: 32 },
    outcome: { type: 'string', length: 32 },
    grantPresent: { type: 'boolean' },
    groupsReturned: { type: 'integer', nullable: true },
    durationMs: { type: 'double' },
  },
});

/** Every entity of the node, in dependency order. */
export const NODE_ENTITIES = [
  OrganisationSchema,
  IncidentSchema,
  ExploitSchema,
  IncidentExploitSchema,
  ActorSchema,
  IncidentActorSchema,
  IndicatorSchema,
  ContributionLogSchema,
  ...INGEST_ENTITIES,
  ...GRANT_ENTITIES,
  ...SETTING_ENTITIES,
] as const;
