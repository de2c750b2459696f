import { Migration } from '@mikro-orm/migrations';

/**
 * The node's ledger accounts over a rolling horizon instead of calendar months: its caps apply to
 * the sum of the charge record (`grant_charge`, already dated) over the trailing window, read
 * through indexes on (member, at) and (at). One lock row serialises charging transactions on
 * PostgreSQL (SQLite runs them one at a time). The monthly tables stay for audit and are no
 * longer written. The same SQL on both platforms.
 */
export class Migration20261201000000_horizon extends Migration {
  override up(): void {
    this.addSql('create table "grant_ledger_lock" ("id" integer not null primary key)');
    this.addSql('insert into "grant_ledger_lock" ("id") values (1)');
    this.addSql('create index "grant_charge_member_at_index" on "grant_charge" ("member", "at")');
    this.addSql('create index "grant_charge_at_index" on "grant_charge" ("at")');
  }

  override down(): void {
    this.addSql('drop index if exists "grant_charge_at_index"');
    this.addSql('drop index if exists "grant_charge_member_at_index"');
    this.addSql('drop table if exists "grant_ledger_lock"');
  }
}
