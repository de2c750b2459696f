/**
 * The gateway's storage: the migrations create exactly what the entity definitions describe (on
 * SQLite, and on PostgreSQL when ACCORD_TEST_PG_URL is set), re-opening runs nothing twice, and
 * SQLite runs in WAL mode.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { knexOf, openGatewayOrm, type GatewayOrm } from '../../gateway/ledger/orm.js';

const PG_URL = process.env.ACCORD_TEST_PG_URL;
if (!PG_URL) console.log('ACCORD_TEST_PG_URL is not set: the PostgreSQL gateway storage test is skipped.');

/** Entity/schema drift, ignoring CHECK constraints (kept in the migrations only) and the column re-declarations MikroORM derives from them. */
async function drift(orm: GatewayOrm, schema?: string): Promise<string[]> {
  const sql = await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
  return sql
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    // other schemas of a shared test database (other test files' throw-away schemas) are not this drift
    .filter((s) => !/^drop (schema|table) if exists "(?!public")[^"]+"/.test(s) || (schema !== undefined && s.includes(`"${schema}"`)))
    .filter((s) => !/_check\b/.test(s))
    .filter((s) => !/alter column "(kind|status)" type varchar\((8|16)\) using \("(kind|status)"::varchar\((8|16)\)\)/.test(s));
}

interface Db {
  schema?: string;
  open(): Promise<GatewayOrm>;
  dispose(): Promise<void>;
}

function sqlite(): Db {
  const dir = mkdtempSync(join(tmpdir(), 'accord-gw-storage-'));
  return { open: () => openGatewayOrm({ db: join(dir, 'gateway.sqlite') }), dispose: async () => rmSync(dir, { recursive: true, force: true }) };
}

function postgres(): Db {
  const schema = `accord_test_gw_${process.pid}_${Date.now().toString(36)}`;
  return {
    schema,
    open: () => openGatewayOrm({ db: PG_URL!, pgSchema: schema }),
    dispose: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop schema if exists "${schema}" cascade`);
      await c.end();
    },
  };
}

const SUITES: Array<[string, () => Db]> = [['sqlite', sqlite], ...(PG_URL ? ([['postgresql', postgres]] as Array<[string, () => Db]>) : [])];

describe.each(SUITES)('gateway storage on %s', (name, make) => {
  test('migrates to exactly the schema the entities describe; the check has teeth; migrations run once', async () => {
    const db = make();
    try {
      let orm = await db.open();
      expect(await drift(orm, db.schema)).toEqual([]);
      await knexOf(orm).raw('drop index "accord_reservation_member_period_index"');
      expect((await drift(orm, db.schema)).join(';')).toMatch(/accord_reservation_member_period_index/);
      await orm.close(true);
      orm = await db.open(); // a second open applies nothing (the index stays dropped)
      expect((await drift(orm, db.schema)).join(';')).toMatch(/accord_reservation_member_period_index/);
      const executed = await orm.getMigrator().getExecutedMigrations();
      expect(executed.map((m) => m.name)).toEqual(['Migration20250701000000_ledger', 'Migration20261201000000_horizon']);
      if (name === 'sqlite') {
        const mode = (await knexOf(orm).raw('pragma journal_mode')) as Array<{ journal_mode: string }>;
        expect(mode[0]!.journal_mode).toBe('wal');
      }
      await orm.close(true);
    } finally {
      await db.dispose();
    }
  });
});
