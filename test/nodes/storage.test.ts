/**
 * Storage: the migrations create exactly what the entity definitions describe, run once, create
 * the indexes the bounded aggregate relies on, and SQLite runs in WAL mode.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dialectOf, knexOf, openNodeOrm } from '../../nodes/db/orm.js';
import { queryRows } from '../../nodes/db/sql.js';
import { NODE_MIGRATIONS } from '../../nodes/db/migrations/index.js';
import { PG_URL, postgresDb, sqliteDb, tempDir, type TestDb } from './helpers/db.js';

/**
 * Schema differences between entities and the migrated database, ignoring CHECK constraints (kept
 * in the migrations only; MikroORM cannot compare their expressions across platforms) and the
 * enum-like column re-declarations MikroORM derives from them.
 */
async function entityDrift(db: TestDb): Promise<string[]> {
  const sql = await db.orm.schema.getUpdateSchemaSQL({ wrap: false });
  return sql
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    // Other schemas in a shared test database (other test files' throw-away schemas) are not this node's drift.
    .filter((s) => !/^drop (schema|table) if exists "(?!public")[^"]+"/.test(s) || (db.schema !== undefined && s.includes(`"${db.schema}"`)))
    .filter((s) => !/_check\b/.test(s))
    .filter((s) => !/alter column "(kind|tlp)" type varchar\((16|12)\) using \("(kind|tlp)"::varchar\((16|12)\)\)/.test(s));
}

const EXPECTED_INDEXES = [
  'incident_organisation_id_date_index',
  'incident_date_index',
  'incident_ref_unique',
  'incident_exploit_exploit_id_index',
  'incident_actor_actor_id_index',
  'indicator_incident_id_index',
  'indicator_hash_index',
];

async function indexNames(db: TestDb): Promise<string[]> {
  const sql =
    dialectOf(db.orm) === 'postgresql'
      ? 'select indexname as "name" from pg_indexes where schemaname = current_schema()'
      : `select name as "name" from sqlite_master where type = 'index'`;
  return (await queryRows<{ name: string }>(knexOf(db.orm), dialectOf(db.orm), sql)).map((r) => r.name);
}

