import { Migration } from '@mikro-orm/migrations';

/**
 * The node's initial schema: organisations, incidents, exploits, actors, their link tables,
 * indicators and the contribution log, with the indexes the bounded aggregate needs.
 * Hand-written DDL per platform (SQLite and PostgreSQL); entity definitions in `../entities.ts`
 * describe the same tables.
 */
export class Migration20250601000000_initial extends Migration {
  override up(): void {
    const statements = isPostgres(this) ? POSTGRES_UP : SQLITE_UP;
    for (const sql of statements) this.addSql(sql);
  }

  override down(): void {
    for (const table of ['contribution_log', 'indicator', 'incident_actor', 'incident_exploit', 'incident', 'actor', 'exploit', 'organisation']) {
      this.addSql(`drop table if exists "${table}"`);
    }
  }
}

function isPostgres(m: Migration): boolean {
  const client = (m.getKnex().client as { dialect?: string }).dialect;
  return client === 'postgresql' || client === 'postgres';
}

const SEVERITY_CHECK = `constraint "incident_severity_check" check ("severity" between 1 and 5)`;
const TLP_CHECK = `constraint "incident_tlp_check" check ("tlp" in ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'))`;
const KIND_CHECK = `constraint "exploit_kind_check" check ("kind" in ('zero-day', 'n-day', 'tool'))`;

const SQLITE_UP = [
  `create table "organisation" ("id" integer not null primary key autoincrement, "ref" text not null, "sector" text not null, "country" text not null)`,
  `create unique index "organisation_ref_unique" on "organisation" ("ref")`,

  `create table "incident" ("id" integer not null primary key autoincrement, "ref" text not null, "date" text not null, "week" text not null, "month" text not null, "country" text not null, "region" text null, "subregion" text null, "sector" text not null, "severity" integer not null, "disruption" integer not null, "tlp" text not null, "organisation_id" integer not null, ${SEVERITY_CHECK}, ${TLP_CHECK}, constraint "incident_organisation_id_foreign" foreign key ("organisation_id") references "organisation" ("id") on delete cascade on update cascade)`,
  `create unique index "incident_ref_unique" on "incident" ("ref")`,
  `create index "incident_organisation_id_index" on "incident" ("organisation_id")`,
  `create index "incident_organisation_id_date_index" on "incident" ("organisation_id", "date")`,
  `create index "incident_date_index" on "incident" ("date")`,

  `create table "exploit" ("id" integer not null primary key autoincrement, "ref" text not null, "cve" text null, "name" text not null, "kind" text not null, "disclosed" text null, ${KIND_CHECK})`,
  `create unique index "exploit_ref_unique" on "exploit" ("ref")`,

  `create table "incident_exploit" ("incident_id" integer not null, "exploit_id" integer not null, constraint "incident_exploit_incident_id_foreign" foreign key ("incident_id") references "incident" ("id") on delete cascade on update cascade, constraint "incident_exploit_exploit_id_foreign" foreign key ("exploit_id") references "exploit" ("id") on delete cascade on update cascade, primary key ("incident_id", "exploit_id"))`,
  `create index "incident_exploit_incident_id_index" on "incident_exploit" ("incident_id")`,
  `create index "incident_exploit_exploit_id_index" on "incident_exploit" ("exploit_id")`,

  `create table "actor" ("id" integer not null primary key autoincrement, "ref" text not null, "name" text not null, "catalogued" integer not null, "country" text null)`,
  `create unique index "actor_ref_unique" on "actor" ("ref")`,

  `create table "incident_actor" ("incident_id" integer not null, "actor_id" integer not null, constraint "incident_actor_incident_id_foreign" foreign key ("incident_id") references "incident" ("id") on delete cascade on update cascade, constraint "incident_actor_actor_id_foreign" foreign key ("actor_id") references "actor" ("id") on delete cascade on update cascade, primary key ("incident_id", "actor_id"))`,
  `create index "incident_actor_incident_id_index" on "incident_actor" ("incident_id")`,
  `create index "incident_actor_actor_id_index" on "incident_actor" ("actor_id")`,

  `create table "indicator" ("id" integer not null primary key autoincrement, "type" text not null, "value" text not null, "hash" text not null, "incident_id" integer not null, constraint "indicator_incident_id_foreign" foreign key ("incident_id") references "incident" ("id") on delete cascade on update cascade)`,
  `create index "indicator_incident_id_index" on "indicator" ("incident_id")`,
  `create index "indicator_hash_index" on "indicator" ("hash")`,

  `create table "contribution_log" ("id" integer not null primary key autoincrement, "request_id" text not null, "query_id" text not null, "measure" text not null, "group_by" text not null, "at" text not null, "outcome" text not null, "grant_present" integer not null, "groups_returned" integer null, "duration_ms" double not null)`,
  `create index "contribution_log_at_index" on "contribution_log" ("at")`,
];

