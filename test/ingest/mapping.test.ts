/**
 * How STIX objects become incident rows (docs/ingest.md): organisation pseudonyms, places, sectors,
 * sightings, links through relationships, held incidents and their reasons, updates by `modified`,
 * revocation and idempotence.
 */
import { describe, expect, it } from 'vitest';
import { dialectOf, knexOf } from '../../nodes/db/orm.js';
import { queryRows } from '../../nodes/db/sql.js';
import { indicatorHash } from '../../nodes/db/indicators.js';
import { organisationKey } from '../../nodes/ingest/index.js';
import { sqliteDb } from '../nodes/helpers/db.js';
import { base, bundle, counts, identity, importValue, incident, incidentRows, location, rel, SECRET, type Obj } from './helpers.js';

async function links(orm: Parameters<typeof incidentRows>[0], table: 'incident_exploit' | 'incident_actor', column: string): Promise<{ ref: string; key: string }[]> {
  const target = table === 'incident_exploit' ? 'exploit' : 'actor';
  const id = table === 'incident_exploit' ? 'exploit_id' : 'actor_id';
  return queryRows(knexOf(orm), dialectOf(orm), `select i."ref" as "ref", t."${column}" as "key" from "${table}" l join "incident" i on i."id" = l."incident_id" join "${target}" t on t."id" = l."${id}" order by 1, 2`);
}

