/**
 * The operator CLI's commands, callable in-process (`runCli(argv)` resolves with the exit code) so the
 * process entry stays a one-liner. `accord-node --help` (and `accord-node <command> --help`) lists the
 * options, their environment fallbacks and defaults; `operatorProgram()` builds that definition
 * without running anything. Formats and exit codes: `docs/ingest.md`.
 */
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { TLP_LEVELS, type TlpLevel } from '../../schema/contract/dataset.js';
import { MAX_KEY_LENGTH } from '../../schema/contract/keys.js';
import { isAccordError } from '../../schema/errors.js';
import { indicatorKeyFrom, resolveNodeConfig, type ResolvedNodeConfig } from '../config.js';
import { DEFAULT_CONTRIBUTING_TLP, NEVER_CONTRIBUTING_TLP } from '../contribution/tlp-gate.js';
import { contributingTlpOption, nodeStoreOptions } from './options.js';
import { recentContributions } from '../contribution/log.js';
import { claimIndicatorKey, indicatorKeyId, knexAccess } from '../db/indicator-key.js';
import { dialectOf, isPostgresUrl, knexOf, openNodeOrm, type NodeOrm } from '../db/orm.js';
import { nodeStats } from '../db/stats.js';
import {
  DEFAULT_SEVERITY,
  DEFAULT_UNMARKED_TLP,
  importFile,
  ingestStats,
  parseTlpLevel,
  TLP1_MARKING_IDS,
  TLP2_MARKING_IDS,
  type ImportSummary,
} from '../ingest/index.js';
import { progressReporter } from './progress.js';

/** Stable exit codes (documented in docs/ingest.md). */
export const EXIT = Object.freeze({
  OK: 0,
  /** Bad command line (unknown command or option, missing argument). */
  USAGE: 1,
  /** An input was refused (STIX_INVALID, MISP_INVALID, CSV_INVALID) or could not be read; nothing of it was stored. */
  REFUSED: 2,
  /** The database could not be opened, migrated or written. */
  STORAGE: 3,
  /** The node configuration is invalid (CONFIG_INVALID: bad secret file, id, TLP list, …). */
  CONFIG: 4,
  /** An unexpected error. */
  INTERNAL: 5,
});

/** Where the CLI writes. Options fall back to `process.env` (the variables `--help` names). */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal (progress bar) — default `process.stderr.isTTY`. */
  tty?: boolean;
}

const defaultIo: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

class ExitError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

interface GlobalOptions {
  id?: string;
  db: string | null;
  dataDir: string;
  pgSchema?: string;
  secret: string | null;
  indicatorKeyFile?: string;
  json?: boolean;
  quiet?: boolean;
}

function tlpLevel(v: string): TlpLevel {
  const l = parseTlpLevel(v);
  if (!l) throw new InvalidArgumentError('must be CLEAR, GREEN, AMBER, AMBER+STRICT or RED');
  return l;
}

function severity(v: string): number {
  if (!/^[1-5]$/.test(v.trim())) throw new InvalidArgumentError('must be an integer from 1 to 5');
  return Number(v);
}

function limit(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new InvalidArgumentError('must be an integer from 1 to 100000');
  return n;
}

/** Configuration as the node resolves it. Read-only commands create no files. */
function config(g: GlobalOptions, writes: boolean, contributingTlp?: string): ResolvedNodeConfig {
  if (!g.id) throw new ExitError(EXIT.USAGE, 'error: --id (or ACCORD_NODE_ID) is required');
  const placeholder = 'read-only-command-placeholder';
  try {
    const indicatorKey = writes ? indicatorKeyFrom(g.indicatorKeyFile, process.env) : undefined;
    return resolveNodeConfig({
      id: g.id,
      ...(indicatorKey !== undefined ? { indicatorKey } : {}),
      db: g.db ?? undefined,
      dataDir: g.dataDir,
      pgSchema: g.pgSchema,
      secret: g.secret ?? (writes ? undefined : placeholder),
      operatorToken: writes ? undefined : placeholder,
      contributingTlp: contributingTlp?.split(',').map((s) => s.trim()).filter(Boolean) as TlpLevel[] | undefined,
    });
  } catch (e) {
    if (isAccordError(e)) throw new ExitError(EXIT.CONFIG, `error: ${e.code}: ${e.message}`);
    throw new ExitError(EXIT.STORAGE, `error: cannot prepare the data folder: ${(e as Error).message}`);
  }
}

