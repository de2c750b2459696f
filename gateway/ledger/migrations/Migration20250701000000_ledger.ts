import { Migration } from '@mikro-orm/migrations';

/**
 * The gateway's initial schema: privacy ledgers (one row per node per period and per member per
 * node per period), reservations (one per admitted fresh query) and the answer cache. The same
 * DDL on SQLite and PostgreSQL; `../entities.ts` describes the same tables.
 */
export class Migration20250701000000_ledger extends Migration {
  override up(): void {
    this.addSql(
      `create table "accord_ledger" ("id" varchar(255) not null primary key, "kind" varchar(8) not null, "period" varchar(7) not null, "node" varchar(64) not null, "member" varchar(128) null, "cap_rho" bigint not null, "cap_delta" bigint not null, "spent_rho" bigint not null default 0, "spent_delta" bigint not null default 0, constraint "accord_ledger_kind_check" check ("kind" in ('NODE', 'MEMBER')), constraint "accord_ledger_spent_check" check ("spent_rho" >= 0 and "spent_delta" >= 0))`,
    );
    this.addSql(`create index "accord_ledger_member_period_index" on "accord_ledger" ("member", "period")`);
    this.addSql(
      `create table "accord_reservation" ("id" varchar(36) not null primary key, "member" varchar(128) not null, "query_id" varchar(64) not null, "cache_key" varchar(64) not null, "nodes" text not null, "rho" bigint not null, "delta" bigint not null, "period" varchar(7) not null, "created_at" varchar(32) not null, "status" varchar(16) not null, "finished_at" varchar(32) null, constraint "accord_reservation_status_check" check ("status" in ('RESERVED', 'ANSWERED', 'FAILED')))`,
    );
    this.addSql(`create index "accord_reservation_member_period_index" on "accord_reservation" ("member", "period")`);
    this.addSql(
      `create table "accord_answer_cache" ("cache_key" varchar(64) not null primary key, "query_id" varchar(64) not null, "period" varchar(7) not null, "nodes" text not null, "answer" text not null, "reservation_id" varchar(36) not null, "created_at" varchar(32) not null)`,
    );
  }

  override down(): void {
    for (const t of ['accord_answer_cache', 'accord_reservation', 'accord_ledger']) this.addSql(`drop table if exists "${t}"`);
  }
}
