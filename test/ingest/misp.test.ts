/**
 * MISP event JSON: events with a victim object, tags and galaxies become placed incidents with links and
 * indicator values; versions follow the event timestamp; invalid documents are refused with MISP_INVALID
 * naming the event, the object and the field.
 */
import { describe, expect, it } from 'vitest';
import { dialectOf, knexOf } from '../../nodes/db/orm.js';
import { queryRows } from '../../nodes/db/sql.js';
import { sqliteDb } from '../nodes/helpers/db.js';
import { counts, importValue, incidentRows, refusal, type Obj } from './helpers.js';

const UUID_A = '6a1f0e22-8c3b-4d55-9e4a-0b1c2d3e4f50';
const UUID_B = '7b2e1f33-9d4c-4e66-8f5b-1c2d3e4f5061';

function event(uuid: string, over: Obj = {}): Obj {
  return {
    uuid,
    date: '2025-04-10',
    info: 'Intrusion at a grid operator',
    timestamp: '1744300000',
    threat_level_id: '1',
    Orgc: { uuid: '0c0c0c0c-1111-4222-8333-444455556666', name: 'CERT Example' },
    Tag: [{ name: 'tlp:amber' }, { name: 'misp-galaxy:threat-actor="APT28"' }, { name: 'misp-galaxy:mitre-malware="BlackEnergy - S0089"' }],
    Galaxy: [{ type: 'tool', GalaxyCluster: [{ value: 'Mimikatz' }] }],
    Attribute: [
      { uuid: '11111111-2222-4333-8444-555555555551', type: 'ip-dst', category: 'Network activity', value: '203.0.113.5', to_ids: true },
      { uuid: '11111111-2222-4333-8444-555555555552', type: 'domain', category: 'Network activity', value: 'Update.Example.' },
      { uuid: '11111111-2222-4333-8444-555555555553', type: 'filename|sha256', category: 'Payload delivery', value: `drop.exe|${'C'.repeat(64)}` },
      { uuid: '11111111-2222-4333-8444-555555555554', type: 'vulnerability', category: 'External analysis', value: 'CVE-2021-44228' },
      { uuid: '11111111-2222-4333-8444-555555555555', type: 'text', category: 'Other', value: 'free text is not kept' },
    ],
    Object: [
      {
        name: 'victim',
        uuid: '22222222-3333-4444-8555-666666666661',
        Attribute: [
          { object_relation: 'name', type: 'target-org', value: 'Netzbetreiber Süd' },
          { object_relation: 'sectors', type: 'text', value: 'Energy' },
          { object_relation: 'regions', type: 'target-location', value: 'Germany' },
        ],
      },
    ],
    ...over,
  };
}

