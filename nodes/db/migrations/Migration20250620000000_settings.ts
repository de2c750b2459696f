import { Migration } from '@mikro-orm/migrations';

/**
 * Node-wide settings (`node_setting`): today the id of the key stored indicator hashes were made
 * with. Hand-written DDL per platform; `../setting-entities.ts` describes the same table.
 */
export class Migration20250620000000_settings extends Migration {
  override up(): void {
    this.addSql(
      isPostgres(this)
        ? `create table "node_setting" ("key" varchar(64) not null, "value" varchar(255) not null, constraint "node_setting_pkey" primary key ("key"))`
        : `create table "node_setting" ("key" text not null, "value" text not null, primary key ("key"))`,
    );
  }

  override down(): void {
    this.addSql('drop table if exists "node_setting"');
  }
}

function isPostgres(m: Migration): boolean {
  const client = (m.getKnex().client as { dialect?: string }).dialect;
  return client === 'postgresql' || client === 'postgres';
}