describe('STIX → incident rows', () => {
  it('places an incident at its victim: pseudonymous organisation, sector from the identity, country from its location, severity and disruption from the incident-core extension', async () => {
    const db = await sqliteDb();
    try {
      const org = identity(['government-national', 'not-a-sector'], { name: 'Ministry of Secrets' });
      const loc = location('FR');
      const inc = incident('2025-05-06', { severity: 4, disruption: true, tlp: 'GREEN' });
      const s = await importValue(db.orm, bundle([org, loc, rel('located-at', org, loc), inc, rel('targets', inc, org)]));
      expect(await incidentRows(db.orm)).toEqual([
        { ref: inc.id, date: '2025-05-06', country: 'FR', sector: 'government-facilities', severity: 4, disruption: 1, tlp: 'GREEN', org: organisationKey(SECRET, org.id as string) },
      ]);
      // The victim's name is stored nowhere; the unknown sector value is reported, not dropped silently.
      const named = await queryRows<{ n: number }>(knexOf(db.orm), 'sqlite', `select count(*) as "n" from "stix_object" where "name" like '%Secrets%' or "entity_key" like '%Secrets%'`);
      expect(named[0]!.n).toBe(0);
      expect(s.unknown.sectors).toEqual({ 'not-a-sector': 1 });
      expect(String(organisationKey(SECRET, org.id as string))).toMatch(/^org-[0-9a-f]{32}$/);
    } finally {
      await db.dispose();
    }
  });

  it('a location the incident targets overrides the organisation’s; x_accord_sector overrides its sector; severity defaults apply', async () => {
    const db = await sqliteDb();
    try {
      const org = identity(['energy']);
      const de = location('DE');
      const at = location('AT');
      const inc = base('incident', { name: 'x', created: '2025-06-01T08:00:00Z', modified: '2025-06-01T08:00:00Z', first_seen: '2025-05-30T23:00:00Z', x_accord_sector: 'water' });
      await importValue(db.orm, bundle([org, de, rel('located-at', org, de), inc, rel('targets', inc, org), rel('targets', inc, at), at]), 'stix', { defaultSeverity: 2 });
      expect(await incidentRows(db.orm)).toMatchObject([{ date: '2025-05-30', country: 'AT', sector: 'water', severity: 2, disruption: 0, tlp: 'AMBER' }]);
    } finally {
      await db.dispose();
    }
  });

  it('a sighting is one incident per sighted organisation; count 0 is held as not seen; the reporting identity stands in when no victim is named', async () => {
    const db = await sqliteDb();
    try {
      const a = identity(['financial-services']);
      const b = identity(['technology']);
      const reporter = identity(['telecommunications']);
      const nl = location('NL');
      const tool = base('malware', { name: 'QakBot', is_family: true });
      const seen = base('sighting', { sighting_of_ref: tool.id, where_sighted_refs: [a.id, b.id, nl.id], count: 12, first_seen: '2025-07-01T00:00:00Z', x_accord_severity: 5 });
      const none = base('sighting', { sighting_of_ref: tool.id, where_sighted_refs: [a.id, nl.id], count: 0 });
      const reported = incident('2025-07-02', { extra: { created_by_ref: reporter.id } });
      const s = await importValue(db.orm, bundle([a, b, reporter, nl, tool, seen, none, reported, rel('targets', reported, nl)]));
      const rows = await incidentRows(db.orm);
      expect(rows.map((r) => [r.ref, r.sector, r.country, r.severity])).toEqual(
        [
          [`${seen.id}/${organisationKey(SECRET, a.id as string)}`, 'financial-services', 'NL', 5],
          [`${seen.id}/${organisationKey(SECRET, b.id as string)}`, 'information-technology', 'NL', 5],
          [reported.id, 'communications', 'NL', 3],
        ].sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1)),
      );
      expect(s.incidents).toMatchObject({ derived: 3, held: 1, heldBy: { 'not-seen': 1 } });
      const tools = await links(db.orm, 'incident_exploit', 'name');
      expect(tools.filter((t) => t.key === 'QakBot')).toHaveLength(2);
    } finally {
      await db.dispose();
    }
  });

  it('holds incidents that cannot be placed and reports why (no organisation, no country, no sector); unknown countries are reported', async () => {
    const db = await sqliteDb();
    try {
      const noPlace = identity(['energy']);
      const noSector = identity(['basket-weaving']);
      const atlantis = location('XX');
      const fr = location('FR');
      const i1 = incident('2025-01-01');
      const i2 = incident('2025-01-02');
      const i3 = incident('2025-01-03');
      const s = await importValue(
        db.orm,
        bundle([noPlace, noSector, atlantis, fr, rel('located-at', noPlace, atlantis), rel('located-at', noSector, fr), i1, i2, rel('targets', i2, noPlace), i3, rel('targets', i3, noSector)]),
      );
      expect(s.incidents).toMatchObject({ derived: 0, held: 3, heldBy: { 'no-organisation': 1, 'no-country': 1, 'no-sector': 1 } });
      expect(s.unknown).toMatchObject({ sectors: { 'basket-weaving': 1 }, countries: { XX: 1 } });
      const held = await queryRows<{ stix_id: string; held: string }>(knexOf(db.orm), 'sqlite', `select "stix_id", "held" from "stix_object" where "held" is not null order by "held"`);
      expect(held).toEqual([
        { stix_id: i2.id, held: 'no-country' },
        { stix_id: i1.id, held: 'no-organisation' },
        { stix_id: i3.id, held: 'no-sector' },
      ]);
      // Placing the organisation later (a new location for it) builds the incident.
      const again = await importValue(db.orm, bundle([rel('located-at', noPlace, fr), fr]));
      expect(again.incidents.derived).toBe(1);
      expect((await incidentRows(db.orm)).map((r) => [r.ref, r.country])).toEqual([[i2.id, 'FR']]);
    } finally {
      await db.dispose();
    }
  });

  it('links vulnerabilities, tools, actors (also through an attributed campaign) and indicator values', async () => {
    const db = await sqliteDb();
    try {
      const org = identity(['energy']);
      const de = location('DE');
      const vuln = base('vulnerability', { name: 'Citrix Bleed', external_references: [{ source_name: 'cve', external_id: 'cve-2023-4966' }], x_accord_disclosed: '2023-10-10' });
      const tool = base('tool', { name: 'Mimikatz' });
      const campaign = base('campaign', { name: 'Winter' });
      const set = base('intrusion-set', { name: 'Sandworm Team', aliases: ['Sandworm'] });
      const actor = base('threat-actor', { name: 'Fancy Bear' });
      const ind = base('indicator', { pattern: "[ipv4-addr:value = '198.51.100.007' OR domain-name:value = 'Bad.Example.']", pattern_type: 'stix', valid_from: '2025-01-01T00:00:00Z' });
      const inc = incident('2023-10-09');
      await importValue(
        db.orm,
        bundle([
          org, de, rel('located-at', org, de), vuln, tool, campaign, set, actor, ind, inc,
          rel('targets', inc, org), rel('targets', inc, vuln), rel('uses', inc, tool), rel('attributed-to', inc, campaign), rel('attributed-to', campaign, set),
          rel('attributed-to', inc, actor), rel('indicates', ind, inc),
        ]),
      );
      expect((await links(db.orm, 'incident_exploit', 'ref')).map((l) => l.key)).toEqual(['CVE-2023-4966', 'tool:Mimikatz']);
      const actors = await queryRows<{ name: string; catalogued: number }>(knexOf(db.orm), 'sqlite', 'select a."name", a."catalogued" from "incident_actor" l join "actor" a on a."id" = l."actor_id" order by 1');
      expect(actors.map((a) => a.name).sort()).toEqual(['APT28', 'Sandworm'].sort());
      expect(actors.every((a) => a.catalogued === 1)).toBe(true);
      const kinds = await queryRows<{ kind: string }>(knexOf(db.orm), 'sqlite', `select "kind" from "exploit" where "cve" = 'CVE-2023-4966'`);
      expect(kinds).toEqual([{ kind: 'zero-day' }]);
      const values = await queryRows<{ type: string; value: string; hash: string }>(knexOf(db.orm), 'sqlite', 'select "type", "value", "hash" from "indicator" order by 1');
      expect(values).toEqual([
        { type: 'domain-name', value: 'bad.example', hash: indicatorHash(SECRET, 'domain-name', 'bad.example') },
        { type: 'ipv4-addr', value: '198.51.100.7', hash: indicatorHash(SECRET, 'ipv4-addr', '198.51.100.7') },
      ]);
    } finally {
      await db.dispose();
    }
  });

  it('a newer version replaces an object and rebuilds what depends on it; an older or equal one is skipped; revocation withdraws the incident', async () => {
    const db = await sqliteDb();
    try {
      const org = identity(['energy']);
      const de = location('DE');
      const inc = incident('2025-02-02', { severity: 2, tlp: 'GREEN' });
      const objects: Obj[] = [org, de, rel('located-at', org, de), inc, rel('targets', inc, org)];
      await importValue(db.orm, bundle(objects));
      const first = await counts(db.orm);

      const again = await importValue(db.orm, bundle(objects));
      expect(again).toMatchObject({ created: 0, updated: 0, skipped: objects.length });
      expect(await counts(db.orm)).toEqual(first);

      const newer = { ...inc, modified: '2025-02-03T00:00:00.000Z', extensions: { ...(inc.extensions as Obj) } };
      (newer.extensions as Record<string, Obj>)['extension-definition--ef765651-680c-498d-9894-99799f2fa126'] = { extension_type: 'property-extension', criticality: 95 };
      const orgMoved = { ...org, modified: '2025-03-01T00:00:00.000Z', sectors: ['water'] };
      // The newer version, then the original again (now older): the newer one stays.
      const s = await importValue(db.orm, bundle([newer, inc, orgMoved]));
      expect(s.byType.incident).toEqual({ created: 0, updated: 1, skipped: 1 });
      expect(s.byType.identity).toEqual({ created: 0, updated: 1, skipped: 0 });
      expect(await incidentRows(db.orm)).toMatchObject([{ ref: inc.id, severity: 5, sector: 'water', country: 'DE' }]);
      expect(await counts(db.orm)).toEqual(first);

      const revoked = { ...newer, modified: '2025-02-04T00:00:00.000Z', revoked: true };
      const r = await importValue(db.orm, bundle([revoked]));
      expect(r.incidents).toMatchObject({ derived: 0, held: 1, heldBy: { revoked: 1 } });
      expect(await incidentRows(db.orm)).toEqual([]);
    } finally {
      await db.dispose();
    }
  });
});
