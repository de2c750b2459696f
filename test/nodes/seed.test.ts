/**
 * Seeding a NodeDataset: derived columns, indicator hashing, validation with record/field details,
 * and all-or-nothing transactions (SQLite, and PostgreSQL when ACCORD_TEST_PG_URL is set).
 */
import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NodeDataset } from '../../schema/contract/dataset.js';
import { AccordError } from '../../schema/errors.js';
import { dialectOf, knexOf } from '../../nodes/db/orm.js';
import { queryRows } from '../../nodes/db/sql.js';
import { seedDataset } from '../../nodes/db/seed.js';
import { isoWeek } from '../../schema/contract/calendar.js';
import { m49RegionLookup, type RegionLookup } from '../../nodes/db/regions.js';
import { runContribution } from '../../nodes/contribution/run.js';
import { oracleContribution } from '../../nodes/contribution/oracle.js';
import { makeDataset } from './helpers/dataset.js';
import { PG_URL, postgresDb, sqliteDb, type TestDb } from './helpers/db.js';

const SECRET = 'seed-test-secret-0123456789';

function small(): NodeDataset {
  return {
    organisations: [
      { id: 'org-a', sector: 'energy', country: 'DE' },
      { id: 'org-b', sector: 'water', country: 'FR' },
    ],
    exploits: [
      { id: 'CVE-2023-4966', cve: 'CVE-2023-4966', name: 'Citrix Bleed', kind: 'n-day', disclosed: '2023-10-10' },
      { id: 'tool:Mimikatz', name: 'Mimikatz', kind: 'tool' },
    ],
    actors: [{ id: 'a1', name: 'APT28', catalogued: true, country: 'RU' }],
    incidents: [
      {
        id: 'i1', date: '2024-12-30', country: 'DE', sector: 'energy', severity: 4, disruption: true, tlp: 'GREEN', organisation: 'org-a',
        exploits: ['CVE-2023-4966', 'tool:Mimikatz'], actors: ['a1'],
        indicators: [{ type: 'domain-name', value: ' Evil.Example.COM. ' }, { type: 'ipv4-addr', value: '010.001.002.003' }],
      },
      { id: 'i2', date: '2021-01-03', country: 'JP', sector: 'water', severity: 1, disruption: false, tlp: 'RED', organisation: 'org-b', exploits: [], actors: [], indicators: [] },
    ],
  };
}

async function counts(db: TestDb): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ['organisation', 'exploit', 'actor', 'incident', 'incident_exploit', 'incident_actor', 'indicator']) {
    const rows = await queryRows<{ n: unknown }>(knexOf(db.orm), dialectOf(db.orm), `select count(*) as "n" from "${t}"`);
    out[t] = Number(rows[0]!.n);
  }
  return out;
}

const EMPTY = { organisation: 0, exploit: 0, actor: 0, incident: 0, incident_exploit: 0, incident_actor: 0, indicator: 0 };

