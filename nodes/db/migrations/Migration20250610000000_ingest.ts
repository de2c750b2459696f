import { Migration } from '@mikro-orm/migrations';

/**
 * Storage of imported intelligence (see `../ingest-entities.ts`): the object registry that makes
 * re-imports idempotent (`stix_object`, looked up by a hash of the STIX id), relationships and followed
 * references (`stix_edge`, looked up by hashes of their refs),
 * indicator values (`stix_indicator_value`), the provenance of derived incident rows
 * (`ingest_incident`) and the import history (`ingest_run`). Existing tables are not changed.
 */
export class Migration20250610000000_ingest extends Migration {
  override up(): void {
    const statements = isPostgres(this) ? POSTGRES_UP : SQLITE_UP;
    for (const sql of statements) this.addSql(sql);
  }

  override down(): void {
    for (const table of ['ingest_run', 'ingest_incident', 'stix_indicator_value', 'stix_edge', 'stix_object']) {
      this.addSql(`drop table if exists "${table}"`);
    }
  }
}

function isPostgres(m: Migration): boolean {
  const client = (m.getKnex().client as { dialect?: string }).dialect;
  return client === 'postgresql' || client === 'postgres';
}

const SQLITE_UP = [
  `create table "stix_object" ("id" integer not null primary key autoincrement, "stix_id" text not null, "stix_key" bigint not null, "type" text not null, "version" text not null, "source" text not null, "tlp" text null, "revoked" integer not null, "name" text null, "entity_key" text null, "sector" text null, "country" text null, "date" text null, "severity" integer null, "disruption" integer null, "sighting_count" integer null, "held" text null, "imported_at" text not null)`,
  `create index "stix_object_stix_key_index" on "stix_object" ("stix_key")`,

  `create table "stix_edge" ("id" integer not null primary key autoincrement, "owner_id" integer not null, "kind" text not null, "source_ref" text not null, "target_ref" text not null, "source_key" bigint not null, "target_key" bigint not null, constraint "stix_edge_owner_id_foreign" foreign key ("owner_id") references "stix_object" ("id") on delete cascade on update cascade)`,
  `create index "stix_edge_owner_id_index" on "stix_edge" ("owner_id")`,
  `create index "stix_edge_source_key_index" on "stix_edge" ("source_key")`,
  `create index "stix_edge_target_key_index" on "stix_edge" ("target_key")`,

  `create table "stix_indicator_value" ("id" integer not null primary key autoincrement, "owner_id" integer not null, "type" text not null, "value" text not null, "hash" text not null, constraint "stix_indicator_value_owner_id_foreign" foreign key ("owner_id") references "stix_object" ("id") on delete cascade on update cascade)`,
  `create index "stix_indicator_value_owner_id_index" on "stix_indicator_value" ("owner_id")`,
  `create index "stix_indicator_value_hash_index" on "stix_indicator_value" ("hash")`,

  `create table "ingest_incident" ("incident_id" integer not null, "object_id" integer not null, constraint "ingest_incident_incident_id_foreign" foreign key ("incident_id") references "incident" ("id") on delete cascade on update cascade, constraint "ingest_incident_object_id_foreign" foreign key ("object_id") references "stix_object" ("id") on delete cascade on update cascade, primary key ("incident_id"))`,
  `create index "ingest_incident_incident_id_index" on "ingest_incident" ("incident_id")`,
  `create index "ingest_incident_object_id_index" on "ingest_incident" ("object_id")`,

  `create table "ingest_run" ("id" integer not null primary key autoincrement, "started_at" text not null, "finished_at" text not null, "format" text not null, "file" text not null, "sha256" text null, "outcome" text not null, "objects" integer not null, "created" integer not null, "updated" integer not null, "skipped" integer not null, "summary" text not null)`,
];

const POSTGRES_UP = [
  `create table "stix_object" ("id" serial primary key, "stix_id" varchar(255) not null, "stix_key" bigint not null, "type" varchar(64) not null, "version" varchar(80) not null, "source" varchar(8) not null, "tlp" varchar(12) null, "revoked" boolean not null, "name" varchar(255) null, "entity_key" varchar(255) null, "sector" varchar(64) null, "country" varchar(2) null, "date" varchar(10) null, "severity" int null, "disruption" boolean null, "sighting_count" int null, "held" varchar(32) null, "imported_at" varchar(32) not null)`,
  `create index "stix_object_stix_key_index" on "stix_object" ("stix_key")`,

  `create table "stix_edge" ("id" serial primary key, "owner_id" int not null, "kind" varchar(64) not null, "source_ref" varchar(255) not null, "target_ref" varchar(255) not null, "source_key" bigint not null, "target_key" bigint not null)`,
  `alter table "stix_edge" add constraint "stix_edge_owner_id_foreign" foreign key ("owner_id") references "stix_object" ("id") on update cascade on delete cascade`,
  `create index "stix_edge_owner_id_index" on "stix_edge" ("owner_id")`,
  `create index "stix_edge_source_key_index" on "stix_edge" ("source_key")`,
  `create index "stix_edge_target_key_index" on "stix_edge" ("target_key")`,

  `create table "stix_indicator_value" ("id" serial primary key, "owner_id" int not null, "type" varchar(64) not null, "value" text not null, "hash" varchar(64) not null)`,
  `alter table "stix_indicator_value" add constraint "stix_indicator_value_owner_id_foreign" foreign key ("owner_id") references "stix_object" ("id") on update cascade on delete cascade`,
  `create index "stix_indicator_value_owner_id_index" on "stix_indicator_value" ("owner_id")`,
  `create index "stix_indicator_value_hash_index" on "stix_indicator_value" ("hash")`,

  `create table "ingest_incident" ("incident_id" int not null, "object_id" int not null, constraint "ingest_incident_pkey" primary key ("incident_id"))`,
  `alter table "ingest_incident" add constraint "ingest_incident_incident_id_foreign" foreign key ("incident_id") references "incident" ("id") on update cascade on delete cascade`,
  `alter table "ingest_incident" add constraint "ingest_incident_object_id_foreign" foreign key ("object_id") references "stix_object" ("id") on update cascade on delete cascade`,
  `create index "ingest_incident_object_id_index" on "ingest_incident" ("object_id")`,

  `create table "ingest_run" ("id" serial primary key, "started_at" varchar(32) not null, "finished_at" varchar(32) not null, "format" varchar(8) not null, "file" varchar(255) not null, "sha256" varchar(64) null, "outcome" varchar(32) not null, "objects" int not null, "created" int not null, "updated" int not null, "skipped" int not null, "summary" text not null)`,
];
