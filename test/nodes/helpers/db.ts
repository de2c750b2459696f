/** Throw-away node databases for tests: SQLite files in a temp folder, or a fresh PostgreSQL schema. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { knexOf, openNodeOrm, type NodeOrm } from '../../../nodes/db/orm.js';

export const PG_URL = process.env.ACCORD_TEST_PG_URL;

export interface TestDb {
  orm: NodeOrm;
  /** The PostgreSQL schema holding this database's tables (undefined for SQLite). */
  schema?: string;
  /** Closes the ORM and removes the file / schema. */
  dispose(): Promise<void>;
}

export function tempDir(prefix = 'accord-node-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function sqliteDb(): Promise<TestDb> {
  const dir = tempDir();
  const orm = await openNodeOrm({ db: join(dir, 'node.sqlite') });
  return {
    orm,
    async dispose() {
      await orm.close(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function postgresDb(url: string): Promise<TestDb> {
  const schema = `accord_test_${randomBytes(6).toString('hex')}`;
  const orm = await openNodeOrm({ db: url, pgSchema: schema });
  return {
    orm,
    schema,
    async dispose() {
      await knexOf(orm).raw(`drop schema if exists "${schema}" cascade`);
      await orm.close(true);
    },
  };
}
