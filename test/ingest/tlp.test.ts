/**
 * TLP markings on import: TLP 2.0 and TLP 1.0 ids, the most restrictive marking wins, markings defined
 * in the bundle, the level of unmarked records — and AMBER+STRICT / RED records never influence a
 * contribution.
 */
import { describe, expect, it } from 'vitest';
import type { ContributionRequest } from '../../schema/contract/contribution.js';
import { runContribution } from '../../nodes/contribution/run.js';
import { nodeStats } from '../../nodes/db/stats.js';
import { TLP1_MARKING_IDS, TLP2_EXTENSION_ID, TLP2_MARKING_IDS } from '../../nodes/ingest/index.js';
import { sqliteDb } from '../nodes/helpers/db.js';
import { base, bundle, counts, identity, importValue, incident, incidentRows, location, marking, refusal, rel, sid, type Obj } from './helpers.js';

/** A victim in `country` with `sector`, and the objects that place it. */
function victim(country: string, sector: string): { org: Obj; objects: Obj[] } {
  const org = identity([sector]);
  const loc = location(country);
  return { org, objects: [org, loc, rel('located-at', org, loc)] };
}

describe('TLP levels of imported incidents', () => {
  it('maps the TLP 2.0 ids and the TLP 1.0 ids (WHITE → CLEAR), and the most restrictive marking wins', async () => {
    const db = await sqliteDb();
    try {
      const v = victim('DE', 'energy');
      const cases: [string, Obj][] = [
        ['CLEAR', incident('2025-01-02', { extra: { object_marking_refs: [TLP1_MARKING_IDS.WHITE] } })],
        ['GREEN', incident('2025-01-03', { extra: { object_marking_refs: [TLP1_MARKING_IDS.GREEN] } })],
        ['AMBER', incident('2025-01-04', { extra: { object_marking_refs: [TLP1_MARKING_IDS.AMBER] } })],
        ['RED', incident('2025-01-05', { extra: { object_marking_refs: [TLP1_MARKING_IDS.RED] } })],
        ['AMBER+STRICT', incident('2025-01-06', { tlp: 'AMBER+STRICT' })],
        ['RED', incident('2025-01-07', { extra: { object_marking_refs: [TLP2_MARKING_IDS.GREEN, TLP2_MARKING_IDS.RED] } })],
        ['AMBER', incident('2025-01-08', { tlp: 'CLEAR', extra: { granular_markings: [{ marking_ref: TLP2_MARKING_IDS.AMBER, selectors: ['description'] }] } })],
      ];
      const objects = [...v.objects];
      for (const [, inc] of cases) objects.push(inc, rel('targets', inc, v.org));
      await importValue(db.orm, bundle(objects));
      const rows = await incidentRows(db.orm);
      const byRef = new Map(rows.map((r) => [r.ref, r.tlp]));
      for (const [level, inc] of cases) expect(byRef.get(inc.id), String(inc.created)).toBe(level);
    } finally {
      await db.dispose();
    }
  });

  it('honours markings defined in the bundle: TLP content counts, statements are not TLP; a conflicting well-known definition is refused', async () => {
    const db = await sqliteDb();
    try {
      const v = victim('FR', 'water');
      const statement = { type: 'marking-definition', spec_version: '2.1', id: sid('marking-definition'), created: '2025-01-01T00:00:00Z', definition_type: 'statement', definition: { statement: 'Copyright Example' } };
      const customRed = { type: 'marking-definition', spec_version: '2.1', id: sid('marking-definition'), created: '2025-01-01T00:00:00Z', definition_type: 'tlp', definition: { tlp: 'red' } };
      const customStrict = {
        type: 'marking-definition',
        spec_version: '2.1',
        id: sid('marking-definition'),
        created: '2025-01-01T00:00:00Z',
        name: 'TLP:AMBER+STRICT',
        extensions: { [TLP2_EXTENSION_ID]: { extension_type: 'property-extension', tlp_2_0: 'amber+strict' } },
      };
      const a = incident('2025-02-01', { tlp: 'GREEN', extra: { object_marking_refs: [TLP2_MARKING_IDS.GREEN, statement.id] } });
      const b = incident('2025-02-02', { extra: { object_marking_refs: [customRed.id] } });
      const c = incident('2025-02-03', { extra: { object_marking_refs: [customStrict.id] } });
      // The definitions come after the objects that use them.
      await importValue(db.orm, bundle([...v.objects, a, b, c, rel('targets', a, v.org), rel('targets', b, v.org), rel('targets', c, v.org), statement, customRed, customStrict]));
      const byRef = new Map((await incidentRows(db.orm)).map((r) => [r.ref, r.tlp]));
      expect(byRef.get(a.id)).toBe('GREEN');
      expect(byRef.get(b.id)).toBe('RED');
      expect(byRef.get(c.id)).toBe('AMBER+STRICT');

      // A later bundle may use a definition the node already holds.
      const d = incident('2025-02-04', { extra: { object_marking_refs: [customRed.id] } });
      await importValue(db.orm, bundle([d, rel('targets', d, v.org)]));
      expect((await incidentRows(db.orm)).find((r) => r.ref === d.id)?.tlp).toBe('RED');

      const before = await counts(db.orm);
      const liar = { type: 'marking-definition', spec_version: '2.1', id: TLP2_MARKING_IDS.RED, created: '2022-10-01T00:00:00Z', extensions: { [TLP2_EXTENSION_ID]: { extension_type: 'property-extension', tlp_2_0: 'clear' } } };
      const e = await refusal(importValue(db.orm, bundle([liar])));
      expect(e.code).toBe('STIX_INVALID');
      expect(e.details).toMatchObject({ index: 0, field: 'id', objectId: TLP2_MARKING_IDS.RED });
      expect(await counts(db.orm)).toEqual(before);
    } finally {
      await db.dispose();
    }
  });

  it('gives unmarked incidents the import’s unmarked level (AMBER by default), and explicit markings of what a row is built from only raise it', async () => {
    const db = await sqliteDb();
    try {
      const v = victim('PL', 'transportation');
      const plain = incident('2025-03-01');
      const clearLinkedRed = incident('2025-03-02', { tlp: 'CLEAR' });
      const tool = base('tool', { name: 'Mimikatz' });
      const clearWithUnmarkedTool = incident('2025-03-03', { tlp: 'CLEAR' });
      await importValue(
        db.orm,
        bundle([
          ...v.objects,
          tool,
          plain,
          rel('targets', plain, v.org),
          clearLinkedRed,
          rel('targets', clearLinkedRed, v.org),
          rel('uses', clearLinkedRed, tool, { object_marking_refs: marking('RED') }),
          clearWithUnmarkedTool,
          rel('targets', clearWithUnmarkedTool, v.org),
          rel('uses', clearWithUnmarkedTool, tool),
        ]),
      );
      const byRef = new Map((await incidentRows(db.orm)).map((r) => [r.ref, r.tlp]));
      expect(byRef.get(plain.id)).toBe('AMBER');
      expect(byRef.get(clearLinkedRed.id)).toBe('RED');
      expect(byRef.get(clearWithUnmarkedTool.id)).toBe('CLEAR');

      const db2 = await sqliteDb();
      try {
        const again = incident('2025-03-04');
        await importValue(db2.orm, bundle([...v.objects, again, rel('targets', again, v.org)]), 'stix', { unmarkedTlp: 'RED' });
        expect((await incidentRows(db2.orm))[0]?.tlp).toBe('RED');
      } finally {
        await db2.dispose();
      }
    } finally {
      await db.dispose();
    }
  });
});

