#!/usr/bin/env node
/**
 * `npm start`: a local federation on this machine — three demo nodes (two national CERTs and an
 * energy ISAC), each a separate process over its own SQLite file, and the gateway on
 * http://localhost:4000/graphql. Prints the URLs, a development token per demo member, a
 * ready-to-paste query and the operator credentials, and stops every process on Ctrl-C.
 *
 * Before any process starts it makes sure the data folder holds (creating what is missing, never
 * overwriting): the development token issuer (`dev-issuer.jwk`, `dev-jwks.json`), the gateway's
 * grant signing key (`gateway-signing.jwk`) and its public JWKS for the nodes (`gateway.jwks.json`),
 * the federation's indicator key shared by the gateway and every node (`indicator.key`: indicator
 * values are hashed under it at import, and indicator filters are matched with it),
 * and the demo access configuration (`members.json`, `policies.cedar`, `budgets.json`). Edit those
 * and send the gateway SIGHUP to reload them.
 *
 * On first start the demo data goes through the operators' real import path: the synthetic generator
 * writes one STIX 2.1 bundle per node (data/seed/<id>.stix.json) and `accord-node import` loads it
 * into a new database file, which is moved into place only once the import has succeeded.
 *
 * Flags, their environment fallbacks and defaults: `npm start -- --help` ({@link startProgram}).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { countryByAlpha2 } from '../schema/reference/index.js';
import { devIssuerFiles, ensureDevIssuer, mintToken } from '../gateway/auth/dev-issuer.js';
import { DEFAULT_CONFIG } from '../gateway/config.js';
import { ensureSigningKey } from '../gateway/grants/signer.js';
import { DEMO_BUDGETS, DEMO_MEMBERS, DEMO_POLICIES } from '../gateway/policy/defaults.js';
import { isEntry } from './entry.js';
import { DEMO_NODES, generateFederation, writeStixBundle } from './synth/index.js';

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
const NODE_CLI = resolve(here, '../nodes/cli/index.js');
const GATEWAY_MAIN = resolve(here, '../gateway/main.js');
const READY_TIMEOUT_MS = 180_000;
/** Lifetime of the development tokens printed at start. */
const TOKEN_TTL_SECONDS = 12 * 3600;
/** The demo nodes' own per-member cap (ρ over the 365-day horizon): the largest demo allocation (see DEMO_BUDGETS). */
const NODE_MEMBER_CAP_RHO = Math.max(DEMO_BUDGETS.allocation.rho, ...DEMO_BUDGETS.allocations.map((a) => a.rho));

/** K of the demo federation: a national CERT plus the energy ISAC. */
export const DEMO_ORGANISATION_MULTIPLICITY = 2;

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

/** The `npm start` program, unparsed. */
export function startProgram(): Command {
  return new Command()
    .name('accord-start')
    .description('Start a local Accord federation: demo nodes plus the gateway.')
    .addOption(new Option('--port <n>', 'gateway port (0 = any free port)').env('ACCORD_PORT').argParser(nonNegativeInt).default(DEFAULT_CONFIG.port))
    .addOption(new Option('--data-dir <dir>', 'where databases, bundles and secrets live').env('ACCORD_DATA_DIR').default('./data'))
    .addOption(new Option('--incidents <n>', 'synthetic incidents per node on first start').env('ACCORD_DEMO_INCIDENTS').argParser(nonNegativeInt).default(20_000))
    .addOption(new Option('--seed <s>', 'synthetic data seed').env('ACCORD_DEMO_SEED').default('accord-demo'))
    .option('--fresh', 'delete the demo databases (nodes, gateway ledger) and bundles first', false)
    .showHelpAfterError();
}

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

/**
 * Runs `accord-node import` for one node into `<id>.sqlite.importing` and moves the file into place when
 * the import succeeded; the bundle is deleted then (it is regenerated whenever a database is missing).
 * Rejects with the CLI's error output otherwise.
 */
