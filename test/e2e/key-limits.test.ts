/**
 * The audit's leak, end to end (real processes, real HTTP, SQLite): a node whose one organisation's
 * incidents carry a 230-character tool name, a tab inside a malware name and an 8-digit CVE id —
 * each of which the gateway's validation used to refuse, failing the whole question
 * (CONTRIBUTION_INVALID) exactly when such a record fell inside its filter. The bundle goes through
 * the operator CLI's STIX importer (dist/nodes/cli/index.js), the node (dist/nodes/main.js) serves the
 * imported database, the gateway (dist/gateway/main.js) asks it.
 *
 * TOOL and EXPLOIT questions over a window that holds those records and one that does not must both
 * answer: HTTP 200, no error, complete coverage, and the same response shape (the values are noised;
 * no key the one organisation holds reaches the selection threshold).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ensureSigningKey } from '../../gateway/grants/signer.js';
import { makeAccessFixture, type AccessFixture } from '../helpers/access.js';
import { bundle, identity, incident, location, rel, base } from '../ingest/helpers.js';
import { GATEWAY_MAIN, NODE_MAIN, ROOT, gql, makeTempDir, removeDir, startProcess, stopProcess, waitListening, type Proc } from './helpers.js';

const CLI = join(ROOT, 'dist/nodes/cli/index.js');
const NODE_ID = 'cert-keys';
const MEMBER = 'eu-analyst';
/** Holds the incident with the three awkward keys. */
const WITH = { from: '2024-05-01', to: '2024-06-01' };
/** Holds only an ordinary incident of the same organisation. */
const WITHOUT = { from: '2024-07-01', to: '2024-08-01' };

let dir: string | undefined;
let fx: AccessFixture | undefined;
let node: Proc | undefined;
let gateway: Proc | undefined;
let gatewayUrl = '';
let token = '';

function stixBundle(): object {
  const org = identity(['energy']);
  const de = location('DE');
  const tool = base('tool', { name: 'T'.repeat(230) });
  const malware = base('malware', { name: 'Black\tCat', is_family: true });
  const vuln = base('vulnerability', { name: 'a vulnerability', external_references: [{ source_name: 'cve', external_id: 'CVE-2024-12345678' }] });
  const kev = base('vulnerability', { name: 'CVE-2024-3400' });
  const awkward = incident('2024-05-10', { tlp: 'GREEN' });
  const plain = incident('2024-07-10', { tlp: 'GREEN' });
  return bundle([
    org, de, rel('located-at', org, de), tool, malware, vuln, kev,
    awkward, rel('targets', awkward, org), rel('uses', awkward, tool), rel('uses', awkward, malware), rel('exploits', awkward, vuln), rel('exploits', awkward, kev),
    plain, rel('targets', plain, org), rel('exploits', plain, kev),
  ]);
}

beforeAll(async () => {
  dir = makeTempDir('key-limits');
  fx = await makeAccessFixture({ budgets: { nodeCap: { rho: 1_000, delta: 1 }, allocation: { rho: 1_000, delta: 1 } } });
  token = await fx.token(MEMBER);
  await ensureSigningKey(fx.signingKey, fx.signingJwksOut);
  const file = join(dir, 'bundle.json');
  writeFileSync(file, JSON.stringify(stixBundle()));
  const imp = spawnSync(process.execPath, [CLI, '--id', NODE_ID, '--data-dir', dir, '--json', 'import', file], { encoding: 'utf8' });
  expect(imp.status, imp.stderr).toBe(0);
  const summary = (JSON.parse(imp.stdout) as { files: { summary: { incidents: { derived: number }; keys: Record<string, number> } }[] }).files[0]!.summary;
  expect(summary.incidents.derived).toBe(2);
  expect(summary.keys).toEqual({ normalised: 1, cut: 1, droppedNames: 0, droppedCves: 1 });

  node = startProcess(NODE_ID, NODE_MAIN, [
    '--id', NODE_ID, '--port', '0', '--operator-port', '0', '--data-dir', dir, '--log-level', 'warn',
    '--gateway-jwks', fx.signingJwksOut, '--member-cap-rho', '1000',
  ]);
  const listening = await waitListening(node, 60_000);
  const nodesFile = join(dir, 'nodes.json');
  writeFileSync(nodesFile, JSON.stringify([{ id: NODE_ID, name: 'CERT-KEYS', kind: 'national-cert', url: listening.url }]));
  gateway = startProcess('gateway', GATEWAY_MAIN, [
    '--port', '0', '--host', '127.0.0.1', '--nodes', nodesFile, '--quorum', 'STRICT', '--refresh-ms', '0', '--log-level', 'warn',
    ...fx.cliArgs(),
  ]);
  gatewayUrl = (await waitListening(gateway, 60_000)).url;
}, 120_000);

afterAll(async () => {
  await Promise.all([gateway, node].filter((p): p is Proc => p !== undefined).map((p) => stopProcess(p, 'SIGTERM', 5_000)));
  removeDir(dir);
  fx?.remove();
});

const ENVELOPE = 'queryId measure coverage { asked answered missing { node reason code } complete } selection { method threshold delta released } cached';
const CROSS = /* GraphQL */ `
  query Cross($groupBy: [PatternDimension!]!, $filter: PatternFilter) {
    crossBorderPattern(groupBy: $groupBy, filter: $filter) { groupBy cells { tool exploit { cve } value rawValue selected } ${ENVELOPE} }
  }`;
const TOPK = /* GraphQL */ `
  query TopK($by: TopKDimension!, $filter: PatternFilter) {
    topK(k: 3, by: $by, filter: $filter) { by k entries { rank tool exploit { cve } value selected } ${ENVELOPE} }
  }`;

/** The structure of a JSON value: types in place of values, arrays element by element. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, shape(x)]));
  return v === null ? 'null' : typeof v;
}

async function ask(field: string, query: string, variables: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await gql<Record<string, Record<string, unknown>>>(gatewayUrl, query, variables, token);
  expect(res.errors, res.text.slice(0, 800)).toBeUndefined();
  expect(res.status).toBe(200);
  const answer = res.data![field]!;
  expect(answer.coverage).toEqual({ asked: [NODE_ID], answered: [NODE_ID], missing: [], complete: true });
  return answer;
}

test.each([
  ['crossBorderPattern by TOOL', 'crossBorderPattern', CROSS, { groupBy: ['TOOL'] }],
  ['crossBorderPattern by EXPLOIT', 'crossBorderPattern', CROSS, { groupBy: ['EXPLOIT'] }],
  ['topK by TOOL', 'topK', TOPK, { by: 'TOOL' }],
  ['topK by EXPLOIT', 'topK', TOPK, { by: 'EXPLOIT' }],
])('%s answers alike whether or not the window holds the awkward keys', async (_, field, query, args) => {
  const withKeys = await ask(field, query, { ...args, filter: WITH });
  const withoutKeys = await ask(field, query, { ...args, filter: WITHOUT });
  expect(shape(withKeys)).toEqual(shape(withoutKeys));
}, 60_000);