describe('AMBER+STRICT and RED never influence a contribution', () => {
  const BIG = { maxPartitions: 10_000, maxPerPartition: 1_000_000 };
  const requests: ContributionRequest[] = [
    { queryId: 'a', measure: 'INCIDENTS', groupBy: ['COUNTRY', 'SECTOR'], bounds: BIG },
    { queryId: 'b', measure: 'INCIDENTS', groupBy: ['TLP'], bounds: BIG },
    { queryId: 'c', measure: 'ORGANISATIONS', groupBy: ['SECTOR'], bounds: BIG },
    { queryId: 'd', measure: 'SEVERITY_SUM', groupBy: ['MONTH'], bounds: { ...BIG, clampLo: 0, clampHi: 5 } },
    { queryId: 'e', measure: 'SEVERITY_SUM', groupBy: [], bounds: { ...BIG, clampLo: 0, clampHi: 5 } },
    { queryId: 'f', measure: 'INCIDENTS', groupBy: ['TOOL', 'ACTOR'], bounds: BIG },
    { queryId: 'g', measure: 'INCIDENTS', groupBy: ['EXPLOIT'], filter: { tlp: ['RED', 'AMBER+STRICT', 'AMBER'] }, bounds: BIG },
  ];

  it('importing AMBER+STRICT and RED incidents — at known and new organisations, with exploits, tools and actors — leaves every contribution unchanged', async () => {
    const db = await sqliteDb();
    try {
      const de = victim('DE', 'energy');
      const fr = victim('FR', 'healthcare');
      const vuln = base('vulnerability', { name: 'CVE-2021-44228', external_references: [{ source_name: 'cve', external_id: 'CVE-2021-44228' }] });
      const tool = base('malware', { name: 'Cobalt Strike', is_family: true });
      const actor = base('threat-actor', { name: 'APT28' });
      const shared = [...de.objects, ...fr.objects, vuln, tool, actor];
      const contributing: Obj[] = [];
      (['CLEAR', 'GREEN', 'AMBER'] as const).forEach((tlp, k) => {
        for (const v of [de, fr]) {
          const inc = incident(`2025-0${k + 1}-1${k}`, { tlp, severity: k + 2, disruption: k === 1 });
          contributing.push(inc, rel('targets', inc, v.org), rel('targets', inc, vuln), rel('uses', inc, tool), rel('attributed-to', inc, actor));
        }
      });
      await importValue(db.orm, bundle([...shared, ...contributing]));
      const before = await Promise.all(requests.map((r) => runContribution(db.orm, r)));
      expect(before[0]!.groups.length).toBeGreaterThan(0);

      const newOrg = victim('IT', 'financial-services');
      const restricted: Obj[] = [...newOrg.objects];
      for (const tlp of ['AMBER+STRICT', 'RED'] as const) {
        for (const v of [de, fr, newOrg]) {
          const inc = incident('2025-02-20', { tlp, severity: 5, disruption: true });
          restricted.push(inc, rel('targets', inc, v.org), rel('targets', inc, vuln), rel('uses', inc, tool), rel('attributed-to', inc, actor));
          const s = base('sighting', { sighting_of_ref: tool.id, where_sighted_refs: [v.org.id], first_seen: '2025-02-21T00:00:00Z', count: 3, object_marking_refs: marking(tlp) });
          restricted.push(s);
        }
      }
      // A CLEAR incident whose victim link is RED becomes RED.
      const raised = incident('2025-02-22', { tlp: 'CLEAR' });
      restricted.push(raised, rel('targets', raised, newOrg.org, { object_marking_refs: marking('RED') }));
      await importValue(db.orm, bundle(restricted));

      const stats = await nodeStats(db.orm);
      expect(stats.incidents.byTlp.RED).toBe(7);
      expect(stats.incidents.byTlp['AMBER+STRICT']).toBe(6);
      const after = await Promise.all(requests.map((r) => runContribution(db.orm, r)));
      expect(after).toEqual(before);
      // The operator may narrow the rule further; it never widens to the restricted levels.
      const greenOnly = await runContribution(db.orm, requests[1]!, { contributingTlp: ['GREEN'] });
      expect(greenOnly.groups.map((g) => g.key[0])).toEqual(['GREEN']);
    } finally {
      await db.dispose();
    }
  });
});
