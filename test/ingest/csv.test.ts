/** CSV import: the documented column set, RFC 4180 quoting, idempotence, and refusals with line and column. */
import { describe, expect, it } from 'vitest';
import { dialectOf, knexOf } from '../../nodes/db/orm.js';
import { queryRows } from '../../nodes/db/sql.js';
import { sqliteDb } from '../nodes/helpers/db.js';
import { counts, importValue, incidentRows, refusal } from './helpers.js';

const HEADER = 'incident_id,date,organisation,country,sector,severity,disruption,tlp,cves,tools,actors,indicators';
const GOOD = [
  '\ufeff' + HEADER,
  'INC-1,2025-03-04,Stadtwerke Nord,DE,energy,4,yes,GREEN,CVE-2024-3400;CVE-2023-4966,"Cobalt Strike;Mimikatz",APT28,ipv4-addr:192.0.2.10;domain-name:Evil.Example',
  'INC-2,2025-03-05T12:30:00Z,"Hôpital ""Central"", Lyon",France,Healthcare,,no,AMBER,,,,file:sha256:' + 'AB'.repeat(32),
  '"INC-3",2025-03-06,Stadtwerke Nord,DEU,Water and Wastewater Systems,2,,red,,"Emotet',
  'QakBot",unknown,',
  '',
].join('\r\n');

