#!/usr/bin/env node
/**
 * `npm start`: a local federation on this machine — three demo nodes (two national CERTs and an
 * energy ISAC), each a separate process over its own SQLite file seeded with synthetic incidents,
 * and the gateway on http://localhost:4000/graphql. Prints the URLs, a ready-to-paste query and the
 * operator credentials, and stops every process on Ctrl-C.
 *
 * Flags (environment fallback):
 *   --port <n>              ACCORD_PORT             gateway port (4000; 0 = any free port)
 *   --data-dir <dir>        ACCORD_DATA_DIR         where databases, seeds and secrets live (./data)
 *   --incidents <n>         ACCORD_DEMO_INCIDENTS   synthetic incidents per node on first start (20000)
 *   --seed <s>              ACCORD_DEMO_SEED        generator seed (accord-demo)
 *   --fresh                                         delete the demo databases and seeds first
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { DEMO_NODES, generateFederation } from './synth/index.js';

interface Listening {
  event: 'listening';
  url: string;
  operatorUrl?: string;
  id?: string;
}

interface Managed {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

const here = fileURLToPath(new URL('.', import.meta.url));
const NODE_MAIN = resolve(here, '../nodes/main.js');
const GATEWAY_MAIN = resolve(here, '../gateway/main.js');
const READY_TIMEOUT_MS = 180_000;

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

const env = process.env;
const program = new Command()
  .name('accord-start')
  .description('Start a local Accord federation: demo nodes plus the gateway.')
  .option('--port <n>', 'gateway port', nonNegativeInt, env.ACCORD_PORT ? nonNegativeInt(env.ACCORD_PORT) : 4000)
  .option('--data-dir <dir>', 'data folder', env.ACCORD_DATA_DIR ?? './data')
  .option('--incidents <n>', 'synthetic incidents per node on first start', nonNegativeInt, env.ACCORD_DEMO_INCIDENTS ? nonNegativeInt(env.ACCORD_DEMO_INCIDENTS) : 20_000)
  .option('--seed <s>', 'synthetic data seed', env.ACCORD_DEMO_SEED ?? 'accord-demo')
  .option('--fresh', 'delete the demo databases and seeds first', false)
  .showHelpAfterError();

const children: Managed[] = [];
let stopping = false;

function launch(name: string, script: string, args: string[]): { managed: Managed; ready: Promise<Listening> } {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const managed: Managed = { name, child, exited };
  children.push(managed);
  const stderrTail: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderrTail.push(line);
    if (stderrTail.length > 20) stderrTail.shift();
    if (process.env.ACCORD_VERBOSE) process.stderr.write(`[${name}] ${line}\n`);
  });
  const ready = new Promise<Listening>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${name} did not become ready within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as Listening;
        if (msg.event === 'listening') {
          clearTimeout(timer);
          res(msg);
        }
      } catch {
        // not a status line
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`${name} exited with code ${code} before it was ready:\n  ${stderrTail.join('\n  ')}`));
    });
  });
  void exited.then((code) => {
    if (!stopping) {
      console.error(`\n${name} stopped unexpectedly (exit code ${code}); stopping the federation.`);
      void shutdown(1);
    }
  });
  return { managed, ready };
}

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    console.log('\nStopping the federation…');
  }
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGTERM');
  const all = Promise.all(children.map((c) => c.exited));
  const timeout = new Promise((res) => setTimeout(res, 10_000));
  await Promise.race([all, timeout]);
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  process.exit(code);
}

function exampleQuery(): string {
  return `query CrossBorder {
  crossBorderPattern(
    groupBy: [REGION, SECTOR]
    filter: { sectors: ["energy"], from: "2024-01-01", to: "2025-01-01" }
  ) {
    cells { region sector value low high }
    accuracy { mechanism stdDev ci95 }
    charge { rho epsilon delta }
    coverage { asked answered missing { node reason } }
  }
}`;
}

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<{ port: number; dataDir: string; incidents: number; seed: string; fresh: boolean }>();
  const dataDir = resolve(o.dataDir);
  const seedDir = join(dataDir, 'seed');
  mkdirSync(seedDir, { recursive: true });

  if (o.fresh) {
    for (const n of DEMO_NODES) {
      for (const f of [`${n.id}.sqlite`, `${n.id}.sqlite-wal`, `${n.id}.sqlite-shm`]) rmSync(join(dataDir, f), { force: true });
      rmSync(join(seedDir, `${n.id}.json`), { force: true });
    }
  }

  const needSeed = DEMO_NODES.filter((n) => !existsSync(join(dataDir, `${n.id}.sqlite`)) && !existsSync(join(seedDir, `${n.id}.json`)));
  if (needSeed.length > 0) {
    const t0 = Date.now();
    process.stdout.write(`Generating synthetic incidents (${o.incidents.toLocaleString('en')} per node, seed "${o.seed}")… `);
    const fed = generateFederation({ seed: o.seed, nodes: DEMO_NODES, incidentsPerNode: o.incidents });
    for (const n of needSeed) writeFileSync(join(seedDir, `${n.id}.json`), JSON.stringify(fed.datasets[n.id]));
    writeFileSync(join(seedDir, 'planted.json'), JSON.stringify(fed.planted, null, 2));
    console.log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s.`);
  }

  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  console.log(`Starting ${DEMO_NODES.length} nodes (the first start seeds their databases)…`);
  const nodes = DEMO_NODES.map((n) => {
    const args = ['--id', n.id, '--port', '0', '--operator-port', '0', '--data-dir', dataDir, '--db', join(dataDir, `${n.id}.sqlite`)];
    const seedFile = join(seedDir, `${n.id}.json`);
    if (existsSync(seedFile)) args.push('--seed-file', seedFile);
    return { spec: n, ...launch(n.id, NODE_MAIN, args) };
  });
  const nodeReady = await Promise.all(nodes.map((n) => n.ready));

  const registry = nodes.map((n, i) => ({ id: n.spec.id, name: n.spec.label, kind: n.spec.kind, url: nodeReady[i]!.url }));
  const registryFile = join(dataDir, 'nodes.json');
  writeFileSync(registryFile, JSON.stringify(registry, null, 2));

  const gateway = launch('gateway', GATEWAY_MAIN, ['--port', String(o.port), '--nodes', registryFile]);
  const gw = await gateway.ready;

  const line = '─'.repeat(72);
  console.log(`\n${line}\nAccord local federation is up.\n${line}`);
  console.log(`Gateway (analyst GraphQL API):  ${gw.url}`);
  for (const [i, n] of nodes.entries()) {
    const r = nodeReady[i]!;
    const tokenFile = join(dataDir, `${n.spec.id}.operator-token`);
    const token = existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : '(see the node log)';
    console.log(`Node ${n.spec.id.padEnd(12)} contribution endpoint ${r.url}`);
    console.log(`${' '.repeat(18)}operator API ${r.operatorUrl}  (Authorization: Bearer ${token})`);
  }
  console.log(`\nTry it (paste into a shell):\n`);
  const body = JSON.stringify({ query: exampleQuery() });
  console.log(`curl -s ${gw.url} -H 'content-type: application/json' --data '${body.replace(/'/g, "'\\''")}'\n`);
  console.log(`or open ${gw.url} and paste:\n\n${exampleQuery()}\n`);
  console.log(`Node operator check:  curl -s -H "Authorization: Bearer <token>" <operator API>/stats`);
  console.log(`\nPress Ctrl-C to stop every process.`);
}

main().catch((e: unknown) => {
  console.error(`\nCould not start the federation: ${e instanceof Error ? e.message : String(e)}`);
  void shutdown(1);
});
