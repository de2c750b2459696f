/**
 * `accord-synth`: write a synthetic federation to a directory — `<nodeId>.json` (a `NodeDataset`) per
 * node, or with `--format stix` a STIX 2.1 bundle `<nodeId>.stix.json` per node (for `accord-node
 * import`), and `planted.json` (the planted campaigns' ground truth and the node-local family names).
 *
 *   node dist/scripts/synth/cli.js --out ./data/synth --seed 7 --incidents-per-node 100000 --nodes 3 --format stix
 *
 * Every flag and its default: `--help` ({@link synthProgram}).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { AccordError, isAccordError } from '../../schema/errors.js';
import { isEntry } from '../entry.js';
import { generateFederation } from './generate.js';
import { writeStixBundle } from './stix.js';
import { ALL_NODES, federationNodes } from './nodes.js';

function integer(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer between ${min} and ${max}.`);
    }
    return n;
  };
}

export interface SynthSummary {
  out: string;
  files: string[];
  incidents: Record<string, number>;
  millis: number;
}

/** The `accord-synth` program, unparsed; it throws instead of exiting (`exitOverride`). */
export function synthProgram(): Command {
  return new Command()
    .name('accord-synth')
    .description('Write a deterministic synthetic federation (one NodeDataset JSON per node, plus planted.json).')
    .requiredOption('--out <dir>', 'output directory (created when missing)')
    .option('--seed <seed>', 'seed (any string; numbers are used as written)', '1')
    .option('--incidents-per-node <n>', 'incidents per node, planted ones included', integer('--incidents-per-node', 0, 10_000_000), 10_000)
    .option('--nodes <n>', `number of predefined nodes (1–${ALL_NODES.length}; the first 3 are the demo federation)`, integer('--nodes', 1, ALL_NODES.length), 3)
    .option('--from <date>', 'first day of the window (YYYY-MM-DD)', '2024-01-01')
    .option('--to <date>', 'last day of the window, inclusive (YYYY-MM-DD)', '2024-12-31')
    .option('--no-planted', 'do not plant cross-border campaigns')
    .option('--format <format>', 'dataset (NodeDataset JSON) or stix (STIX 2.1 bundle)', 'dataset')
    .option('--pretty', 'indent the JSON output')
    .option('--quiet', 'print nothing')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
}

/**
 * Run the CLI with `argv` (user arguments only, without `node` and the script path).
 * Resolves with what was written; rejects with an `AccordError('CONFIG_INVALID')` for bad generator
 * options, or a commander error for bad arguments.
 */
export async function runSynthCli(argv: readonly string[]): Promise<SynthSummary> {
  const program = synthProgram();
  program.parse([...argv], { from: 'user' });
  const o = program.opts<{
    out: string;
    seed: string;
    incidentsPerNode: number;
    nodes: number;
    from: string;
    to: string;
    planted: boolean;
    format: string;
    pretty?: boolean;
    quiet?: boolean;
  }>();

  if (o.format !== 'dataset' && o.format !== 'stix') throw new AccordError('CONFIG_INVALID', '--format must be dataset or stix.', { field: 'format' });
  const t0 = performance.now();
  const fed = generateFederation({
    seed: o.seed,
    nodes: federationNodes(o.nodes),
    incidentsPerNode: o.incidentsPerNode,
    from: o.from,
    to: o.to,
    plantCampaigns: o.planted,
  });
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });
  const indent = o.pretty ? 2 : undefined;
  const files: string[] = [];
  const incidents: Record<string, number> = {};
  for (const [id, ds] of Object.entries(fed.datasets)) {
    if (o.format === 'stix') {
      const file = join(out, `${id}.stix.json`);
      await writeStixBundle(file, ds, { namespace: id });
      files.push(file);
    } else {
      const file = join(out, `${id}.json`);
      writeFileSync(file, JSON.stringify(ds, null, indent));
      files.push(file);
    }
    incidents[id] = ds.incidents.length;
  }
  const plantedFile = join(out, 'planted.json');
  writeFileSync(plantedFile, JSON.stringify({ seed: o.seed, from: o.from, to: o.to, planted: fed.planted, localTools: fed.localTools }, null, 2));
  files.push(plantedFile);
  const millis = Math.round(performance.now() - t0);
  if (!o.quiet) {
    for (const [id, n] of Object.entries(incidents)) process.stdout.write(`${id}: ${n} incidents\n`);
    process.stdout.write(`${fed.planted.length} planted campaigns; wrote ${files.length} files to ${out} in ${millis} ms\n`);
  }
  return { out, files, incidents, millis };
}

if (isEntry(import.meta.url)) {
  runSynthCli(process.argv.slice(2)).catch((e: unknown) => {
    const err = e as { code?: string; exitCode?: number; message?: string };
    if (isAccordError(e)) {
      process.stderr.write(`accord-synth: ${e.code}: ${e.message}\n`);
      process.exitCode = 2;
    } else if (typeof err.code === 'string' && err.code.startsWith('commander.')) {
      process.exitCode = err.exitCode ?? 1; // commander has already printed the message (or help)
    } else {
      process.stderr.write(`accord-synth: ${err.message ?? String(e)}\n`);
      process.exitCode = 1;
    }
  });
}