const POSTGRES_UP = [
  `create table "organisation" ("id" serial primary key, "ref" varchar(255) not null, "sector" varchar(255) not null, "country" varchar(2) not null)`,
  `alter table "organisation" add constraint "organisation_ref_unique" unique ("ref")`,

  `create table "incident" ("id" serial primary key, "ref" varchar(255) not null, "date" varchar(10) not null, "week" varchar(8) not null, "month" varchar(7) not null, "country" varchar(2) not null, "region" varchar(255) null, "subregion" varchar(255) null, "sector" varchar(255) not null, "severity" int not null, "disruption" boolean not null, "tlp" varchar(12) not null, "organisation_id" int not null, ${SEVERITY_CHECK}, ${TLP_CHECK})`,
  `alter table "incident" add constraint "incident_ref_unique" unique ("ref")`,
  `alter table "incident" add constraint "incident_organisation_id_foreign" foreign key ("organisation_id") references "organisation" ("id") on update cascade on delete cascade`,
  `create index "incident_organisation_id_date_index" on "incident" ("organisation_id", "date")`,
  `create index "incident_date_index" on "incident" ("date")`,

  `create table "exploit" ("id" serial primary key, "ref" varchar(255) not null, "cve" varchar(32) null, "name" varchar(255) not null, "kind" varchar(16) not null, "disclosed" varchar(10) null, ${KIND_CHECK})`,
  `alter table "exploit" add constraint "exploit_ref_unique" unique ("ref")`,

  `create table "incident_exploit" ("incident_id" int not null, "exploit_id" int not null, constraint "incident_exploit_pkey" primary key ("incident_id", "exploit_id"))`,
  `alter table "incident_exploit" add constraint "incident_exploit_incident_id_foreign" foreign key ("incident_id") references "incident" ("id") on update cascade on delete cascade`,
  `alter table "incident_exploit" add constraint "incident_exploit_exploit_id_foreign" foreign key ("exploit_id") references "exploit" ("id") on update cascade on delete cascade`,
  `create index "incident_exploit_exploit_id_index" on "incident_exploit" ("exploit_id")`,

  `create table "actor" ("id" serial primary key, "ref" varchar(255) not null, "name" varchar(255) not null, "catalogued" boolean not null, "country" varchar(2) null)`,
  `alter table "actor" add constraint "actor_ref_unique" unique ("ref")`,

  `create table "incident_actor" ("incident_id" int not null, "actor_id" int not null, constraint "incident_actor_pkey" primary key ("incident_id", "actor_id"))`,
  `alter table "incident_actor" add constraint "incident_actor_incident_id_foreign" foreign key ("incident_id") references "incident" ("id") on update cascade on delete cascade`,
  `alter table "incident_actor" add constraint "incident_actor_actor_id_foreign" foreign key ("actor_id") references "actor" ("id") on update cascade on delete cascade`,
  `create index "incident_actor_actor_id_index" on "incident_actor" ("actor_id")`,

  `create table "indicator" ("id" serial primary key, "type" varchar(64) not null, "value" text not null, "hash" varchar(64) not null, "incident_id" int not null)`,
  `alter table "indicator" add constraint "indicator_incident_id_foreign" foreign key ("incident_id") references "incident" ("id") on update cascade on delete cascade`,
  `create index "indicator_incident_id_index" on "indicator" ("incident_id")`,
  `create index "indicator_hash_index" on "indicator" ("hash")`,

  `create table "contribution_log" ("id" serial primary key, "request_id" varchar(64) not null, "query_id" varchar(255) not null, "measure" varchar(32) not null, "group_by" varchar(255) not null, "at" varchar(32) not null, "outcome" varchar(32) not null, "grant_present" boolean not null, "groups_returned" int null, "duration_ms" double precision not null)`,
  `create index "contribution_log_at_index" on "contribution_log" ("at")`,
];
