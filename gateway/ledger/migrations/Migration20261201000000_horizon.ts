import { Migration } from '@mikro-orm/migrations';

/**
 * The privacy horizon: ledgers stop resetting every calendar month and account over a rolling
 * window instead. Accounts (`accord_account`: one row per node, per member per node, the federation
 * and each member federation-wide; the rows reservations lock) and dated charges (`accord_charge`,
 * indexed on (account, at) so a trailing-window sum is one range scan). The same DDL on SQLite and
 * PostgreSQL; `../entities.ts` describes the same tables.
 *
 * Existing monthly spending is carried over, conservatively: what a period's ledger row spent
 * becomes one charge dated at the first instant of the following month (no charge of the period
 * was made later, so none leaves the window earlier than it should). The monthly table stays for
 * audit and is no longer written.
 */
export class Migration20261201000000_horizon extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "accord_account" ("id" varchar(255) not null primary key, "kind" varchar(24) not null, "node" varchar(64) null, "member" varchar(128) null)`,
    );
    this.addSql(
      `create table "accord_charge" ("account_id" varchar(255) not null, "reservation_id" varchar(64) not null, "at" bigint not null, "rho" bigint not null, "delta" bigint not null, constraint "accord_charge_pkey" primary key ("account_id", "reservation_id"), constraint "accord_charge_amount_check" check ("rho" >= 0 and "delta" >= 0))`,
    );
    this.addSql(`create index "accord_charge_account_at_index" on "accord_charge" ("account_id", "at")`);
    this.addSql(`create index "accord_reservation_created_index" on "accord_reservation" ("created_at")`);
    const rows = await this.execute('select "kind", "period", "node", "member", "spent_rho", "spent_delta" from "accord_ledger" where "spent_rho" > 0 or "spent_delta" > 0');
    const knex = this.getKnex();
    for (const r of rows) {
      const kind = String(r.kind);
      const node = String(r.node);
      const member = r.member === null || r.member === undefined ? null : String(r.member);
      const id = kind === 'NODE' ? `NODE|${node}` : `MEMBER|${node}|${member}`;
      const [y, m] = String(r.period).split('-').map(Number) as [number, number];
      this.addSql(knex.raw('insert into "accord_account" ("id", "kind", "node", "member") values (?, ?, ?, ?) on conflict ("id") do nothing', [id, kind, node, member]));
      this.addSql(
        knex.raw('insert into "accord_charge" ("account_id", "reservation_id", "at", "rho", "delta") values (?, ?, ?, ?, ?)', [id, `period:${r.period}`, Date.UTC(y, m, 1), String(r.spent_rho), String(r.spent_delta)]),
      );
    }
  }

  override down(): void {
    for (const t of ['accord_charge', 'accord_account']) this.addSql(`drop table if exists "${t}"`);
    this.addSql(`drop index if exists "accord_reservation_created_index"`);
  }
}
