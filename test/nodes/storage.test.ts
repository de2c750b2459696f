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
