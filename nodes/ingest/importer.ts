/**
 * One import: a STIX 2.1 bundle, a MISP event document or a CSV file, read as a stream and written in
 * ONE transaction — objects into the registry in batches, then incident rows re-derived. A refused
 * input (STIX_INVALID / MISP_INVALID / CSV_INVALID) or a storage error rolls everything back; the
 * attempt is recorded in `ingest_run` either way.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { TlpLevel } from '../../schema/contract/dataset.js';
import { AccordError, isAccordError } from '../../schema/errors.js';
import { dialectOf, knexOf, type NodeOrm } from '../db/orm.js';
import { m49RegionLookup, type RegionLookup } from '../db/regions.js';
import { claimIndicatorKey } from '../db/indicator-key.js';
import { exec } from '../db/sql.js';
import { readCsv } from './csv.js';
import { countUnresolved, deriveIncidents } from './derive.js';
import { resolveLimits, type IngestLimits } from './limits.js';
import { readMisp } from './misp.js';
import { SummaryBuilder, type ImportSummary, type IngestFormat, type IngestObject } from './model.js';
import { SqlRunner } from './sql-runner.js';
import { GraphStore } from './store.js';
import { readStixBundle, type ReaderHooks } from './stix-reader.js';

export interface ImportOptions {
  /** The node secret: key of organisation pseudonyms and keyed STIX ids, and of indicator hashes unless `indicatorKey` is given. */
  secret: string | Buffer;
  /**
   * The federation's indicator key: when given, indicator values are hashed under it (so the node can
   * answer indicator filters) instead of under the node secret. One store holds hashes under one key.
   */
  indicatorKey?: string | Buffer;
  /** Input format; `auto` (default) detects it from the content and the file name. */
  format?: IngestFormat | 'auto';
  /** TLP level of an incident whose own object carries no marking (default AMBER). */
  unmarkedTlp?: TlpLevel;
  /** Severity (1–5) of an incident that states none (default 3). */
  defaultSeverity?: number;
  /** Country → UN M49 lookup (default: the public reference data). */
  regions?: RegionLookup;
  limits?: Partial<IngestLimits>;
  /** Objects per write batch (default 2000). */
  batchSize?: number;
  /** Progress callback, called at most every `progressIntervalMs` and once at the end of each phase. */
  onProgress?: (p: ImportProgress) => void;
  progressIntervalMs?: number;
  /** Name recorded in the import history (default: the file's base name). */
  fileName?: string;
  /** Clock (tests). */
  now?: () => Date;
}

export interface ImportProgress {
  phase: 'reading' | 'deriving' | 'done';
  bytes: number;
  totalBytes?: number;
  objects: number;
  elapsedMs: number;
}

export const DEFAULT_UNMARKED_TLP: TlpLevel = 'AMBER';
export const DEFAULT_SEVERITY = 3;

const CSV_EXTENSIONS = new Set(['.csv', '.tsv']);

/**
 * The format of an input from its first bytes and file name: `.csv` files are CSV; JSON is a STIX
 * bundle when `"type": "bundle"` or `"objects": [` comes before any MISP marker (`"Event"`, `"response"`,
 * `"Attribute"`), MISP otherwise. Undefined when it is neither. Never throws.
 */