function suite(name: string, open: () => Promise<TestDb>): void {
  describe(`storage on ${name}`, () => {
    it('migrates to exactly the schema the entities describe', async () => {
      const db = await open();
      try {
        expect(await entityDrift(db)).toEqual([]);
      } finally {
        await db.dispose();
      }
    });

    it('the drift check has teeth: a dropped index is reported', async () => {
      const db = await open();
      try {
        await knexOf(db.orm).raw('drop index "incident_date_index"');
        expect((await entityDrift(db)).join('\n')).toContain('incident_date_index');
      } finally {
        await db.dispose();
      }
    });

    it('creates the indexes the bounded aggregate relies on', async () => {
      const db = await open();
      try {
        const names = await indexNames(db);
        for (const n of EXPECTED_INDEXES) expect(names, n).toContain(n);
      } finally {
        await db.dispose();
      }
    });

    it('has applied every listed migration, and none is pending', async () => {
      const db = await open();
      try {
        const migrator = db.orm.getMigrator();
        expect((await migrator.getExecutedMigrations()).map((m) => m.name)).toEqual(NODE_MIGRATIONS.map((m) => m.name));
        expect(await migrator.getPendingMigrations()).toEqual([]);
      } finally {
        await db.dispose();
      }
    });

    it('rescales δ stored in pico-units to femto-units, exactly, and back without shrinking a charge', async () => {
      const db = await open();
      try {
        const migrator = db.orm.getMigrator();
        const knex = knexOf(db.orm);
        const dialect = dialectOf(db.orm);
        await migrator.down({ to: 'Migration20250701000000_delta_femto' }); // back to δ in pico-units
        await knex.raw(`insert into "grant_member_ledger" ("member", "period", "rho_spent", "delta_spent") values ('m', '2025-06', 7, 1000001)`);
        await knex.raw(`insert into "grant_node_ledger" ("period", "rho_spent", "delta_spent") values ('2025-06', 7, 3000000000000)`);
        await knex.raw(`insert into "grant_charge" ("request_id", "jti", "member", "period", "rho", "delta", "at") values ('r', 'j', 'm', '2025-06', 7, 1, '2025-06-01T00:00:00Z')`);
        await migrator.up();
        const deltas = async () => [
          ...(await queryRows<{ d: unknown }>(knex, dialect, 'select "delta_spent" as "d" from "grant_member_ledger"')),
          ...(await queryRows<{ d: unknown }>(knex, dialect, 'select "delta_spent" as "d" from "grant_node_ledger"')),
          ...(await queryRows<{ d: unknown }>(knex, dialect, 'select "delta" as "d" from "grant_charge"')),
        ].map((r) => Number(r.d));
        expect(await deltas()).toEqual([1_000_001_000, 3_000_000_000_000_000, 1000]);
        const rho = await queryRows<{ r: unknown }>(knex, dialect, 'select "rho_spent" as "r" from "grant_member_ledger"');
        expect(Number(rho[0]!.r)).toBe(7); // ρ keeps its unit
        await knex.raw(`update "grant_charge" set "delta" = 1001`);
        await migrator.down({ to: 'Migration20250701000000_delta_femto' });
        expect(await deltas()).toEqual([1_000_001, 3_000_000_000_000, 2]);
      } finally {
        await db.dispose();
      }
    });

    it('rewrites stored tool names, CVE ids and actor names imported before normalisation into contract keys', async () => {
      const db = await open();
      try {
        const migrator = db.orm.getMigrator();
        const knex = knexOf(db.orm);
        const dialect = dialectOf(db.orm);
        await migrator.down({ to: 'Migration20250801000000_contract_keys' });
        const long = 'L'.repeat(230);
        const exploits: Array<[string, string | null, string, string]> = [
          ['tool:a', null, long, 'tool'],
          ['tool:b', null, 'Black\tCat', 'tool'],
          ['tool:c', null, '\u0001\u0002', 'tool'],
          ['tool:d', null, 'Mimikatz', 'tool'],
          ['CVE-2024-12345678', 'CVE-2024-12345678', 'CVE-2024-12345678', 'n-day'],
          ['CVE-2024-3400', 'CVE-2024-3400', 'CVE-2024-3400', 'n-day'],
        ];
        for (const [ref, cve, name, kind] of exploits) {
          await knex.raw('insert into "exploit" ("ref", "cve", "name", "kind") values (?, ?, ?, ?)', [ref, cve, name, kind]);
        }
        await knex.raw(`insert into "actor" ("ref", "name", "catalogued", "country") values ('actor:x', ?, ?, null), ('actor:y', ?, ?, null)`, ['Storm  \u00850558', false, '\n', false]);
        await migrator.up();
        const ex = await queryRows<{ ref: string; cve: string | null; name: string }>(knex, dialect, 'select "ref", "cve", "name" from "exploit" order by "ref"');
        expect(ex.map((r) => [r.ref, r.cve, r.name])).toEqual([
          ['CVE-2024-3400', 'CVE-2024-3400', 'CVE-2024-3400'],
          ['tool:a', null, 'L'.repeat(200)],
          ['tool:b', null, 'Black Cat'],
          ['tool:d', null, 'Mimikatz'],
        ]);
        const actors = await queryRows<{ name: string }>(knex, dialect, 'select "name" from "actor" order by "ref"');
        expect(actors.map((a) => a.name)).toEqual(['Storm 0558']);
      } finally {
        await db.dispose();
      }
    });
  });
}

suite('SQLite', sqliteDb);
if (PG_URL) suite('PostgreSQL', () => postgresDb(PG_URL));
else {
  describe('storage on PostgreSQL', () => {
    it.skip('skipped: set ACCORD_TEST_PG_URL to run the PostgreSQL suite', () => {});
  });
}

describe('SQLite file', () => {
  it('runs in WAL mode, creates its folder, and does not re-run migrations on reopen', async () => {
    const dir = tempDir();
    const file = join(dir, 'nested', 'deeper', 'node.sqlite');
    try {
      const first = await openNodeOrm({ db: file });
      const mode = await queryRows<{ journal_mode: string }>(knexOf(first), 'sqlite', 'pragma journal_mode');
      expect(mode[0]!.journal_mode).toBe('wal');
      const fk = await queryRows<{ foreign_keys: number }>(knexOf(first), 'sqlite', 'pragma foreign_keys');
      expect(fk[0]!.foreign_keys).toBe(1);
      await first.close(true);
      const second = await openNodeOrm({ db: file });
      const runs = await queryRows<{ n: number }>(knexOf(second), 'sqlite', 'select count(*) as "n" from "mikro_orm_migrations"');
      expect(runs[0]!.n).toBe(NODE_MIGRATIONS.length);
      await second.close(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
