/**
 * Imports under the federation's indicator key: indicator values are hashed under it (pseudonyms
 * and keyed ids stay under the node secret), its id is recorded, and an import under another key is
 * refused while indicators are stored — nothing of it written. SQLite, and PostgreSQL when
 * ACCORD_TEST_PG_URL is set.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { indicatorHash } from '../../schema/contract/indicator.js';
import { ContributionService } from '../../nodes/contribution/service.js';
import { INDICATOR_KEY_SETTING, indicatorKeyId } from '../../nodes/db/indicator-key.js';
import { dialectOf, knexOf } from '../../nodes/db/orm.js';
import { exec, queryRows } from '../../nodes/db/sql.js';
import { organisationKey } from '../../nodes/ingest/index.js';
import { PG_URL, postgresDb, sqliteDb, type TestDb } from '../nodes/helpers/db.js';
import { base, bundle, counts, identity, importValue, incident, incidentRows, location, refusal, rel, SECRET, type Obj } from './helpers.js';

const KEY = 'federation-indicator-key-for-ingest';
const OTHER_KEY = 'another-indicator-key-for-ingest';

/** An incident of an identity in DE, indicated by an indicator over `domain`. */
function indicated(domain: string, date = '2025-03-03'): { objects: Obj[]; org: Obj } {
  const org = identity(['energy']);
  const de = location('DE');
  const inc = incident(date, { tlp: 'GREEN' });
  const ind = base('indicator', { pattern: `[domain-name:value = '${domain}']`, pattern_type: 'stix', valid_from: '2025-01-01T00:00:00Z' });
  return { org, objects: [org, de, rel('located-at', org, de), inc, rel('targets', inc, org), ind, rel('indicates', ind, inc)] };
}

/** An incident without indicators. */
function plain(date = '2025-03-04'): Obj[] {
  const org = identity(['water']);
  const fr = location('FR');
  const inc = incident(date, { tlp: 'GREEN' });
  return [org, fr, rel('located-at', org, fr), inc, rel('targets', inc, org)];
}

function suite(name: string, open: () => Promise<TestDb>): void {
  describe(`imports under an indicator key on ${name}`, () => {
    let db: TestDb;
    beforeEach(async () => {
      db = await open();
    });
    afterEach(async () => {
      await db?.dispose();
    });

    const rows = <T>(sql: string) => queryRows<T>(knexOf(db.orm), dialectOf(db.orm), sql);

    it('hashes indicator values under the indicator key, keeps pseudonyms under the node secret, and records the key id', async () => {
      const { objects, org } = indicated('Bad.Example.');
      await importValue(db.orm, bundle(objects), 'stix', { indicatorKey: KEY });
      const expected = indicatorHash(KEY, 'domain-name', 'bad.example');
      expect(await rows('select "type", "value", "hash" from "indicator"')).toEqual([{ type: 'domain-name', value: 'bad.example', hash: expected }]);
      expect(await rows('select "hash" from "stix_indicator_value"')).toEqual([{ hash: expected }]);
      expect((await incidentRows(db.orm))[0]).toMatchObject({ org: organisationKey(SECRET, org.id as string) });
      expect(await rows('select "key", "value" from "node_setting"')).toEqual([{ key: INDICATOR_KEY_SETTING, value: indicatorKeyId(KEY) }]);

      // the node answers the gateway's hash of the analyst's value
      const service = new ContributionService({ orm: db.orm, nodeId: 'n', indicatorKey: KEY, nodeSecret: SECRET });
      const res = await service.contribute({ queryId: 'q', measure: 'INCIDENTS', groupBy: ['COUNTRY'], filter: { indicators: [expected] }, bounds: { maxPartitions: 1, maxPerPartition: 1 } });
      expect(res.groups).toEqual([{ key: ['DE'], count: 1, sum: null, disrupted: null }]);
    });

    it('without an indicator key hashes under the node secret and records that key', async () => {
      await importValue(db.orm, bundle(indicated('bad.example').objects));
      expect(await rows('select "hash" from "indicator"')).toEqual([{ hash: indicatorHash(SECRET, 'domain-name', 'bad.example') }]);
      expect(await rows('select "value" from "node_setting"')).toEqual([{ value: indicatorKeyId(SECRET) }]);
    });

    it('refuses an import under another key while indicators are stored, writing nothing of it', async () => {
      await importValue(db.orm, bundle(indicated('bad.example').objects), 'stix', { indicatorKey: KEY });
      const before = await counts(db.orm);
      for (const other of [{ indicatorKey: OTHER_KEY }, {}]) {
        const e = await refusal(importValue(db.orm, bundle([...indicated('worse.example').objects, ...plain()]), 'stix', other));
        expect(e.code).toBe('CONFIG_INVALID');
        expect(e.details).toMatchObject({ field: 'indicatorKey', storedKeyId: indicatorKeyId(KEY) });
        expect(e.message).toMatch(/another key/);
        expect(await counts(db.orm)).toEqual(before);
      }
      // the same key goes on
      await importValue(db.orm, bundle(indicated('worse.example').objects), 'stix', { indicatorKey: KEY });
      expect((await counts(db.orm)).indicator).toBe(before.indicator + 1);
    });

    it('lets a store without indicators change key', async () => {
      await importValue(db.orm, bundle(plain()), 'stix', { indicatorKey: KEY });
      await importValue(db.orm, bundle(indicated('bad.example').objects), 'stix', { indicatorKey: OTHER_KEY });
      expect(await rows('select "value" from "node_setting"')).toEqual([{ value: indicatorKeyId(OTHER_KEY) }]);
      expect(await rows('select "hash" from "indicator"')).toEqual([{ hash: indicatorHash(OTHER_KEY, 'domain-name', 'bad.example') }]);
    });

    it('reads a store without a recorded key id as hashed under the node secret', async () => {
      await importValue(db.orm, bundle(indicated('bad.example').objects));
      await exec(knexOf(db.orm), 'delete from "node_setting"');
      expect((await refusal(importValue(db.orm, bundle(plain()), 'stix', { indicatorKey: KEY }))).code).toBe('CONFIG_INVALID');
      await importValue(db.orm, bundle(plain()));
      expect(await rows('select "value" from "node_setting"')).toEqual([{ value: indicatorKeyId(SECRET) }]);
    });
  });
}

suite('SQLite', sqliteDb);

const pgUrl = PG_URL;
if (pgUrl) {
  suite('PostgreSQL', () => postgresDb(pgUrl));
} else {
  describe('imports under an indicator key on PostgreSQL', () => {
    it.skip('skipped: set ACCORD_TEST_PG_URL to run the PostgreSQL suite', () => {});
  });
}