export function detectFormat(head: Buffer | string, fileName?: string): IngestFormat | undefined {
  if (fileName && CSV_EXTENSIONS.has(extname(fileName).toLowerCase())) return 'csv';
  const text = (typeof head === 'string' ? head : head.toString('utf8')).replace(/^\uFEFF/, '');
  const t = text.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) {
    const pos = (re: RegExp) => {
      const i = t.search(re);
      return i < 0 ? Infinity : i;
    };
    const stix = Math.min(pos(/"type"\s*:\s*"bundle"/), pos(/"objects"\s*:\s*\[/), pos(/"spec_version"\s*:\s*"2\.[01]"/));
    const misp = Math.min(pos(/"Event"\s*:\s*[{[]/), pos(/"response"\s*:\s*\[/), pos(/"Attribute"\s*:\s*\[/));
    if (stix === Infinity && misp === Infinity) return undefined;
    return stix < misp ? 'stix' : 'misp';
  }
  const firstLine = t.split(/\r?\n/, 1)[0] ?? '';
  if (/(^|,)\s*"?incident_id"?\s*(,|$)/i.test(firstLine)) return 'csv';
  return undefined;
}

async function* chunks(source: AsyncIterable<Buffer | string>, onBytes: (b: Buffer) => void): AsyncGenerator<Buffer> {
  for await (const c of source) {
    const b = typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
    onBytes(b);
    yield b;
  }
}

interface RunRecord {
  startedAt: string;
  format: IngestFormat;
  file: string;
  sha256: string | null;
}

const RUN_SQL =
  'insert into "ingest_run" ("started_at", "finished_at", "format", "file", "sha256", "outcome", "objects", "created", "updated", "skipped", "summary") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';

function runParams(r: RunRecord, outcome: string, s: ImportSummary, finishedAt: string): (string | number | null)[] {
  return [r.startedAt, finishedAt, r.format, r.file.slice(0, 255), r.sha256, outcome, s.objects, s.created, s.updated, s.skipped, JSON.stringify(s)];
}

/**
 * Imports one input of a known format from a stream of bytes. Resolves with what the import did.
 * Throws AccordError('STIX_INVALID' | 'MISP_INVALID' | 'CSV_INVALID') for invalid input, naming where
 * (nothing is stored), AccordError('CONFIG_INVALID') for bad options or an indicator key other than
 * the one the node's stored indicators were hashed under; driver errors propagate (nothing is stored
 * either).
 */
export async function importSource(
  orm: NodeOrm,
  source: AsyncIterable<Buffer | string>,
  format: IngestFormat,
  opts: ImportOptions & { totalBytes?: number },
): Promise<ImportSummary> {
  const unmarkedTlp = opts.unmarkedTlp ?? DEFAULT_UNMARKED_TLP;
  const defaultSeverity = opts.defaultSeverity ?? DEFAULT_SEVERITY;
  if (!Number.isInteger(defaultSeverity) || defaultSeverity < 1 || defaultSeverity > 5) {
    throw new AccordError('CONFIG_INVALID', 'The default severity must be an integer from 1 to 5.', { field: 'defaultSeverity' });
  }
  if (!['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'].includes(unmarkedTlp)) {
    throw new AccordError('CONFIG_INVALID', 'The TLP level for unmarked records must be CLEAR, GREEN, AMBER, AMBER+STRICT or RED.', { field: 'unmarkedTlp' });
  }
  const now = opts.now ?? (() => new Date());
  const started = performance.now();
  const startedAt = now().toISOString();
  const limits = resolveLimits(opts.limits);
  const regions = opts.regions ?? m49RegionLookup;
  const batchSize = opts.batchSize ?? 2000;
  const summary = new SummaryBuilder(format, opts.fileName);
  const hash = createHash('sha256');
  let bytes = 0;
  let lastProgress = 0;
  const interval = opts.progressIntervalMs ?? 250;
  const progress = (phase: ImportProgress['phase'], force = false) => {
    if (!opts.onProgress) return;
    const t = performance.now();
    if (!force && t - lastProgress < interval) return;
    lastProgress = t;
    opts.onProgress({ phase, bytes, ...(opts.totalBytes !== undefined ? { totalBytes: opts.totalBytes } : {}), objects: summary.s.objects, elapsedMs: t - started });
  };
  const run: RunRecord = { startedAt, format, file: opts.fileName ?? '(stream)', sha256: null };
  const input = chunks(source, (b) => {
    bytes += b.length;
    hash.update(b);
  });
  const dialect = dialectOf(orm);
  try {
    await knexOf(orm).transaction(async (trx) => {
      const db = await SqlRunner.over(trx, dialect);
      const store = new GraphStore(db, summary, { indicatorKey: opts.indicatorKey ?? opts.secret, now: startedAt });
      await store.begin();
      await claimIndicatorKey(db, opts.indicatorKey ?? opts.secret, opts.secret);
      const hooks: ReaderHooks = {
        emit: (batch: IngestObject[]) => store.write(batch),
        progress: () => progress('reading'),
      };
      const ctx = { summary, secret: opts.secret, regions };
      if (format === 'stix') await readStixBundle(input, ctx, limits, batchSize, hooks);
      else if (format === 'misp') await readMisp(input, ctx, limits, batchSize, hooks);
      else await readCsv(input, ctx, limits, batchSize, hooks);
      progress('reading', true);
      const { unmarked } = await store.finish();
      summary.s.unmarked = unmarked;
      progress('deriving', true);
      await deriveIncidents(db, summary, { unmarkedTlp, defaultSeverity, regions, freshRegistry: store.freshRegistry });
      summary.s.unresolvedRefs = await countUnresolved(db);
      await db.dropTemp('ing_touched');
      await db.dropTemp('ing_pending');
      run.sha256 = hash.digest('hex');
      summary.s.durationMs = Math.round(performance.now() - started);
      summary.s.objectsPerSecond = summary.s.durationMs > 0 ? Math.round((summary.s.objects * 1000) / summary.s.durationMs) : summary.s.objects;
      await db.run(RUN_SQL, runParams(run, 'IMPORTED', summary.s, now().toISOString()));
    });
  } catch (e) {
    summary.s.durationMs = Math.round(performance.now() - started);
    try {
      if (dialect === 'sqlite') await exec(knexOf(orm), 'drop table if exists temp."ing_touched"');
      // Nothing was stored: the history records what was read before the refusal, and no writes.
      const refused: ImportSummary = { ...summary.s, created: 0, updated: 0, skipped: 0, byType: {} };
      await exec(knexOf(orm), RUN_SQL, runParams(run, isAccordError(e) ? e.code : 'ERROR', refused, now().toISOString()));
    } catch {
      // The history is best effort; the refusal itself is what the caller needs.
    }
    throw e;
  }
  if (summary.s.incidents.derived > 0 || summary.s.created > 0) {
    if (dialect === 'sqlite') {
      for (const t of ['incident', 'incident_exploit', 'incident_actor', 'organisation', 'exploit', 'actor']) await exec(knexOf(orm), `analyze "${t}"`);
    } else {
      await exec(knexOf(orm), 'analyze "incident", "incident_exploit", "incident_actor", "organisation", "exploit", "actor"');
    }
  }
  progress('done', true);
  return summary.s;
}

/**
 * Imports a file, detecting its format unless `opts.format` names one. Resolves with the summary.
 * Throws AccordError('STIX_INVALID' | 'MISP_INVALID' | 'CSV_INVALID') for invalid input (a file whose
 * format cannot be recognised is STIX_INVALID with field null), and file-system errors (ENOENT, EACCES)
 * as they are.
 */
export async function importFile(orm: NodeOrm, path: string, opts: ImportOptions): Promise<ImportSummary> {
  const info = await stat(path);
  let format = opts.format && opts.format !== 'auto' ? opts.format : undefined;
  if (!format) {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(Math.min(info.size, 256 * 1024));
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      format = detectFormat(buf.subarray(0, bytesRead), path);
    } finally {
      await fh.close();
    }
    if (!format) {
      throw new AccordError(
        'STIX_INVALID',
        'The file is neither a STIX 2.1 bundle, a MISP event document nor a CSV file with an "incident_id" column; name the format with --format. Nothing was stored.',
        { objectId: null, index: null, field: null },
      );
    }
  }
  const stream = createReadStream(path, { highWaterMark: 256 * 1024 });
  try {
    return await importSource(orm, stream, format, { ...opts, fileName: opts.fileName ?? basename(path), totalBytes: info.size });
  } finally {
    stream.destroy();
  }
}
