/**
 * Every STIX 2.1 and MISP fixture imports without error, what it holds is countable afterwards, and a
 * second import changes nothing. Runs on SQLite, and on PostgreSQL when ACCORD_TEST_PG_URL is set.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dialectOf, knexOf } from '../../nodes/db/orm.js';
import { queryRows } from '../../nodes/db/sql.js';
import { importFile } from '../../nodes/ingest/index.js';
import { PG_URL, postgresDb, sqliteDb, type TestDb } from '../nodes/helpers/db.js';
import { counts, FIXTURES, importValue, objectsByType, refusal, SECRET, sharedFixtures, type Obj } from './helpers.js';

const STIX_FILES = ['stix-apt1.json', 'stix-poisonivy.json', 'stix-indicators-c2-coa.json', 'attack-ics-18.1.json'];

function distinctByType(objects: Obj[]): Record<string, number> {
  const ids = new Map<string, string>();
  for (const o of objects) ids.set(o.id as string, o.type as string);
  const out: Record<string, number> = {};
  for (const t of ids.values()) out[t] = (out[t] ?? 0) + 1;
  return out;
}

function load(file: string): Obj {
  return JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as Obj;
}

function suite(name: string, open: () => Promise<TestDb>): void {
  describe(`fixtures on ${name}`, () => {
    it('imports every STIX 2.1 bundle; the registry holds each object once, by type; a re-import changes nothing', async () => {
      const db = await open();
      try {
        const expected: Record<string, number> = {};
        for (const f of STIX_FILES) {
          const objects = load(f).objects as Obj[];
          const s = await importFile(db.orm, join(FIXTURES, f), { secret: SECRET });
          expect(s.format).toBe('stix');
          expect(s.objects).toBe(objects.length);
          expect(s.created).toBe(new Set(objects.map((o) => o.id)).size);
          for (const [t, n] of Object.entries(distinctByType(objects))) expected[t] = (expected[t] ?? 0) + n;
        }
        expect(await objectsByType(db.orm)).toEqual(expected);
        const before = await counts(db.orm);
        for (const f of STIX_FILES) {
          const again = await importFile(db.orm, join(FIXTURES, f), { secret: SECRET });
          expect(again.created + again.updated).toBe(0);
          expect(again.skipped).toBe(again.objects);
        }
        expect(await counts(db.orm)).toEqual(before);
      } finally {
        await db.dispose();
      }
    });

    it('stores the Poison Ivy report’s six CVEs as vulnerabilities, its malware as tool families and its indicator values', async () => {
      const db = await open();
      try {
        const bundle = load('stix-poisonivy.json');
        const objects = bundle.objects as Obj[];
        const s = await importFile(db.orm, join(FIXTURES, 'stix-poisonivy.json'), { secret: SECRET });
        const cves = objects
          .filter((o) => o.type === 'vulnerability')
          .map((o) => ((o.external_references as Obj[]).find((r) => r.source_name === 'cve')!.external_id as string).toUpperCase())
          .sort();
        expect(cves).toHaveLength(6);
        const rows = await queryRows<{ cve: string; kind: string }>(knexOf(db.orm), dialectOf(db.orm), 'select "cve", "kind" from "exploit" where "cve" is not null order by "cve"');
        expect(rows.map((r) => r.cve)).toEqual(cves);
        expect(new Set(rows.map((r) => r.kind))).toEqual(new Set(['n-day']));
        const malware = new Set(objects.filter((o) => o.type === 'malware').map((o) => `tool:${String(o.name).trim()}`));
        const tools = await queryRows<{ ref: string }>(knexOf(db.orm), dialectOf(db.orm), `select "ref" from "exploit" where "kind" = 'tool'`);
        expect(new Set(tools.map((t) => t.ref))).toEqual(malware);
        // Every indicator is an OR of equality tests on domains and IPv4 (two on file names, which are not kept).
        const values = Number((await queryRows<{ n: unknown }>(knexOf(db.orm), dialectOf(db.orm), 'select count(*) as "n" from "stix_indicator_value"'))[0]!.n);
        expect(values).toBe(s.indicators.values);
        expect(values).toBeGreaterThan(40);
        expect(s.indicators.unsupportedTests).toBe(2);
        expect(s.indicators.nonSimplePatterns).toBe(0);
        // Nothing in the report is an incident: nothing is contributed and nothing is held.
        expect(s.incidents).toMatchObject({ derived: 0, held: 0 });
      } finally {
        await db.dispose();
      }
    });

    it('a bundle refused after some of its batches were written leaves the store unchanged', async () => {
      const db = await open();
      try {
        await importFile(db.orm, join(FIXTURES, 'stix-poisonivy.json'), { secret: SECRET });
        const before = await counts(db.orm);
        const objects = [...(load('stix-apt1.json').objects as Obj[]), { type: 'identity', spec_version: '2.1', id: 'identity--0f1e2d3c-4b5a-4c6d-8e7f-9a0b1c2d3e4f', created: '2025-13-01T00:00:00Z', modified: '2025-13-01T00:00:00Z', name: 'x' }];
        const e = await refusal(importValue(db.orm, { type: 'bundle', id: 'bundle--0f1e2d3c-4b5a-4c6d-8e7f-9a0b1c2d3e40', objects }, 'stix', { batchSize: 10 }));
        expect(e.code).toBe('STIX_INVALID');
        expect(e.details).toMatchObject({ index: objects.length - 1, field: 'created' });
        expect(await counts(db.orm)).toEqual(before);
      } finally {
        await db.dispose();
      }
    });

    it('resolves APT1’s intrusion set and threat actors against the public actor catalog', async () => {
      const db = await open();
      try {
        await importFile(db.orm, join(FIXTURES, 'stix-apt1.json'), { secret: SECRET });
        const actors = await queryRows<{ name: string; catalogued: unknown }>(knexOf(db.orm), dialectOf(db.orm), 'select "name", "catalogued" from "actor" order by "name"');
        const catalogued = actors.filter((a) => a.catalogued === true || a.catalogued === 1).map((a) => a.name);
        expect(catalogued).toContain('APT1');
        expect(actors.length).toBe(6);
      } finally {
        await db.dispose();
      }
    });
  });
}

suite('SQLite', sqliteDb);
if (PG_URL) suite('PostgreSQL', () => postgresDb(PG_URL));
else {
  describe('fixtures on PostgreSQL', () => {
    it.skip('skipped: set ACCORD_TEST_PG_URL to run the PostgreSQL suite', () => {});
  });
}

describe('TAXII server data (medallion)', () => {
  it('imports each collection as a TAXII 2.1 envelope, keeps the newest version of each object, and is idempotent', async () => {
    const db = await sqliteDb();
    try {
      const data = load('medallion-default_data.json') as { trustgroup1: { collections: { objects: Obj[] }[] } };
      const collections = data.trustgroup1.collections.filter((c) => c.objects.length > 0);
      expect(collections.length).toBeGreaterThan(0);
      let distinct = 0;
      for (const c of collections) {
        const s = await importValue(db.orm, { objects: c.objects });
        expect(s.objects).toBe(c.objects.length);
        distinct += new Set(c.objects.map((o) => o.id)).size;
        expect(s.created).toBe(new Set(c.objects.map((o) => o.id)).size);
        expect(s.created + s.updated + s.skipped).toBe(c.objects.length);
      }
      expect((await counts(db.orm)).stix_object).toBe(distinct);
      // The URL indicator has three versions; the newest (2017-01-27) is the one kept.
      const v = await queryRows<{ version: string; value: string }>(
        knexOf(db.orm),
        'sqlite',
        `select o."version", v."value" from "stix_object" o join "stix_indicator_value" v on v."owner_id" = o."id" where o."stix_id" = 'indicator--6770298f-0fd8-471a-ab8c-1c658a46574e'`,
      );
      expect(v).toEqual([{ version: '2017-01-27T13:49:53.935000000Z', value: 'http://x4z9arb.cn/4712' }]);
      const before = await counts(db.orm);
      for (const c of collections) {
        const s = await importValue(db.orm, { objects: c.objects });
        expect(s.created).toBe(0);
      }
      expect(await counts(db.orm)).toEqual(before);
    } finally {
      await db.dispose();
    }
  });
});

const shared = sharedFixtures();
if (!shared) console.info('[accord] shared fixtures not found (set ACCORD_SHARED_FIXTURES): the MISP fixture test is skipped.');

describe.runIf(shared !== undefined)('MISP fixture (read from the shared fixtures folder)', () => {
  it('imports the Regin event: one event, its hash values kept, the unplaceable incident held and reported; a re-import changes nothing', async () => {
    const db = await sqliteDb();
    try {
      const file = join(shared!, 'misp-event-regin.json');
      const event = (JSON.parse(readFileSync(file, 'utf8')) as { Event: Obj }).Event;
      const attributes = event.Attribute as Obj[];
      const s = await importFile(db.orm, file, { secret: SECRET });
      expect(s.format).toBe('misp');
      expect(await objectsByType(db.orm)).toMatchObject({ incident: 1, indicator: 1 });
      const md5 = new Set(attributes.filter((a) => a.type === 'md5').map((a) => String(a.value).toLowerCase()));
      const stored = await queryRows<{ type: string; value: string }>(knexOf(db.orm), 'sqlite', 'select "type", "value" from "stix_indicator_value"');
      expect(new Set(stored.map((r) => r.value))).toEqual(md5);
      expect(stored.every((r) => r.type === 'file:md5')).toBe(true);
      // Every attribute is accounted for: kept as a value, or reported as a kind the node does not keep.
      expect(s.indicators.values + s.indicators.unsupportedTests + s.indicators.malformedValues).toBe(attributes.length);
      // The event names no victim sector or country: held, and reported as such.
      expect(s.incidents).toMatchObject({ derived: 0, held: 1 });
      expect(Object.keys(s.incidents.heldBy)).toHaveLength(1);
      const before = await counts(db.orm);
      const again = await importFile(db.orm, file, { secret: SECRET });
      expect(again.created + again.updated).toBe(0);
      expect(await counts(db.orm)).toEqual(before);
    } finally {
      await db.dispose();
    }
  });
});

