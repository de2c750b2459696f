/**
 * One-off measurement (runs only with ACCORD_NODE_BENCH=1): seeding 100k incidents and a
 * COUNTRY×SECTOR INCIDENTS contribution over them on SQLite. Prints timings; asserts the targets.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { openNodeOrm } from '../../nodes/db/orm.js';
import { seedDataset } from '../../nodes/db/seed.js';
import { runContribution } from '../../nodes/contribution/run.js';
import { tempDir } from './helpers/db.js';

const run = process.env.ACCORD_NODE_BENCH === '1';

describe.runIf(run)('node benchmark (SQLite, 100k incidents)', () => {
  it('seeds in well under 10 s and answers COUNTRY×SECTOR quickly', async () => {
    const dir = tempDir();
    const orm = await openNodeOrm({ db: join(dir, 'bench.sqlite') });
    try {
      const { generateFederation, CERT_FR } = await import('../../scripts/synth/index.js');
      const data = Object.values(generateFederation({ seed: 42, nodes: [CERT_FR], incidentsPerNode: 100_000 }).datasets)[0]!;
      const summary = await seedDataset(orm, data, { secret: 'bench' });
      console.info('[bench] seed', JSON.stringify(summary));
      const req = { queryId: 'bench', measure: 'INCIDENTS' as const, groupBy: ['COUNTRY' as const, 'SECTOR' as const], bounds: { maxPartitions: 5, maxPerPartition: 10 } };
      const times: number[] = [];
      for (let i = 0; i < 7; i++) {
        const t = performance.now();
        const res = await runContribution(orm, req);
        times.push(performance.now() - t);
        expect(res.groups.length).toBeGreaterThan(0);
      }
      const sumReq = { ...req, measure: 'SEVERITY_SUM' as const, bounds: { ...req.bounds, clampLo: 1, clampHi: 5 } };
      const sumTimes: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        await runContribution(orm, sumReq);
        sumTimes.push(performance.now() - t);
      }
      const windowed = { ...req, filter: { from: '2024-04-01', to: '2024-07-01' } };
      const windowTimes: number[] = [];
      for (let i = 0; i < 7; i++) {
        const t = performance.now();
        await runContribution(orm, windowed);
        windowTimes.push(performance.now() - t);
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      console.info(`[bench] COUNTRY×SECTOR INCIDENTS: median ${median(times).toFixed(1)} ms (runs ${times.map((t) => t.toFixed(0)).join(', ')})`);
      console.info(`[bench] COUNTRY×SECTOR INCIDENTS, 91-day window: median ${median(windowTimes).toFixed(1)} ms`);
      console.info(`[bench] COUNTRY×SECTOR SEVERITY_SUM: median ${median(sumTimes).toFixed(1)} ms`);
      expect(summary.durationMs).toBeLessThan(10_000);
    } finally {
      await orm.close(true);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