describe('MISP import', () => {
  it('maps an event onto a placed incident: victim pseudonym, sector and country, TLP tag, severity, actors, tools, CVEs and indicator values', async () => {
    const db = await sqliteDb();
    try {
      const s = await importValue(db.orm, { response: [{ Event: event(UUID_A) }, { Event: event(UUID_B, { Tag: [{ name: 'tlp:clear' }, { name: 'misp-galaxy:sector="Finance"' }], threat_level_id: '3', Object: [], Attribute: [{ type: 'target-location', value: 'FR', uuid: '33333333-4444-4555-8666-777777777771' }] }) }] }, 'misp');
      expect(s.format).toBe('misp');
      expect(s.incidents).toMatchObject({ derived: 2, held: 0 });
      const rows = (await incidentRows(db.orm)).sort((a, b) => String(a.ref).localeCompare(String(b.ref)));
      expect(rows.map((r) => [r.ref, r.country, r.sector, r.severity, r.tlp])).toEqual([
        [`incident--${UUID_A}`, 'DE', 'energy', 4, 'AMBER'],
        [`incident--${UUID_B}`, 'FR', 'financial-services', 2, 'CLEAR'],
      ]);
      // Event B names no victim: its creator organisation (Orgc) is the unit.
      expect(rows[1]!.org).not.toBe(rows[0]!.org);
      const links = await queryRows<{ ref: string }>(
        knexOf(db.orm),
        dialectOf(db.orm),
        `select e."ref" from "incident_exploit" l join "exploit" e on e."id" = l."exploit_id" join "incident" i on i."id" = l."incident_id" where i."ref" = ? order by 1`,
        [`incident--${UUID_A}`],
      );
      expect(links.map((l) => l.ref)).toEqual(['CVE-2021-44228', 'tool:BlackEnergy', 'tool:Mimikatz']);
      const actors = await queryRows<{ name: string }>(knexOf(db.orm), dialectOf(db.orm), 'select a."name" from "incident_actor" l join "actor" a on a."id" = l."actor_id"');
      expect(actors).toEqual([{ name: 'APT28' }]);
      const ind = await queryRows<{ type: string; value: string }>(knexOf(db.orm), dialectOf(db.orm), 'select "type", "value" from "indicator" order by 1');
      expect(ind).toEqual([
        { type: 'domain-name', value: 'update.example' },
        { type: 'file:sha256', value: 'c'.repeat(64) },
        { type: 'ipv4-addr', value: '203.0.113.5' },
      ]);
      expect(s.indicators.unsupportedTests).toBe(1);
      const names = await queryRows<{ n: number }>(knexOf(db.orm), dialectOf(db.orm), `select count(*) as "n" from "stix_object" where "name" like '%Netzbetreiber%' or "name" like '%CERT Example%'`);
      expect(names[0]!.n).toBe(0);
    } finally {
      await db.dispose();
    }
  });

  it('the event timestamp versions it: the same event is skipped, a newer one replaces it', async () => {
    const db = await sqliteDb();
    try {
      await importValue(db.orm, { Event: event(UUID_A) }, 'misp');
      const before = await counts(db.orm);
      const same = await importValue(db.orm, [{ Event: event(UUID_A) }], 'misp');
      expect(same.created + same.updated).toBe(0);
      expect(await counts(db.orm)).toEqual(before);
      const newer = await importValue(db.orm, { Event: event(UUID_A, { timestamp: '1744400000', Tag: [{ name: 'tlp:red' }] }) }, 'misp');
      expect(newer.byType.incident).toEqual({ created: 0, updated: 1, skipped: 0 });
      expect((await incidentRows(db.orm))[0]!.tlp).toBe('RED');
    } finally {
      await db.dispose();
    }
  });

  it('refuses invalid documents naming the event, the object and the field, storing nothing', async () => {
    const db = await sqliteDb();
    try {
      await importValue(db.orm, { Event: event(UUID_A) }, 'misp');
      const before = await counts(db.orm);
      const attr = (over: Obj) => ({ Event: event(UUID_B, { Attribute: [{ uuid: '44444444-5555-4666-8777-888888888881', type: 'ip-dst', value: '192.0.2.1', ...over }] }) });
      const cases: [unknown, Obj, RegExp][] = [
        [{ Event: event(UUID_B, { uuid: undefined }) }, { index: 0, field: 'Event.uuid', objectId: null }, /UUID/],
        [{ Event: event(UUID_B, { date: '2025-02-30' }) }, { index: 0, field: 'Event.date', objectId: UUID_B }, /YYYY-MM-DD/],
        [{ Event: event(UUID_B, { Tag: [{ name: 'tlp:purple' }] }) }, { index: 0, field: 'Event.Tag[0].name', objectId: UUID_B }, /unknown TLP marking/],
        [{ Event: event(UUID_B, { threat_level_id: '9' }) }, { index: 0, field: 'Event.threat_level_id' }, /1 \(high\)/],
        [attr({ type: 'vulnerability', value: 'Log4Shell' }), { index: 0, field: 'Event.Attribute[0].value', objectId: '44444444-5555-4666-8777-888888888881' }, /CVE id/],
        [attr({ value: 42 }), { index: 0, field: 'Event.Attribute[0].value' }, /string/],
        [{ response: [{ Event: event(UUID_B) }, { Evnt: {} }] }, { index: 1, field: 'Event' }, /each entry must be/],
        [{ hello: 'world' }, { index: null, field: null }, /not a MISP event document/],
      ];
      for (const [doc, details, message] of cases) {
        const e = await refusal(importValue(db.orm, doc, 'misp'));
        expect(e.code).toBe('MISP_INVALID');
        expect(e.details).toMatchObject(details);
        expect(e.message).toMatch(message);
        expect(await counts(db.orm)).toEqual(before);
      }
      const text = JSON.stringify({ Event: event(UUID_B) });
      const broken = text.replace('"info":', '"info" ');
      const e = await refusal(importValue(db.orm, broken, 'misp'));
      expect(e.code).toBe('MISP_INVALID');
      expect(e.details).toMatchObject({ offset: broken.indexOf('"info" ') + '"info" '.length, line: 1 });
      const deep = await refusal(importValue(db.orm, `{"Event": ${'['.repeat(80)}${']'.repeat(80)}}`, 'misp'));
      expect(deep.message).toMatch(/nested deeper than the limit of 64/);
      expect(await counts(db.orm)).toEqual(before);
    } finally {
      await db.dispose();
    }
  });
});
