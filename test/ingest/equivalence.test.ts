/**
 * The synthetic generator's STIX bundles (scripts/synth/stix.ts) go through the real import path and
 * give the node exactly the aggregates that seeding the same dataset directly gives: the same
 * contribution for every measure and every kind of group key. Bounds are wide enough that no random
 * selection happens, so the comparison is exact.
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ContributionRequest } from '../../schema/contract/contribution.js';
import type { NodeDataset } from '../../schema/contract/dataset.js';
import { runContribution } from '../../nodes/contribution/run.js';
import { seedDataset } from '../../nodes/db/seed.js';
import { importFile } from '../../nodes/ingest/index.js';
import { CERT_FR, generateFederation, stixBundle, writeStixBundle } from '../../scripts/synth/index.js';
import { makeDataset } from '../nodes/helpers/dataset.js';
import { PG_URL, postgresDb, sqliteDb, tempDir, type TestDb } from '../nodes/helpers/db.js';
import { SECRET } from './helpers.js';

const BIG = { maxPartitions: 10_000, maxPerPartition: 1_000_000 };
const REQUESTS: ContributionRequest[] = [
  { queryId: 'country-sector', measure: 'INCIDENTS', groupBy: ['COUNTRY', 'SECTOR'], bounds: BIG },
  { queryId: 'region-week', measure: 'INCIDENTS', groupBy: ['REGION', 'WEEK'], bounds: BIG },
  { queryId: 'exploit', measure: 'INCIDENTS', groupBy: ['EXPLOIT'], bounds: BIG },
  { queryId: 'tool-tlp', measure: 'INCIDENTS', groupBy: ['TOOL', 'TLP'], bounds: BIG },
  { queryId: 'actor', measure: 'INCIDENTS', groupBy: ['ACTOR'], filter: { from: '2024-03-01', to: '2025-12-01' }, bounds: BIG },
  { queryId: 'orgs', measure: 'ORGANISATIONS', groupBy: ['SUBREGION', 'SECTOR'], bounds: BIG },
  { queryId: 'severity', measure: 'SEVERITY_SUM', groupBy: ['MONTH'], bounds: { ...BIG, clampLo: 0, clampHi: 5 } },
  { queryId: 'disruption', measure: 'SEVERITY_SUM', groupBy: ['SECTOR'], filter: { tlp: ['GREEN', 'AMBER'] }, bounds: { ...BIG, clampLo: 0, clampHi: 5 } },
];

async function expectSameContributions(seeded: TestDb, imported: TestDb): Promise<void> {
  for (const r of REQUESTS) {
    const a = await runContribution(seeded.orm, r);
    const b = await runContribution(imported.orm, r);
    expect(a.groups.length, r.queryId).toBeGreaterThan(0);
    expect(b, r.queryId).toEqual(a);
  }
}

function suite(name: string, open: () => Promise<TestDb>): void {
  describe(`STIX generator ≡ seeding (${name})`, () => {
    it('a generated federation node: importing its bundle file gives the contributions of seeding its dataset', async () => {
      const ds = generateFederation({ seed: 'equivalence', nodes: [CERT_FR], incidentsPerNode: 1500 }).datasets['cert-fr']!;
      const dir = tempDir('accord-stix-');
      const seeded = await open();
      const imported = await open();
      try {
        await seedDataset(seeded.orm, ds, { secret: SECRET });
        const file = join(dir, 'cert-fr.stix.json');
        const written = await writeStixBundle(file, ds, { namespace: 'cert-fr' });
        const s = await importFile(imported.orm, file, { secret: SECRET });
        expect(s.objects).toBe(written.objects);
        expect(s.incidents).toMatchObject({ derived: ds.incidents.length, held: 0 });
        expect(s.unresolvedRefs).toBe(0);
        await expectSameContributions(seeded, imported);
        // Regenerating gives the same bundle: a re-import changes nothing.
        const again = await importFile(imported.orm, file, { secret: SECRET });
        expect(again.created + again.updated).toBe(0);
        await expectSameContributions(seeded, imported);
      } finally {
        await seeded.dispose();
        await imported.dispose();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a dataset whose incidents differ from their organisation in country and sector, with all TLP levels', async () => {
      const ds: NodeDataset = makeDataset({ organisations: 40, incidents: 1200, seed: 11, restrictedShare: 0.4, indicatorsPerIncident: 3 });
      const seeded = await open();
      const imported = await open();
      try {
        await seedDataset(seeded.orm, ds, { secret: SECRET });
        const { importSource } = await import('../../nodes/ingest/index.js');
        const text = JSON.stringify(stixBundle(ds, { namespace: 'helper', sightingShare: 0.5 }));
        // Deterministic: the same dataset and namespace give the same bundle, byte for byte.
        expect(JSON.stringify(stixBundle(ds, { namespace: 'helper', sightingShare: 0.5 }))).toBe(text);
        const s = await importSource(imported.orm, [Buffer.from(text)], 'stix', { secret: SECRET });
        expect(s.incidents.derived).toBe(ds.incidents.length);
        expect(s.byType.sighting?.created).toBeGreaterThan(100);
        await expectSameContributions(seeded, imported);
      } finally {
        await seeded.dispose();
        await imported.dispose();
      }
    });
  });
}

suite('SQLite', sqliteDb);
if (PG_URL) suite('PostgreSQL', () => postgresDb(PG_URL));
else {
  describe('STIX generator ≡ seeding (PostgreSQL)', () => {
    it.skip('skipped: set ACCORD_TEST_PG_URL to run the PostgreSQL suite', () => {});
  });
}