describe('CSV import', () => {
  it('imports rows onto incidents with pseudonymous organisations, links and indicators — the same whatever the chunking', async () => {
    const results: unknown[] = [];
    for (const chunk of [1 << 16, 7, 1]) {
      const db = await sqliteDb();
      try {
        const s = await importValue(db.orm, GOOD, 'csv', { chunk });
        expect(s.incidents).toMatchObject({ derived: 3, held: 0 });
        const rows = (await incidentRows(db.orm)).sort((a, b) => String(a.date).localeCompare(String(b.date)));
        expect(rows.map((r) => [r.date, r.country, r.sector, r.severity, r.disruption, r.tlp])).toEqual([
          ['2025-03-04', 'DE', 'energy', 4, 1, 'GREEN'],
          ['2025-03-05', 'FR', 'healthcare-public-health', 3, 0, 'AMBER'],
          ['2025-03-06', 'DE', 'water', 2, 0, 'RED'],
        ]);
        // Rows 1 and 3 name the same organisation: one pseudonym; no name is stored.
        expect(new Set(rows.map((r) => r.org)).size).toBe(2);
        expect(rows.every((r) => /^org-[0-9a-f]{32}$/.test(String(r.org)))).toBe(true);
        const names = await queryRows<{ n: number }>(knexOf(db.orm), dialectOf(db.orm), `select count(*) as "n" from "stix_object" where "name" like '%Stadtwerke%' or "name" like '%Lyon%'`);
        expect(names[0]!.n).toBe(0);
        const ex = await queryRows<{ ref: string }>(knexOf(db.orm), 'sqlite', 'select distinct e."ref" from "incident_exploit" l join "exploit" e on e."id" = l."exploit_id" order by 1');
        expect(ex.map((e) => e.ref)).toEqual(['CVE-2023-4966', 'CVE-2024-3400', 'tool:Cobalt Strike', 'tool:Emotet QakBot', 'tool:Mimikatz']);
        const ind = await queryRows<{ type: string; value: string }>(knexOf(db.orm), 'sqlite', 'select "type", "value" from "indicator" order by 1, 2');
        expect(ind).toEqual([
          { type: 'domain-name', value: 'evil.example' },
          { type: 'file:sha256', value: 'ab'.repeat(32) },
          { type: 'ipv4-addr', value: '192.0.2.10' },
        ]);
        results.push(rows.map((r) => ({ ...r })));
      } finally {
        await db.dispose();
      }
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });

  it('re-importing is idempotent; a changed row updates its incident; an unknown country or sector holds the incident and is reported', async () => {
    const db = await sqliteDb();
    try {
      await importValue(db.orm, GOOD, 'csv');
      const before = await counts(db.orm);
      const again = await importValue(db.orm, GOOD, 'csv');
      expect(again.created + again.updated).toBe(0);
      expect(await counts(db.orm)).toEqual(before);
      const changed = [HEADER, 'INC-1,2025-03-04,Stadtwerke Nord,DE,energy,5,yes,GREEN,,,,', 'INC-9,2025-03-09,Somewhere,Atlantis,Underwater Basket Weaving,,,,,,,'].join('\n');
      const s = await importValue(db.orm, changed, 'csv');
      expect(s.byType.incident).toEqual({ created: 1, updated: 1, skipped: 0 });
      expect(s.incidents).toMatchObject({ derived: 1, held: 1, heldBy: { 'no-country': 1 } });
      expect(s.unknown).toMatchObject({ countries: { Atlantis: 1 }, sectors: { 'Underwater Basket Weaving': 1 } });
      const inc1 = (await incidentRows(db.orm)).filter((r) => r.date === '2025-03-04');
      expect(inc1).toHaveLength(1);
      expect(inc1[0]!.severity).toBe(5);
    } finally {
      await db.dispose();
    }
  });

  it('refuses malformed files with the line and column, storing nothing', async () => {
    const db = await sqliteDb();
    try {
      await importValue(db.orm, GOOD, 'csv');
      const before = await counts(db.orm);
      const ok = 'INC-7,2025-01-01,Org,DE,energy,,,,,,,';
      const cases: [string, number, string | number | null, RegExp][] = [
        [`${HEADER},colour\n${ok},red`, 1, 'colour', /not a known column/],
        ['incident_id,date,organisation,country\nX,2025-01-01,O,DE', 1, 'sector', /required but missing/],
        [`${HEADER}\n${ok}\nINC-8,2025-13-01,Org,DE,energy,,,,,,,`, 3, 'date', /not a YYYY-MM-DD date/],
        [`${HEADER}\n${ok}\nINC-8,2025-01-01,Org,DE,energy`, 3, null, /has 5 fields where the header has 12/],
        [`${HEADER}\n${ok}\nINC-8,2025-01-01,Org "A",DE,energy,,,,,,,`, 3, 3, /double quote inside an unquoted field/],
        [`${HEADER}\n${ok}\nINC-8,2025-01-01,"Org,DE,energy,,,,,,,\n`, 3, 3, /ends inside a quoted field/],
        [`${HEADER}\n${ok}\nINC-8,2025-01-01,"Org"x,DE,energy,,,,,,,`, 3, 3, /text after a closing double quote/],
        [`${HEADER}\n${ok}\nINC-8,2025-01-01,Org,DE,energy,6,,,,,,`, 3, 'severity', /1 to 5/],
        [`${HEADER}\n${ok}\nINC-8,2025-01-01,Org,DE,energy,,,PURPLE,,,,`, 3, 'tlp', /CLEAR, GREEN/],
        [`${HEADER}\n${ok}\nINC-8,2025-01-01,Org,DE,energy,,,,CVE-21-1,,,`, 3, 'cves', /not a CVE id/],
        [`${HEADER}\n${ok}\nINC-8,2025-01-01,Org,DE,energy,,,,,,,ipv4-addr:999.1.1.1`, 3, 'indicators', /malformed ipv4-addr/],
        [`${HEADER}\n${ok}\n${ok}`, 3, 'incident_id', /repeats the incident of line 2/],
        ['', 1, null, /empty/],
      ];
      for (const [text, line, column, message] of cases) {
        const e = await refusal(importValue(db.orm, text, 'csv', { batchSize: 1 }));
        expect(e.code, text).toBe('CSV_INVALID');
        expect(e.details, text).toEqual({ line, column });
        expect(e.message, text).toMatch(message);
        expect(await counts(db.orm)).toEqual(before);
      }
    } finally {
      await db.dispose();
    }
  });
});