function suite(name: string, open: () => Promise<TestDb>): void {
  describe(`seeding on ${name}`, () => {
    let db: TestDb;
    beforeEach(async () => {
      db = await open();
    });
    afterEach(async () => {
      await db.dispose();
    });

    it('stores derived week, month, region and subregion, and keyed indicator hashes', async () => {
      const summary = await seedDataset(db.orm, small(), { secret: SECRET });
      expect(summary).toMatchObject({ organisations: 2, exploits: 2, actors: 1, incidents: 2, incidentExploits: 2, incidentActors: 1, indicators: 2 });
      const rows = await queryRows<Record<string, unknown>>(knexOf(db.orm), dialectOf(db.orm), 'select "ref", "week", "month", "region", "subregion", "disruption" from "incident" order by "ref"');
      expect(rows.map((r) => ({ ...r, disruption: Boolean(r.disruption) }))).toEqual([
        { ref: 'i1', week: '2025-W01', month: '2024-12', region: 'Europe', subregion: 'Western Europe', disruption: true },
        { ref: 'i2', week: '2020-W53', month: '2021-01', region: 'Asia', subregion: 'Eastern Asia', disruption: false },
      ]);
      const ind = await queryRows<{ type: string; value: string; hash: string }>(knexOf(db.orm), dialectOf(db.orm), 'select "type", "value", "hash" from "indicator" order by "type"');
      expect(ind.map((r) => [r.type, r.value])).toEqual([
        ['domain-name', 'evil.example.com'],
        ['ipv4-addr', '10.1.2.3'],
      ]);
      for (const r of ind) expect(r.hash).toBe(createHmac('sha256', SECRET).update(`${r.type}:${r.value}`).digest('hex'));
    });

    const bad: [string, (d: NodeDataset) => void, { record: string; id: string | null; field: string }][] = [
      ['unknown country', (d) => (d.incidents[1]!.country = 'XX'), { record: 'incident', id: 'i2', field: 'country' }],
      ['lower-case country', (d) => (d.organisations[0]!.country = 'de'), { record: 'organisation', id: 'org-a', field: 'country' }],
      ['severity 6', (d) => (d.incidents[1]!.severity = 6), { record: 'incident', id: 'i2', field: 'severity' }],
      ['severity 2.5', (d) => (d.incidents[0]!.severity = 2.5), { record: 'incident', id: 'i1', field: 'severity' }],
      ['unknown organisation', (d) => (d.incidents[1]!.organisation = 'org-z'), { record: 'incident', id: 'i2', field: 'organisation' }],
      ['unknown exploit', (d) => d.incidents[1]!.exploits.push('CVE-1999-0001'), { record: 'incident', id: 'i2', field: 'exploits' }],
      ['unknown actor', (d) => d.incidents[1]!.actors.push('nobody'), { record: 'incident', id: 'i2', field: 'actors' }],
      ['30 February', (d) => (d.incidents[1]!.date = '2025-02-30'), { record: 'incident', id: 'i2', field: 'date' }],
      ['US date format', (d) => (d.incidents[1]!.date = '02/03/2025'), { record: 'incident', id: 'i2', field: 'date' }],
      ['unknown TLP', (d) => (d.incidents[1]!.tlp = 'WHITE' as never), { record: 'incident', id: 'i2', field: 'tlp' }],
      ['unknown sector', (d) => (d.incidents[1]!.sector = 'crypto'), { record: 'incident', id: 'i2', field: 'sector' }],
      ['duplicate incident id', (d) => d.incidents.push({ ...d.incidents[1]! }), { record: 'incident', id: 'i2', field: 'id' }],
      ['bad CVE id', (d) => (d.exploits[0]!.cve = 'CVE-23-1'), { record: 'exploit', id: 'CVE-2023-4966', field: 'cve' }],
      ['unknown exploit kind', (d) => (d.exploits[1]!.kind = 'malware' as never), { record: 'exploit', id: 'tool:Mimikatz', field: 'kind' }],
      ['malformed IPv4 indicator', (d) => d.incidents[1]!.indicators.push({ type: 'ipv4-addr', value: '300.1.1.1' }), { record: 'indicator', id: 'i2', field: 'indicators.value' }],
    ];
    for (const [label, mutate, details] of bad) {
      it(`refuses ${label} with INVALID_PARAMETER naming the record and field, and stores nothing`, async () => {
        const d = small();
        mutate(d);
        const err = await seedDataset(db.orm, d, { secret: SECRET }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(AccordError);
        expect((err as AccordError).code).toBe('INVALID_PARAMETER');
        expect((err as AccordError).details).toEqual(details);
        expect(await counts(db)).toEqual(EMPTY);
      });
    }

    it('rolls everything back when the database fails after rows were written', async () => {
      const data = makeDataset({ organisations: 20, incidents: 2000, seed: 5, indicatorsPerIncident: 2 });
      // the indicator insert comes last: make it fail at the database, after all incidents went in
      await knexOf(db.orm).raw('drop table "indicator"');
      const err = await seedDataset(db.orm, data, { secret: SECRET, maxParamsPerStatement: 500 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      const c: Record<string, number> = {};
      for (const t of ['organisation', 'exploit', 'actor', 'incident', 'incident_exploit', 'incident_actor']) {
        c[t] = Number((await queryRows<{ n: unknown }>(knexOf(db.orm), dialectOf(db.orm), `select count(*) as "n" from "${t}"`))[0]!.n);
      }
      expect(c).toEqual({ organisation: 0, exploit: 0, actor: 0, incident: 0, incident_exploit: 0, incident_actor: 0 });
    });

    it('adds a second dataset that refers to stored organisations, and refuses ids already stored', async () => {
      await seedDataset(db.orm, small(), { secret: SECRET });
      const more: NodeDataset = {
        organisations: [],
        exploits: [],
        actors: [],
        incidents: [{ id: 'i3', date: '2025-03-01', country: 'DE', sector: 'energy', severity: 2, disruption: false, tlp: 'CLEAR', organisation: 'org-a', exploits: ['tool:Mimikatz'], actors: [], indicators: [] }],
      };
      await seedDataset(db.orm, more, { secret: SECRET });
      expect((await counts(db)).incident).toBe(3);
      const again = await seedDataset(db.orm, more, { secret: SECRET }).catch((e: unknown) => e);
      expect((again as AccordError).details).toEqual({ record: 'incident', id: 'i3', field: 'id' });
      expect((await counts(db)).incident).toBe(3);
      // ORM-managed inserts still get fresh ids after explicit-id seeding
      const em = db.orm.em.fork();
      const org = em.create('Organisation', { ref: 'org-new', sector: 'water', country: 'PL' });
      await em.flush();
      expect((org as { id: number }).id).toBeGreaterThan(2);
    });

    it('keeps incidents whose country has no region out of REGION groups (SQL and oracle agree)', async () => {
      const regions: RegionLookup = (c) => (c === 'JP' ? { region: null, subregion: null } : m49RegionLookup(c));
      const d = small();
      d.incidents[1]!.tlp = 'GREEN';
      await seedDataset(db.orm, d, { secret: SECRET, regions });
      const req = { queryId: 'r', measure: 'INCIDENTS' as const, groupBy: ['REGION' as const], bounds: { maxPartitions: 10, maxPerPartition: 10 } };
      const sql = await runContribution(db.orm, req);
      expect(sql).toEqual(oracleContribution(d, req, { regions }));
      expect(sql.groups).toEqual([{ key: ['Europe'], count: 1, sum: null, disrupted: null }]);
      const all = await runContribution(db.orm, { ...req, groupBy: ['COUNTRY'] });
      expect(all.groups.map((g) => g.key[0])).toEqual(['DE', 'JP']);
    });
  });
}

suite('SQLite', sqliteDb);
if (PG_URL) suite('PostgreSQL', () => postgresDb(PG_URL));
else {
  describe('seeding on PostgreSQL', () => {
    it.skip('skipped: set ACCORD_TEST_PG_URL to run the PostgreSQL suite', () => {});
  });
}

describe('ISO weeks', () => {
  it('follow ISO 8601 around the turn of the year', () => {
    expect(isoWeek('2025-02-14')).toBe('2025-W07');
    expect(isoWeek('2024-12-30')).toBe('2025-W01');
    expect(isoWeek('2021-01-03')).toBe('2020-W53');
    expect(isoWeek('2026-12-31')).toBe('2026-W53');
    expect(isoWeek('2027-01-01')).toBe('2026-W53');
    expect(isoWeek('2027-01-04')).toBe('2027-W01');
  });
});

describe('datasets of the synthetic federation generator', () => {
  it('seed cleanly and the SQL agrees with the oracle on them', async () => {
    const { generateFederation } = await import('../../scripts/synth/index.js');
    const fed = generateFederation({ seed: 'node-tests', incidentsPerNode: 2500 });
    const [nodeId, dataset] = Object.entries(fed.datasets)[0]!;
    const db = await sqliteDb();
    try {
      const summary = await seedDataset(db.orm, dataset, { secret: SECRET });
      expect(summary.incidents).toBe(dataset.incidents.length);
      for (const groupBy of [['COUNTRY', 'SECTOR'], ['EXPLOIT'], ['TOOL', 'MONTH'], ['ACTOR']] as const) {
        const req = { queryId: `synth-${nodeId}`, measure: 'INCIDENTS' as const, groupBy: [...groupBy], bounds: { maxPartitions: 10_000, maxPerPartition: 100_000 } };
        const ref = oracleContribution(dataset, req);
        expect(ref.groups.length, groupBy.join('×')).toBeGreaterThan(0);
        expect(await runContribution(db.orm, req)).toEqual(ref);
      }
    } finally {
      await db.dispose();
    }
  });
});