async function importBundle(id: string, dataDir: string, bundle: string, indicatorKeyFile: string): Promise<void> {
  const db = join(dataDir, `${id}.sqlite`);
  const work = `${db}.importing`;
  for (const f of [work, `${work}-wal`, `${work}-shm`]) rmSync(f, { force: true });
  const child = spawn(process.execPath, [NODE_CLI, '--id', id, '--data-dir', dataDir, '--db', work, '--indicator-key-file', indicatorKeyFile, '--quiet', 'import', '--no-progress', bundle], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: process.env,
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
  if (code !== 0) throw new Error(`importing the demo data of ${id} failed (exit code ${code}):\n${stderr.trim()}`);
  rmSync(`${work}-shm`, { force: true });
  if (existsSync(`${work}-wal`)) renameSync(`${work}-wal`, `${db}-wal`);
  renameSync(work, db);
  rmSync(bundle, { force: true });
}

/** Writes `content` to `path` unless the file exists; returns the path. */
function writeIfAbsent(path: string, content: string): string {
  if (!existsSync(path)) writeFileSync(path, content);
  return path;
}

/** Where the registry says a demo node is: its main country (national CERTs) or its region. */
function nodeGeography(countries: Readonly<Record<string, number>>, kind: string): { country?: string; region?: string } {
  const main = Object.entries(countries).sort((a, b) => b[1] - a[1])[0]?.[0];
  const c = main ? countryByAlpha2(main) : undefined;
  if (!c) return {};
  return kind === 'national-cert' ? { country: c.alpha2 } : { region: c.region };
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
    coverage { asked answered missing { node reason } excluded { node rules } }
    cached
    remainingBudget { node remaining { rho } }
  }
}`;
}

async function main(): Promise<void> {
  const o = startProgram().parse().opts<{ port: number; dataDir: string; incidents: number; seed: string; fresh: boolean }>();
  const dataDir = resolve(o.dataDir);
  const seedDir = join(dataDir, 'seed');
  mkdirSync(seedDir, { recursive: true });

  if (o.fresh) {
    for (const n of DEMO_NODES) {
      for (const f of [`${n.id}.sqlite`, `${n.id}.sqlite-wal`, `${n.id}.sqlite-shm`]) rmSync(join(dataDir, f), { force: true });
      for (const f of [`${n.id}.json`, `${n.id}.stix.json`]) rmSync(join(seedDir, f), { force: true });
    }
    for (const f of ['gateway.sqlite', 'gateway.sqlite-wal', 'gateway.sqlite-shm']) rmSync(join(dataDir, f), { force: true });
  }

  // Keys and access configuration first: the nodes need the grant keys when they start.
  const issuer = await ensureDevIssuer(devIssuerFiles(dataDir));
  const signingKey = join(dataDir, 'gateway-signing.jwk');
  const grantJwks = join(dataDir, 'gateway.jwks.json');
  await ensureSigningKey(signingKey, grantJwks);
  const membersFile = writeIfAbsent(join(dataDir, 'members.json'), `${JSON.stringify(DEMO_MEMBERS, null, 2)}\n`);
  const policiesFile = writeIfAbsent(join(dataDir, 'policies.cedar'), DEMO_POLICIES);
  const budgetsFile = writeIfAbsent(join(dataDir, 'budgets.json'), `${JSON.stringify(DEMO_BUDGETS, null, 2)}\n`);
  const indicatorKeyFile = join(dataDir, 'indicator.key');
  const newIndicatorKey = !existsSync(indicatorKeyFile);
  if (newIndicatorKey) writeFileSync(indicatorKeyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  const importedBefore = DEMO_NODES.filter((n) => existsSync(join(dataDir, `${n.id}.sqlite`)));
  if (newIndicatorKey && importedBefore.length > 0) {
    console.log(`A new indicator key was generated, but ${importedBefore.map((n) => n.id).join(', ')} hold indicators hashed before it existed: their nodes will refuse indicator filters. Run with --fresh to re-import.`);
  }

  // A node's database exists only once its bundle was imported completely.
  const needImport = DEMO_NODES.filter((n) => !existsSync(join(dataDir, `${n.id}.sqlite`)));
  if (needImport.length > 0) {
    const t0 = Date.now();
    process.stdout.write(`Generating synthetic incidents as STIX 2.1 bundles (${o.incidents.toLocaleString('en')} per node, seed "${o.seed}")… `);
    const fed = generateFederation({ seed: o.seed, nodes: DEMO_NODES, incidentsPerNode: o.incidents });
    let objects = 0;
    for (const n of needImport) objects += (await writeStixBundle(join(seedDir, `${n.id}.stix.json`), fed.datasets[n.id]!, { namespace: n.id })).objects;
    writeFileSync(join(seedDir, 'planted.json'), JSON.stringify(fed.planted, null, 2));
    console.log(`${objects.toLocaleString('en')} objects in ${((Date.now() - t0) / 1000).toFixed(1)} s.`);
    const t1 = Date.now();
    process.stdout.write(`Importing them with accord-node import… `);
    await Promise.all(needImport.map((n) => importBundle(n.id, dataDir, join(seedDir, `${n.id}.stix.json`), indicatorKeyFile)));
    console.log(`done in ${((Date.now() - t1) / 1000).toFixed(1)} s.`);
  }

  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  console.log(`Starting ${DEMO_NODES.length} nodes…`);
  const nodes = DEMO_NODES.map((n) => {
    const args = [
      '--id', n.id,
      '--port', '0',
      '--operator-port', '0',
      '--data-dir', dataDir,
      '--db', join(dataDir, `${n.id}.sqlite`),
      '--gateway-jwks', grantJwks,
      '--member-cap-rho', String(NODE_MEMBER_CAP_RHO),
      '--indicator-key-file', indicatorKeyFile,
    ];
    return { spec: n, ...launch(n.id, NODE_MAIN, args) };
  });
  const nodeReady = await Promise.all(nodes.map((n) => n.ready));

  const registry = nodes.map((n, i) => ({ id: n.spec.id, name: n.spec.label, kind: n.spec.kind, url: nodeReady[i]!.url, ...nodeGeography(n.spec.countries, n.spec.kind) }));
  const registryFile = join(dataDir, 'nodes.json');
  writeFileSync(registryFile, JSON.stringify(registry, null, 2));

  const gateway = launch('gateway', GATEWAY_MAIN, [
    '--port', String(o.port),
    '--nodes', registryFile,
    '--data-dir', dataDir,
    '--members', membersFile,
    '--policies', policiesFile,
    '--budgets', budgetsFile,
    // An energy company may report to its national CERT and to the energy ISAC (CERT countries are
    // disjoint, there is one ISAC): one organisation is at most at two demo nodes.
    '--organisation-multiplicity', String(DEMO_ORGANISATION_MULTIPLICITY),
    '--jwks-file', issuer.jwksFile,
    '--signing-key', signingKey,
    '--signing-jwks-out', grantJwks,
    '--indicator-key-file', indicatorKeyFile,
  ]);
  const gw = await gateway.ready;
  const tokens = await Promise.all(DEMO_MEMBERS.map(async (m) => ({ member: m, token: await mintToken({ key: issuer.keyFile, member: m.id, ttlSeconds: TOKEN_TTL_SECONDS }) })));
  const staffToken = await mintToken({ key: issuer.keyFile, member: DEMO_MEMBERS[0]!.id, ttlSeconds: TOKEN_TTL_SECONDS, staff: true });

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
  console.log(`\nDevelopment tokens (valid ${TOKEN_TTL_SECONDS / 3600} h; \`npm run token -- --member <id>\` mints more):`);
  for (const { member, token } of tokens) {
    console.log(`  ${member.id.padEnd(16)} ${member.name} — region ${member.region}, groups ${member.groups.join(', ')}, TLP ≤ ${member.tlpCeiling}`);
    console.log(`  ${' '.repeat(16)} ${token}`);
  }
  console.log(`  ${'staff'.padEnd(16)} ${DEMO_MEMBERS[0]!.id} with the staff role (may call reloadPolicies)`);
  console.log(`  ${' '.repeat(16)} ${staffToken}`);
  console.log(`\nTry it as ${tokens[0]!.member.id} (paste into a shell):\n`);
  const body = JSON.stringify({ query: exampleQuery() });
  console.log(`curl -s ${gw.url} -H 'content-type: application/json' -H 'authorization: Bearer ${tokens[0]!.token}' --data '${body.replace(/'/g, "'\\''")}'\n`);
  console.log(`Ask the same as ${tokens[2]!.member.id} to see a policy denial (rule isac-sector-breakdown-own-region);`);
  console.log(`ask it twice to see the answer cache (cached: true, nothing charged). Access rules: ${policiesFile}`);
  console.log(`\nThe query:\n\n${exampleQuery()}\n`);
  console.log(`Node operator check:  curl -s -H "Authorization: Bearer <token>" <operator API>/stats`);
  console.log(`\nPress Ctrl-C to stop every process.`);
}

if (isEntry(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(`\nCould not start the federation: ${e instanceof Error ? e.message : String(e)}`);
    void shutdown(1);
  });
}
