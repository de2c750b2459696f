/** Files holding data are created readable by their owner only: node and gateway databases (and their WAL). */
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { openGatewayOrm } from '../../gateway/ledger/orm.js';
import { openNodeOrm } from '../../nodes/db/orm.js';
import { tempDir } from '../nodes/helpers/db.js';

const dir = tempDir('accord-modes-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test.each([
  ['a node database', (db: string) => openNodeOrm({ db })],
  ['a gateway database', (db: string) => openGatewayOrm({ db })],
])('%s is created 0600, its write-ahead log too', async (_, open) => {
  const db = join(dir, `${_.replace(/ /g, '-')}.sqlite`);
  const orm = await open(db);
  try {
    expect(statSync(db).mode & 0o777).toBe(0o600);
    if (existsSync(`${db}-wal`)) expect(statSync(`${db}-wal`).mode & 0o777).toBe(0o600);
  } finally {
    await orm.close(true);
  }
});
