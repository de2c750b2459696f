/**
 * Storage of imported intelligence (STIX 2.1, MISP, CSV) as MikroORM entity schemas; the tables are
 * created by `migrations/Migration20250610000000_ingest.ts`.
 *
 * - `stix_object`: one row per imported object (any STIX type, and the objects MISP events and CSV rows
 *   are mapped onto), known by its STIX id (one row per id: imports hold a lock and look ids up before
 *   writing; the index is on a 53-bit hash of the id, much cheaper to maintain than one on the text);
 *   `version` (the normalised `modified`) decides what a re-import changes. Mapped types keep the few attributes the node aggregates on; names of identities are never
 *   stored (an identity is known only by its keyed pseudonym in `entity_key`).
 * - `stix_edge`: relationships and the embedded references the node follows (sighting of / where sighted,
 *   created by), by STIX id, owned by the object that states them.
 * - `stix_indicator_value`: the normalised values an indicator's pattern tests for equality.
 * - `ingest_incident`: which object each derived incident row was built from.
 * - `ingest_run`: one row per import attempt (operator history).
 *
 * Nothing here is reachable from the federated schema.
 */
import { EntitySchema } from '@mikro-orm/core';

export interface StixObjectRow {
  id: number;
  stixId: string;
  /** 53-bit hash of `stixId` (`nodes/ingest/keys.ts`): the indexed lookup key; joins also compare `stixId`. */
  stixKey: number;
  type: string;
  /** Normalised `modified` (fixed-width RFC 3339), or a content hash (`h:…`) for unversioned sources. */
  version: string;
  /** `stix`, `misp` or `csv`. */
  source: string;
  /** Most restrictive TLP 2.0 level among the object's markings; null when it carries none. */
  tlp: string | null;
  revoked: boolean;
  /** Name of a vulnerability, malware, tool, threat actor, intrusion set or campaign. */
  name: string | null;
  /** Key of the row derived from it: exploit or actor ref, organisation pseudonym, or the TLP level a marking definition stands for. */
  entityKey: string | null;
  sector: string | null;
  country: string | null;
  date: string | null;
  severity: number | null;
  disruption: boolean | null;
  sightingCount: number | null;
  /** Incidents and sightings: why no incident row could be built (null when one was). */
  held: string | null;
  importedAt: string;
}

export interface StixEdgeRow {
  id: number;
  owner: StixObjectRow;
  kind: string;
  sourceRef: string;
  targetRef: string;
  /** Hashes of the refs, indexed (see `StixObjectRow.stixKey`). */
  sourceKey: number;
  targetKey: number;
}

export interface StixIndicatorValueRow {
  id: number;
  owner: StixObjectRow;
  type: string;
  value: string;
  hash: string;
}

export interface IngestIncidentRow {
  incident: { id: number };
  object: StixObjectRow;
}

export interface IngestRunRow {
  id: number;
  startedAt: string;
  finishedAt: string;
  format: string;
  file: string;
  sha256: string | null;
  /** `IMPORTED` or the error code of the refusal. */
  outcome: string;
  objects: number;
  created: number;
  updated: number;
  skipped: number;
  /** The import summary as JSON (operator-only). */
  summary: string;
}

export const StixObjectSchema = new EntitySchema<StixObjectRow>({
  name: 'StixObject',
  tableName: 'stix_object',
  indexes: [{ name: 'stix_object_stix_key_index', properties: ['stixKey'] }],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    stixId: { type: 'string', length: 255 },
    stixKey: { type: 'bigint' },
    type: { type: 'string', length: 64 },
    version: { type: 'string', length: 80 },
    source: { type: 'string', length: 8 },
    tlp: { type: 'string', length: 12, nullable: true },
    revoked: { type: 'boolean' },
    name: { type: 'string', length: 255, nullable: true },
    entityKey: { type: 'string', length: 255, nullable: true },
    sector: { type: 'string', length: 64, nullable: true },
    country: { type: 'string', length: 2, nullable: true },
    date: { type: 'string', length: 10, nullable: true },
    severity: { type: 'integer', nullable: true },
    disruption: { type: 'boolean', nullable: true },
    sightingCount: { type: 'integer', nullable: true },
    held: { type: 'string', length: 32, nullable: true },
    importedAt: { type: 'string', length: 32 },
  },
});

export const StixEdgeSchema = new EntitySchema<StixEdgeRow>({
  name: 'StixEdge',
  tableName: 'stix_edge',
  indexes: [
    { name: 'stix_edge_owner_id_index', properties: ['owner'] },
    { name: 'stix_edge_source_key_index', properties: ['sourceKey'] },
    { name: 'stix_edge_target_key_index', properties: ['targetKey'] },
  ],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    owner: { kind: 'm:1', entity: 'StixObject', type: 'StixObject', deleteRule: 'cascade' },
    kind: { type: 'string', length: 64 },
    sourceRef: { type: 'string', length: 255 },
    targetRef: { type: 'string', length: 255 },
    sourceKey: { type: 'bigint' },
    targetKey: { type: 'bigint' },
  },
});

export const StixIndicatorValueSchema = new EntitySchema<StixIndicatorValueRow>({
  name: 'StixIndicatorValue',
  tableName: 'stix_indicator_value',
  indexes: [
    { name: 'stix_indicator_value_owner_id_index', properties: ['owner'] },
    { name: 'stix_indicator_value_hash_index', properties: ['hash'] },
  ],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    owner: { kind: 'm:1', entity: 'StixObject', type: 'StixObject', deleteRule: 'cascade' },
    type: { type: 'string', length: 64 },
    value: { type: 'text' },
    hash: { type: 'string', length: 64 },
  },
});

export const IngestIncidentSchema = new EntitySchema<IngestIncidentRow>({
  name: 'IngestIncident',
  tableName: 'ingest_incident',
  indexes: [{ name: 'ingest_incident_object_id_index', properties: ['object'] }],
  properties: {
    incident: { kind: 'm:1', entity: 'Incident', type: 'Incident', primary: true, deleteRule: 'cascade' },
    object: { kind: 'm:1', entity: 'StixObject', type: 'StixObject', deleteRule: 'cascade' },
  },
});

export const IngestRunSchema = new EntitySchema<IngestRunRow>({
  name: 'IngestRun',
  tableName: 'ingest_run',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    startedAt: { type: 'string', length: 32 },
    finishedAt: { type: 'string', length: 32 },
    format: { type: 'string', length: 8 },
    file: { type: 'string', length: 255 },
    sha256: { type: 'string', length: 64, nullable: true },
    outcome: { type: 'string', length: 32 },
    objects: { type: 'integer' },
    created: { type: 'integer' },
    updated: { type: 'integer' },
    skipped: { type: 'integer' },
    summary: { type: 'text' },
  },
});

/** The ingestion entities, in dependency order (after the node's core entities). */
export const INGEST_ENTITIES = [StixObjectSchema, StixEdgeSchema, StixIndicatorValueSchema, IngestIncidentSchema, IngestRunSchema] as const;
