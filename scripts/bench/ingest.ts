/**
 * `npm run bench:ingest`: STIX 2.1 import throughput and peak memory.
 *
 * Generates one synthetic node's data as a STIX bundle of about BENCH_INGEST_OBJECTS objects (default
 * 1,000,000; incidents, sightings, identities, locations, vulnerabilities, tools, actors, indicators and
 * relationships as `scripts/synth/stix.ts` writes them), then imports it into a fresh SQLite database —
 * and into PostgreSQL when ACCORD_BENCH_PG_URL is set — each import in its own child process, so that
 * the peak RSS reported is the importer's alone. Targets: ≥ 20,000 objects/s into SQLite, peak RSS
 * under 500 MB. Prints a table and one `BENCH_JSON ` line. Benchmarks measure; they never fail a build.
 *
 * Environment: BENCH_INGEST_OBJECTS (target object count), BENCH_INGEST_SEED, ACCORD_BENCH_PG_URL,
 * BENCH_INGEST_KEEP=1 (keep the bundle and database under the printed folder).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { knexOf, openNodeOrm } from '../../nodes/db/orm.js';
import { importFile, type ImportSummary } from '../../nodes/ingest/index.js';
import type { NodeDataset } from '../../schema/contract/dataset.js';
import { CERT_DE, generateFederation, stixObjects, writeStixBundle } from '../synth/index.js';

const SELF = fileURLToPath(import.meta.url);
const SECRET = 'accord-bench-ingest-secret-0123456789';

interface ChildResult {
  summary: ImportSummary;
  wallMs: number;
  cpuMs: number;
  maxRssMiB: number;
}

export interface IngestBenchResult {
  objects: number;
  bytes: number;
  incidents: number;
  generateMs: number;
  sqlite: ChildResult;
  postgresql?: ChildResult;
}

/** Child mode: import `file` into `db` and print the measurements as one JSON line. */
async function child(db: string, file: string, pgSchema?: string): Promise<void> {
  const orm = await openNodeOrm({ db, ...(pgSchema ? { pgSchema } : {}) });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const summary = await importFile(orm, file, { secret: SECRET });
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  if (pgSchema) await knexOf(orm).raw(`drop schema if exists "${pgSchema}" cascade`);
  await orm.close(true);
  const result: ChildResult = { summary, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runChild(db: string, file: string, pgSchema?: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [SELF, '--child', db, file, ...(pgSchema ? [pgSchema] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`import child exited with code ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as ChildResult);
      } catch (e) {
        reject(e);
      }
    });
  });
}

function countObjects(ds: NodeDataset): number {
  let n = 0;
  for (const _ of stixObjects(ds, { namespace: 'cert-de' })) n++;
  return n;
}

function dataset(seed: string, incidents: number): NodeDataset {
  return generateFederation({ seed, nodes: [{ ...CERT_DE, organisations: Math.max(1500, Math.round(incidents / 100)) }], incidentsPerNode: incidents }).datasets['cert-de']!;
}

export async function runIngestBench(targetObjects: number, seed = 'accord-bench-ingest'): Promise<IngestBenchResult & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'accord-bench-ingest-'));
  const t0 = performance.now();
  // Objects per incident fall as shared objects (indicators, tools) amortise: measure, then rescale once.
  const sample = 20_000;
  let incidents = Math.max(100, Math.round((targetObjects * sample) / countObjects(dataset(seed, sample))));
  let ds = dataset(seed, incidents);
  const first = countObjects(ds);
  if (Math.abs(first - targetObjects) > 0.02 * targetObjects) {
    incidents = Math.max(100, Math.round((incidents * targetObjects) / first));
    ds = dataset(seed, incidents);
  }
  const file = join(dir, 'bundle.stix.json');
  const written = await writeStixBundle(file, ds, { namespace: 'cert-de' });
  const generateMs = performance.now() - t0;
  const sqlite = await runChild(join(dir, 'bench.sqlite'), file);
  const pgUrl = process.env.ACCORD_BENCH_PG_URL;
  const postgresql = pgUrl ? await runChild(pgUrl, file, `accord_bench_${randomBytes(4).toString('hex')}`) : undefined;
  return { dir, objects: written.objects, bytes: statSync(file).size, incidents: ds.incidents.length, generateMs, sqlite, ...(postgresql ? { postgresql } : {}) };
}

function line(name: string, r: ChildResult): string {
  const s = r.summary;
  const rate = Math.round((s.objects * 1000) / r.wallMs);
  return `${name.padEnd(11)} ${String(s.objects).padStart(9)} objects  ${(r.wallMs / 1000).toFixed(1).padStart(6)} s  ${String(rate).padStart(7)} objects/s  cpu ${(r.cpuMs / 1000).toFixed(1)} s  peak RSS ${Math.round(r.maxRssMiB)} MiB  incidents ${s.incidents.derived}`;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    await child(process.argv[3]!, process.argv[4]!, process.argv[5]);
    return;
  }
  const target = Number(process.env.BENCH_INGEST_OBJECTS ?? 1_000_000);
  if (!Number.isInteger(target) || target < 1000) throw new Error('BENCH_INGEST_OBJECTS must be an integer ≥ 1000');
  const r = await runIngestBench(target, process.env.BENCH_INGEST_SEED ?? 'accord-bench-ingest');
  console.log(`STIX 2.1 import — bundle of ${r.objects.toLocaleString('en')} objects (${(r.bytes / 1e6).toFixed(0)} MB, ${r.incidents.toLocaleString('en')} incidents), generated in ${(r.generateMs / 1000).toFixed(1)} s`);
  console.log(line('SQLite', r.sqlite));
  if (r.postgresql) console.log(line('PostgreSQL', r.postgresql));
  else console.log('PostgreSQL  skipped (set ACCORD_BENCH_PG_URL)');
  const rate = (r.sqlite.summary.objects * 1000) / r.sqlite.wallMs;
  console.log(`targets (SQLite): ≥ 20,000 objects/s → ${(rate / 20_000).toFixed(2)}×; peak RSS < 500 MiB → ${Math.round(r.sqlite.maxRssMiB)} MiB`);
  const { dir, ...result } = r;
  if (process.env.BENCH_INGEST_KEEP === '1') console.log(`kept: ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
  console.log(`BENCH_JSON ${JSON.stringify({ ingest: { ...result, sqlite: { ...result.sqlite, summary: undefined, objects: result.sqlite.summary.objects }, ...(result.postgresql ? { postgresql: { ...result.postgresql, summary: undefined, objects: result.postgresql.summary.objects } } : {}) } })}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
