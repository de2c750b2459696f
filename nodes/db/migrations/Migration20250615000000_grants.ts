import { Migration } from '@mikro-orm/migrations';

/**
 * Grant checks and the node's own privacy ledger: used grant ids (until expiry), ρ/δ spent per
 * member per period and per period for the node, and the append-only charge record.
 * Hand-written DDL per platform; `../grant-entities.ts` describes the same tables.
 */
export class Migration20250615000000_grants extends Migration {
  override up(): void {
    const statements = isPostgres(this) ? POSTGRES_UP : SQLITE_UP;
    for (const sql of statements) this.addSql(sql);
  }

  override down(): void {
    for (const table of ['grant_charge', 'grant_node_ledger', 'grant_member_ledger', 'grant_jti']) this.addSql(`drop table if exists "${table}"`);
  }
}

function isPostgres(m: Migration): boolean {
  const client = (m.getKnex().client as { dialect?: string }).dialect;
  return client === 'postgresql' || client === 'postgres';
}

const SQLITE_UP = [
  `create table "grant_jti" ("jti" text not null, "exp" bigint not null, primary key ("jti"))`,
  `create index "grant_jti_exp_index" on "grant_jti" ("exp")`,
  `create table "grant_member_ledger" ("member" text not null, "period" text not null, "rho_spent" bigint not null, "delta_spent" bigint not null, primary key ("member", "period"))`,
  `create table "grant_node_ledger" ("period" text not null, "rho_spent" bigint not null, "delta_spent" bigint not null, primary key ("period"))`,
  `create table "grant_charge" ("id" integer not null primary key autoincrement, "request_id" text not null, "jti" text not null, "member" text not null, "period" text not null, "rho" bigint not null, "delta" bigint not null, "at" text not null)`,
  `create index "grant_charge_member_period_index" on "grant_charge" ("member", "period")`,
];

const POSTGRES_UP = [
  `create table "grant_jti" ("jti" varchar(255) not null, "exp" bigint not null, constraint "grant_jti_pkey" primary key ("jti"))`,
  `create index "grant_jti_exp_index" on "grant_jti" ("exp")`,
  `create table "grant_member_ledger" ("member" varchar(255) not null, "period" varchar(7) not null, "rho_spent" bigint not null, "delta_spent" bigint not null, constraint "grant_member_ledger_pkey" primary key ("member", "period"))`,
  `create table "grant_node_ledger" ("period" varchar(7) not null, "rho_spent" bigint not null, "delta_spent" bigint not null, constraint "grant_node_ledger_pkey" primary key ("period"))`,
  `create table "grant_charge" ("id" serial primary key, "request_id" varchar(64) not null, "jti" varchar(255) not null, "member" varchar(255) not null, "period" varchar(7) not null, "rho" bigint not null, "delta" bigint not null, "at" varchar(32) not null)`,
  `create index "grant_charge_member_period_index" on "grant_charge" ("member", "period")`,
];