async function openDb(cfg: ResolvedNodeConfig, mustExist: boolean): Promise<NodeOrm> {
  if (mustExist && !isPostgresUrl(cfg.db) && cfg.db !== ':memory:' && !existsSync(cfg.db)) {
    throw new ExitError(EXIT.STORAGE, `error: there is no database at ${cfg.db}; run "accord-node init" first`);
  }
  try {
    return await openNodeOrm({ db: cfg.db, pgSchema: cfg.pgSchema });
  } catch (e) {
    if (isAccordError(e)) throw new ExitError(EXIT.CONFIG, `error: ${e.code}: ${e.message}`);
    throw new ExitError(EXIT.STORAGE, `error: cannot open the database: ${(e as Error).message}`);
  }
}

function redact(db: string): string {
  return db.replace(/\/\/[^@/]*@/, '//***@');
}

function table(rows: (string | number)[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => (typeof c === 'number' ? String(c).padStart(widths[i]!) : String(c).padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

function describeSummary(s: ImportSummary): string {
  const lines = [
    `  ${s.objects} objects: ${s.created} created, ${s.updated} updated, ${s.skipped} skipped (${s.durationMs} ms, ${s.objectsPerSecond} objects/s)`,
    `  incidents built: ${s.incidents.derived} (${TLP_LEVELS.map((l) => `${l} ${s.incidents.byTlp[l]}`).join(', ')})`,
  ];
  if (s.incidents.held > 0) lines.push(`  incidents held (not contributed): ${s.incidents.held} — ${Object.entries(s.incidents.heldBy).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (s.unmarked > 0) lines.push(`  objects without a TLP marking: ${s.unmarked}`);
  for (const [kind, label] of [['sectors', 'unknown sectors'], ['countries', 'unknown countries'], ['tlp', 'TLP tags that are not levels']] as const) {
    const m = s.unknown[kind];
    if (Object.keys(m).length > 0) lines.push(`  ${label}: ${Object.entries(m).map(([k, v]) => `${JSON.stringify(k)} ×${v}`).join(', ')}`);
  }
  if (s.unresolvedRefs > 0) lines.push(`  references to objects the node does not hold: ${s.unresolvedRefs}`);
  const ind = s.indicators;
  lines.push(`  indicator values: ${ind.values}${ind.nonSimplePatterns ? `, non-equality patterns ${ind.nonSimplePatterns}` : ''}${ind.unsupportedTests ? `, unsupported kinds ${ind.unsupportedTests}` : ''}${ind.malformedValues ? `, malformed ${ind.malformedValues}` : ''}`);
  const k = s.keys;
  if (k.droppedCves > 0) lines.push(`  warning: CVE ids the federation cannot carry (left out of their incidents): ${k.droppedCves}`);
  if (k.droppedNames > 0) lines.push(`  warning: tool or actor names with nothing left after normalisation (left out of their incidents): ${k.droppedNames}`);
  if (k.normalised + k.cut > 0) lines.push(`  tool and actor names normalised: ${k.normalised} (control characters or white space runs made one space), cut at ${MAX_KEY_LENGTH} characters: ${k.cut}`);
  if (s.legacy > 0) lines.push(`  objects without spec_version (read as STIX 2.0): ${s.legacy}`);
  if (Object.keys(s.registryOnly).length > 0) lines.push(`  kept in the registry only: ${Object.entries(s.registryOnly).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return lines.join('\n') + '\n';
}

function classify(e: unknown): { code: number; message: string } {
  if (e instanceof ExitError) return { code: e.code, message: e.message };
  if (isAccordError(e)) {
    if (e.code === 'STIX_INVALID' || e.code === 'MISP_INVALID' || e.code === 'CSV_INVALID') return { code: EXIT.REFUSED, message: `${e.code}: ${e.message}` };
    if (e.code === 'CONFIG_INVALID') return { code: EXIT.CONFIG, message: `${e.code}: ${e.message}` };
    return { code: EXIT.INTERNAL, message: `${e.code}: ${e.message}` };
  }
  const errno = (e as NodeJS.ErrnoException)?.code;
  if (errno === 'ENOENT' || errno === 'EACCES' || errno === 'EISDIR' || errno === 'EPERM') return { code: EXIT.REFUSED, message: `cannot read the input: ${(e as Error).message}` };
  if (isStorageError(e)) return { code: EXIT.STORAGE, message: `storage error: ${(e as Error).message}` };
  return { code: EXIT.INTERNAL, message: `unexpected error: ${(e as Error)?.message ?? String(e)}` };
}

/** A database driver error (SQLite, PostgreSQL, MikroORM's wrappers) or a failed connection. */
function isStorageError(e: unknown): boolean {
  const x = e as { code?: unknown; severity?: unknown; name?: unknown; sqlState?: unknown };
  if (typeof x?.code === 'string' && (x.code.startsWith('SQLITE_') || ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'ENOSPC', 'EROFS'].includes(x.code))) return true;
  if (typeof x?.severity === 'string' && typeof x?.code === 'string') return true;
  return typeof x?.name === 'string' && /Exception$/.test(x.name) && ('sqlState' in (x as object) || 'errno' in (x as object) || 'code' in (x as object));
}

/** What a run of the operator program reports besides its output. */
interface RunState {
  exitCode: number;
}

/**
 * The `accord-node` program: global options, the commands and their actions, unparsed. Building it
 * runs nothing; `runCli` parses it. Refused inputs set `state.exitCode`.
 */
export function operatorProgram(io: CliIo = defaultIo, state: RunState = { exitCode: EXIT.OK }): Command {
  const program = new Command().name('accord-node').description('Operate an Accord node: prepare its database, import STIX 2.1 / MISP / CSV data, inspect it.');
  for (const option of Object.values(nodeStoreOptions())) program.addOption(option);
  program
    .option('--json', 'print machine-readable JSON on stdout')
    .option('--quiet', 'print nothing but errors')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .addHelpText(
      'after',
      '\nExit codes: 0 done; 1 usage error; 2 an input was refused or unreadable (nothing of it stored);\n3 storage error (database cannot be opened or written); 4 invalid configuration; 5 unexpected error.',
    )
    .showHelpAfterError('(accord-node --help lists commands, options and exit codes)');
  const globals = () => program.opts<GlobalOptions>();
  const say = (text: string) => {
    if (!globals().quiet && !globals().json) io.out(text);
  };
  const json = (v: unknown) => {
    if (globals().json) io.out(`${JSON.stringify(v, null, 2)}\n`);
  };

  program
    .command('init')
    .description('create the data folder, the node secret and operator token, and the database (migrated); with an indicator key, record it for the imports to come')
    .action(async () => {
      const cfg = config(globals(), true);
      const orm = await openDb(cfg, false);
      try {
        if (cfg.indicatorKey !== undefined) {
          const key = cfg.indicatorKey;
          await knexOf(orm).transaction((trx) => claimIndicatorKey(knexAccess(trx, dialectOf(orm)), key, cfg.secret));
        }
      } finally {
        await orm.close(true);
      }
      const keyId = cfg.indicatorKey !== undefined ? indicatorKeyId(cfg.indicatorKey) : null;
      json({ id: cfg.id, db: redact(cfg.db), dataDir: cfg.dataDir, indicatorKeyId: keyId });
      say(`Node ${cfg.id} is ready: database ${redact(cfg.db)}, data folder ${cfg.dataDir}${keyId ? `, indicator key id ${keyId}` : ''}.\n`);
    });

  program
    .command('import')
    .description('import STIX 2.1 bundles, MISP event JSON or CSV files, each in one transaction')
    .argument('<file...>', 'files to import, in order')
    .addOption(new Option('--format <format>', 'input format (auto: detected from the content and the extension)').choices(['auto', 'stix', 'misp', 'csv']).default('auto'))
    .addOption(new Option('--unmarked-tlp <level>', 'TLP level of incidents that carry no marking').argParser(tlpLevel).default(DEFAULT_UNMARKED_TLP))
    .addOption(new Option('--default-severity <n>', 'severity (1–5) of incidents that state none').argParser(severity).default(DEFAULT_SEVERITY))
    .option('--no-progress', 'do not report progress on stderr')
    .option('--stop-on-error', 'stop at the first refused file')
    .action(async (files: string[], o: { format: 'auto' | 'stix' | 'misp' | 'csv'; unmarkedTlp?: TlpLevel; defaultSeverity?: number; progress: boolean; stopOnError?: boolean }) => {
      const cfg = config(globals(), true);
      const orm = await openDb(cfg, false);
      const results: { file: string; status: 'imported' | 'refused'; summary?: ImportSummary; error?: { code: string; message: string; details?: unknown } }[] = [];
      try {
        for (const file of files) {
          const name = basename(file);
          const bar = o.progress && !globals().quiet ? progressReporter(name, io.tty ?? process.stderr.isTTY === true, (l) => io.err(`${l}\n`)) : undefined;
          try {
            if (existsSync(file) && statSync(file).isDirectory()) throw Object.assign(new Error(`${file} is a directory`), { code: 'EISDIR' });
            const summary = await importFile(orm, file, {
              secret: cfg.secret,
              ...(cfg.indicatorKey !== undefined ? { indicatorKey: cfg.indicatorKey } : {}),
              format: o.format,
              ...(o.unmarkedTlp ? { unmarkedTlp: o.unmarkedTlp } : {}),
              ...(o.defaultSeverity ? { defaultSeverity: o.defaultSeverity } : {}),
              ...(bar ? { onProgress: (p) => bar.update(p) } : {}),
            });
            bar?.stop();
            results.push({ file, status: 'imported', summary });
            say(`${name}: imported\n${describeSummary(summary)}`);
          } catch (e) {
            bar?.stop();
            const c = classify(e);
            if (c.code !== EXIT.REFUSED) throw e;
            state.exitCode = EXIT.REFUSED;
            results.push({ file, status: 'refused', error: { code: isAccordError(e) ? e.code : 'UNREADABLE', message: c.message, ...(isAccordError(e) ? { details: e.details } : {}) } });
            io.err(`${name}: refused — ${c.message}\n`);
            if (o.stopOnError) break;
          }
        }
      } finally {
        await orm.close(true);
        const imported = results.filter((r) => r.status === 'imported');
        const total = (k: 'created' | 'updated' | 'skipped') => imported.reduce((n, r) => n + r.summary![k], 0);
        json({ files: results, created: total('created'), updated: total('updated'), skipped: total('skipped'), refused: results.length - imported.length });
        if (files.length > 1) say(`${imported.length} of ${files.length} files imported; ${total('created')} objects created, ${total('updated')} updated, ${total('skipped')} skipped, ${results.length - imported.length} files refused.\n`);
      }
    });

  program
    .command('stats')
    .description('what the node holds: records, incidents and indicators by TLP, imported objects, held incidents, recent imports')
    .action(async () => {
      const cfg = config(globals(), false);
      const orm = await openDb(cfg, true);
      try {
        const core = await nodeStats(orm);
        const ingest = await ingestStats(orm);
        json({ id: cfg.id, ...core, imported: ingest });
        say(`Node ${cfg.id} (${redact(cfg.db)})\n`);
        say(table([
          ['records', 'count'],
          ['organisations', core.organisations],
          ['exploits', core.exploits],
          ['actors', core.actors],
          ['incidents', core.incidents.total],
          ['indicators (on incidents)', core.indicators.total],
          ['indicator values (imported)', ingest.indicatorValues],
          ['contribution requests logged', core.contributions],
        ]));
        say(`\nIncidents by TLP: ${TLP_LEVELS.map((l) => `${l} ${core.incidents.byTlp[l]}`).join(', ')}\n`);
        say(`Indicator key id: ${core.indicatorKeyId ?? '(none recorded)'}\n`);
        if (Object.keys(ingest.objects).length > 0) say(`\nImported objects by type:\n${table([['type', 'count'], ...Object.entries(ingest.objects)])}`);
        if (Object.keys(ingest.held).length > 0) say(`\nIncidents held (not contributed): ${Object.entries(ingest.held).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
        if (ingest.imports.length > 0) {
          say(`\nRecent imports:\n${table([['started', 'format', 'file', 'outcome', 'objects', 'created', 'updated', 'skipped'], ...ingest.imports.map((r) => [r.startedAt, r.format, r.file, r.outcome, r.objects, r.created, r.updated, r.skipped])])}`);
        }
      } finally {
        await orm.close(true);
      }
    });

  program
    .command('markings')
    .description('the TLP levels: what each holds and whether it may contribute to federated aggregates')
    .addOption(contributingTlpOption())
    .action(async (o: { contributingTlp: string }) => {
      const cfg = config(globals(), false, o.contributingTlp);
      const orm = await openDb(cfg, true);
      try {
        const core = await nodeStats(orm);
        const ingest = await ingestStats(orm);
        const levels = TLP_LEVELS.map((l) => ({
          level: l,
          contributes: cfg.contributingTlp.includes(l),
          never: NEVER_CONTRIBUTING_TLP.includes(l),
          incidents: core.incidents.byTlp[l],
          indicators: core.indicators.byTlp[l],
          importedObjects: ingest.objectsByTlp[l],
          markingDefinitions: [TLP2_MARKING_IDS[l], ...Object.entries(TLP1_MARKING_IDS).filter(([c]) => (c === 'WHITE' ? 'CLEAR' : c) === l).map(([, v]) => v)],
        }));
        json({ id: cfg.id, contributingTlp: cfg.contributingTlp, defaultContributingTlp: DEFAULT_CONTRIBUTING_TLP, unmarkedObjects: ingest.objectsByTlp.UNMARKED, levels });
        say(
          table([
            ['TLP', 'contributes', 'incidents', 'indicators', 'imported objects'],
            ...levels.map((l) => [l.level, l.contributes ? 'yes' : l.never ? 'never' : 'no (operator rule)', l.incidents, l.indicators, l.importedObjects]),
            ['(unmarked)', '-', '-', '-', ingest.objectsByTlp.UNMARKED],
          ]),
        );
        say(`\nContributing TLP levels: ${cfg.contributingTlp.join(', ') || '(none)'}. AMBER+STRICT and RED never leave the node, even as aggregates.\n`);
        say(`Marking definitions recognised (TLP 2.0 extension; TLP 1.0 mapped WHITE → CLEAR):\n${levels.map((l) => `  ${l.level.padEnd(12)} ${l.markingDefinitions.join(', ')}`).join('\n')}\n`);
      } finally {
        await orm.close(true);
      }
    });

  program
    .command('audit')
    .description('the contribution requests this node answered or refused, newest first (its own log)')
    .option('--limit <n>', 'how many entries', limit, 50)
    .action(async (o: { limit: number }) => {
      const cfg = config(globals(), false);
      const orm = await openDb(cfg, true);
      try {
        const log = await recentContributions(orm, o.limit);
        json({ id: cfg.id, contributions: log });
        if (log.length === 0) say('No contribution request has reached this node yet.\n');
        else {
          say(
            table([
              ['at', 'request', 'query', 'measure', 'group by', 'outcome', 'grant', 'groups', 'ms'],
              ...log.map((r) => [r.at, r.requestId, r.queryId.length > 16 ? `${r.queryId.slice(0, 16)}…` : r.queryId, r.measure, r.groupBy.join(',') || '-', r.outcome, r.grantPresent ? 'yes' : 'no', r.groupsReturned ?? '-', Math.round(r.durationMs)]),
            ]),
          );
        }
      } finally {
        await orm.close(true);
      }
    });

  return program;
}

/**
 * Runs the CLI with `argv` (arguments after the program name). Resolves with the exit code; never
 * rejects (errors are printed to `io.err`).
 */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  const state: RunState = { exitCode: EXIT.OK };
  try {
    await operatorProgram(io, state).parseAsync([...argv], { from: 'user' });
    return state.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    const c = classify(e);
    io.err(`${c.message.startsWith('error:') ? c.message : `error: ${c.message}`}\n`);
    return c.code;
  }
}
