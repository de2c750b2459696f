/**
 * A whole node in-process over real sockets on 127.0.0.1: the federated endpoint answering
 * CONTRIBUTION_OPERATION, the operator API and its token, the seed file, and what never leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CONTRIBUTION_OPERATION, DIMENSIONS, GRANT_HEADER, MEASURES, type Contribution, type ContributionRequest } from '../../schema/contract/contribution.js';
import { AccordError } from '../../schema/errors.js';
import { indicatorHash, normaliseIndicator } from '../../schema/contract/indicator.js';
import { createNode, type RunningNode } from '../../nodes/app.js';
import { oracleContribution } from '../../nodes/contribution/oracle.js';
import type { ContributionGuard } from '../../nodes/contribution/guard.js';
import { makeDataset } from './helpers/dataset.js';
import { tempDir } from './helpers/db.js';
import { createGatewayKey, type GatewayKey } from '../helpers/grants.js';

const TOKEN = 'operator-token-for-tests-0123456789';
const gatewayKey: Promise<GatewayKey> = createGatewayKey();

/** The grant header the gateway would send to `nodeId` for `request`. */
async function granted(nodeId: string, request: ContributionRequest): Promise<Record<string, string>> {
  return { [GRANT_HEADER]: await (await gatewayKey).grantFor(request, { aud: nodeId }) };
}

async function post(node: RunningNode, request: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: { data?: { contribution: Contribution } | null; errors?: { message: string; extensions?: Record<string, unknown> }[] } }> {
  const res = await fetch(node.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: CONTRIBUTION_OPERATION, variables: { request } }),
  });
  return { status: res.status, body: (await res.json()) as never };
}

async function operator(node: RunningNode, path: string, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(node.operatorUrl + path, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('a running node (SQLite, real HTTP on 127.0.0.1)', () => {
  const dir = tempDir();
  const data = makeDataset({ organisations: 25, incidents: 1500, seed: 11, restrictedShare: 0.4, indicatorsPerIncident: 2 });
  let node: RunningNode;

  beforeAll(async () => {
    const seedFile = join(dir, 'dataset.json');
    writeFileSync(seedFile, JSON.stringify(data));
    const gatewayJwks = (await gatewayKey).writeJwks(dir);
    node = await createNode({ id: 'node-a', host: '127.0.0.1', port: 0, operatorPort: 0, dataDir: dir, operatorToken: TOKEN, seedFile, gatewayJwks, memberCapRho: 1000, logLevel: 'silent' });
  });
  afterAll(async () => {
    await node?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on loopback with separate ports for the federation and the operator', () => {
    expect(node.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(node.operatorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new URL(node.url).port).not.toBe(new URL(node.operatorUrl).port);
  });

  it('answers CONTRIBUTION_OPERATION with the exact bounded partials', async () => {
    const request: ContributionRequest = { queryId: 'abc123', measure: 'INCIDENTS', groupBy: ['COUNTRY', 'SECTOR'], bounds: { maxPartitions: 1000, maxPerPartition: 1000 } };
    const { status, body } = await post(node, request, await granted('node-a', request));
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const expected = oracleContribution(data, request);
    expect(body.data!.contribution).toEqual({ node: 'node-a', queryId: 'abc123', units: expected.units, groups: expected.groups });
    expect(expected.groups.length).toBeGreaterThan(5);
  });

  it('applies filters and sum bounds sent over HTTP exactly like the oracle', async () => {
    const request: ContributionRequest = {
      queryId: 'f1',
      measure: 'SEVERITY_SUM',
      groupBy: ['REGION', 'MONTH'],
      filter: { sectors: ['energy', 'water'], from: '2025-02-01', to: '2025-05-01', tlp: ['GREEN', 'AMBER'] },
      bounds: { maxPartitions: 1000, maxPerPartition: 1000, clampLo: 2, clampHi: 4, gridExponent: 0 },
    };
    const { body } = await post(node, request, await granted('node-a', request));
    expect(body.errors).toBeUndefined();
    const expected = oracleContribution(data, request);
    expect(expected.groups.length).toBeGreaterThan(2);
    expect(body.data!.contribution).toEqual({ node: 'node-a', queryId: 'f1', units: expected.units, groups: expected.groups });
  });

  it('refuses indicator filters with INDICATORS_UNAVAILABLE: it has no indicator key', async () => {
    const request: ContributionRequest = { queryId: 'ind', measure: 'INCIDENTS', groupBy: ['SECTOR'], filter: { indicators: [indicatorHash('any-federation-key-0123', 'domain-name', 'evil.example')] }, bounds: { maxPartitions: 5, maxPerPartition: 5 } };
    const { body } = await post(node, request, await granted('node-a', request));
    expect(body.data).toBeNull();
    expect(body.errors![0]!.extensions).toEqual({ code: 'INDICATORS_UNAVAILABLE', reason: 'no-key' });
  });

  it('refuses malformed requests with catalog codes', async () => {
    const dup = await post(node, { queryId: 'q', measure: 'INCIDENTS', groupBy: ['COUNTRY', 'COUNTRY'], bounds: { maxPartitions: 1, maxPerPartition: 1 } });
    expect(dup.body.data).toBeNull();
    expect(dup.body.errors![0]!.extensions!.code).toBe('INVALID_QUERY');
    const bounds = await post(node, { queryId: 'q', measure: 'SEVERITY_SUM', groupBy: [], bounds: { maxPartitions: 1, maxPerPartition: 1, clampLo: 3, clampHi: 2 } });
    expect(bounds.body.errors![0]!.extensions!.code).toBe('INVALID_BOUNDS');
    const unknownDim = await post(node, { queryId: 'q', measure: 'INCIDENTS', groupBy: ['ORGANISATION'], bounds: { maxPartitions: 1, maxPerPartition: 1 } });
    expect(unknownDim.body.errors![0]!.extensions!.code).toBe('INVALID_QUERY');
  });

  it('never returns organisation ids, incident ids or indicator values, whatever is grouped', async () => {
    const secrets = [
      ...data.organisations.map((o) => o.id),
      ...data.incidents.slice(0, 200).map((i) => i.id),
      ...data.incidents.flatMap((i) => i.indicators.map((x) => x.value.toLowerCase())),
    ];
    expect(secrets.length).toBeGreaterThan(100);
    for (const d of DIMENSIONS) {
      for (const measure of MEASURES) {
        const request: ContributionRequest = { queryId: `leak-${d}`, measure, groupBy: [d], bounds: { maxPartitions: 50, maxPerPartition: 50, clampLo: 1, clampHi: 5 } };
        const { body } = await post(node, request, await granted('node-a', request));
        expect(body.errors).toBeUndefined();
        const text = JSON.stringify(body).toLowerCase();
        for (const s of secrets) expect(text.includes(s.toLowerCase()), `${d} ${measure} leaks ${s}`).toBe(false);
      }
    }
  });

  it('keeps the operator API behind its own bearer token', async () => {
    for (const path of ['/health', '/stats', '/contributions']) {
      expect((await operator(node, path)).status).toBe(401);
      expect((await operator(node, path, 'wrong-token-wrong-token')).status).toBe(401);
      expect((await operator(node, path, TOKEN)).status).toBe(200);
    }
    // the federated endpoint does not serve operator paths
    expect((await fetch(new URL('/stats', node.url), { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
  });

  it('reports stats that match the seeded dataset', async () => {
    const { body } = await operator(node, '/stats', TOKEN);
    expect(body.organisations).toBe(data.organisations.length);
    expect(body.exploits).toBe(data.exploits.length);
    expect(body.actors).toBe(data.actors.length);
    const incidents = body.incidents as { total: number; byTlp: Record<string, number> };
    expect(incidents.total).toBe(data.incidents.length);
    for (const tlp of ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED']) {
      expect(incidents.byTlp[tlp]).toBe(data.incidents.filter((i) => i.tlp === tlp).length);
    }
    const indicators = body.indicators as { total: number };
    expect(indicators.total).toBe(data.incidents.reduce((n, i) => n + i.indicators.length, 0));
  });

  it('logs every contribution request, with grant-header presence, for the operator', async () => {
    const logged1: ContributionRequest = { queryId: 'logged-1', measure: 'INCIDENTS', groupBy: ['TLP'], bounds: { maxPartitions: 1, maxPerPartition: 1 } };
    await post(node, logged1, await granted('node-a', logged1));
    await post(node, { queryId: 'logged-2', measure: 'INCIDENTS', groupBy: ['TLP', 'TLP'], bounds: { maxPartitions: 1, maxPerPartition: 1 } });
    const { body } = await operator(node, '/contributions?limit=2', TOKEN);
    const log = body.contributions as { queryId: string; outcome: string; grantPresent: boolean; groupsReturned: number | null; groupBy: string[] }[];
    expect(log).toHaveLength(2);
    expect(log[0]).toMatchObject({ queryId: 'logged-2', outcome: 'INVALID_QUERY', grantPresent: false, groupsReturned: null });
    expect(log[1]).toMatchObject({ queryId: 'logged-1', outcome: 'ANSWERED', grantPresent: true, groupsReturned: 3, groupBy: ['TLP'] });
    expect((await operator(node, '/contributions?limit=0', TOKEN)).status).toBe(400);
    expect((await operator(node, '/contributions?limit=abc', TOKEN)).status).toBe(400);
  });
});

describe('a node with the federation indicator key (SQLite, real HTTP on 127.0.0.1)', () => {
  const dir = tempDir();
  const KEY = 'federation-indicator-key-for-node-tests';
  const data = makeDataset({ organisations: 12, incidents: 600, seed: 21, indicatorsPerIncident: 2 });
  data.exploits.push({ id: 'CVE-2025-0002', cve: 'CVE-2025-0002', name: 'Spring bug', kind: 'zero-day', disclosed: '2025-02-15' });
  data.incidents.forEach((inc, i) => {
    if (i % 4 === 0) inc.exploits.push('CVE-2025-0002');
  });
  let node: RunningNode;

  beforeAll(async () => {
    const seedFile = join(dir, 'dataset.json');
    writeFileSync(seedFile, JSON.stringify(data));
    const gatewayJwks = (await gatewayKey).writeJwks(dir);
    node = await createNode({ id: 'node-k', port: 0, operatorPort: 0, dataDir: dir, operatorToken: TOKEN, seedFile, gatewayJwks, memberCapRho: 1000, indicatorKey: KEY, logLevel: 'silent' });
  });
  afterAll(async () => {
    await node?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers an indicators filter and VINTAGE × SECTOR sums with disrupted rows exactly like the oracle', async () => {
    const values = data.incidents.flatMap((i) => i.indicators).slice(0, 60);
    const hashes = [...new Set(values.map((x) => indicatorHash(KEY, x.type, normaliseIndicator(x.type, x.value)!)))].slice(0, 100);
    const requests: ContributionRequest[] = [
      { queryId: 'k1', measure: 'INCIDENTS', groupBy: ['COUNTRY'], filter: { indicators: hashes }, bounds: { maxPartitions: 1000, maxPerPartition: 1000 } },
      { queryId: 'k2', measure: 'SEVERITY_SUM', groupBy: ['VINTAGE', 'SECTOR'], bounds: { maxPartitions: 1000, maxPerPartition: 1000, clampLo: 1, clampHi: 5 } },
    ];
    for (const request of requests) {
      const { body } = await post(node, request, await granted('node-k', request));
      expect(body.errors).toBeUndefined();
      const expected = oracleContribution(data, request, { indicatorKey: KEY });
      expect(expected.groups.length).toBeGreaterThan(1);
      expect(body.data!.contribution).toEqual({ node: 'node-k', queryId: request.queryId, units: expected.units, groups: expected.groups });
    }
  });
});

const MAIN_JS = fileURLToPath(new URL('../../dist/nodes/main.js', import.meta.url));
const MAIN_TS = fileURLToPath(new URL('../../nodes/main.ts', import.meta.url));
const builtMain = existsSync(MAIN_JS) && statSync(MAIN_JS).mtimeMs >= statSync(MAIN_TS).mtimeMs;
if (!builtMain) console.info('[accord] dist/nodes/main.js is missing or older than nodes/main.ts: the process test is skipped (run npx tsc -p . first).');

describe.runIf(builtMain)('node process (dist/nodes/main.js)', () => {
  it('prints one listening line on stdout, serves, and exits 0 on SIGTERM', async () => {
    const dir = tempDir();
    const gatewayJwks = (await gatewayKey).writeJwks(dir);
    const args = ['--id', 'proc-node', '--port', '0', '--operator-port', '0', '--data-dir', dir, '--operator-token', TOKEN, '--gateway-jwks', gatewayJwks, '--log-level', 'warn'];
    const child = spawn(process.execPath, [MAIN_JS, ...args], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const nl = out.indexOf('\n');
          if (nl >= 0) resolve(out.slice(0, nl));
        });
        child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
      });
      const ready = JSON.parse(line) as { event: string; id: string; url: string; operatorUrl: string };
      expect(ready).toMatchObject({ event: 'listening', id: 'proc-node' });
      expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
      const health = await fetch(`${ready.operatorUrl}/health`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(((await health.json()) as { status: string }).status).toBe('ok');
      const request: ContributionRequest = { queryId: 'p', measure: 'INCIDENTS', groupBy: [], bounds: { maxPartitions: 1, maxPerPartition: 1 } };
      const ask = async (headers: Record<string, string>): Promise<{ data?: { contribution: Contribution } | null; errors?: { extensions?: { code?: string } }[] }> => {
        const res = await fetch(ready.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: CONTRIBUTION_OPERATION, variables: { request } }) });
        return (await res.json()) as never;
      };
      expect((await ask({})).errors?.[0]?.extensions?.code).toBe('GRANT_INVALID');
      expect((await ask(await granted('proc-node', request))).data!.contribution).toEqual({ node: 'proc-node', queryId: 'p', units: 0, groups: [] });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(existsSync(join(dir, 'proc-node.sqlite'))).toBe(true);
      expect(existsSync(join(dir, 'proc-node.secret'))).toBe(true);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--insecure-no-grants answers without a grant and warns on stderr; combined with --gateway-jwks it refuses to start', async () => {
    const dir = tempDir();
    const run = (extra: string[]) =>
      spawn(process.execPath, [MAIN_JS, '--id', 'insecure-node', '--port', '0', '--operator-port', '0', '--data-dir', dir, '--operator-token', TOKEN, '--log-level', 'warn', ...extra], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const child = run(['--insecure-no-grants']);
    try {
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const nl = out.indexOf('\n');
          if (nl >= 0) resolve(out.slice(0, nl));
        });
        child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
      });
      const ready = JSON.parse(line) as { url: string };
      const res = await fetch(ready.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: CONTRIBUTION_OPERATION, variables: { request: { queryId: 'i', measure: 'INCIDENTS', groupBy: [], bounds: { maxPartitions: 1, maxPerPartition: 1 } } } }),
      });
      expect(((await res.json()) as { data: { contribution: Contribution } }).data.contribution.queryId).toBe('i');
      expect(stderr).toContain('"event":"grants-disabled"');
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const both = run(['--insecure-no-grants', '--gateway-jwks', join(dir, 'k.json')]);
      expect(await new Promise<number | null>((resolve) => both.once('exit', (code) => resolve(code)))).toBe(1);
      writeFileSync(join(dir, 'short.key'), 'short\n');
      const shortKey = run(['--insecure-no-grants', '--indicator-key-file', join(dir, 'short.key')]);
      let shortErr = '';
      shortKey.stderr.on('data', (d: Buffer) => (shortErr += d.toString()));
      expect(await new Promise<number | null>((resolve) => shortKey.once('exit', (code) => resolve(code)))).toBe(1);
      expect(shortErr).toContain('indicatorKeyFile');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('node lifecycle', () => {
  it('seeds the seed file only into an empty database, and keeps data across restarts', async () => {
    const dir = tempDir();
    const data = makeDataset({ organisations: 5, incidents: 50, seed: 3 });
    const seedFile = join(dir, 'dataset.json');
    writeFileSync(seedFile, JSON.stringify(data));
    const cfg = { id: 'node-b', dataDir: dir, operatorToken: TOKEN, seedFile, logLevel: 'silent' };
    try {
      const first = await createNode(cfg);
      const secret = first.config.secret;
      await first.close();
      const second = await createNode(cfg); // would fail on duplicate ids if it seeded again
      expect(second.config.secret).toBe(secret); // the generated indicator secret is kept in the data folder
      const { body } = await operator(second, '/stats', TOKEN);
      expect((body.incidents as { total: number }).total).toBe(50);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the guard before any SQL and reports its refusal code', async () => {
    const dir = tempDir();
    const seen: string[] = [];
    const guard: ContributionGuard = {
      admit(req, ctx) {
        seen.push(`${req.queryId}:${ctx.grant ?? '-'}`);
        if (ctx.grant !== 'good') throw new AccordError('GRANT_INVALID', 'The request carries no valid grant.');
      },
    };
    const node = await createNode({ id: 'node-c', dataDir: dir, operatorToken: TOKEN, guard, logLevel: 'silent' });
    try {
      const req = { queryId: 'guarded', measure: 'INCIDENTS', groupBy: [], bounds: { maxPartitions: 1, maxPerPartition: 1 } };
      const refused = await post(node, req);
      expect(refused.body.errors![0]!.extensions!.code).toBe('GRANT_INVALID');
      const admitted = await post(node, req, { [GRANT_HEADER]: 'good' });
      expect(admitted.body.data!.contribution.queryId).toBe('guarded');
      expect(seen).toEqual(['guarded:-', 'guarded:good']);
    } finally {
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad configuration with CONFIG_INVALID', async () => {
    const dir = tempDir();
    try {
      await expect(createNode({ id: 'bad id!', operatorToken: TOKEN, dataDir: dir })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
      await expect(createNode({ id: 'n', operatorToken: 'short', dataDir: dir })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
      await expect(createNode({ id: 'n', operatorToken: TOKEN, dataDir: dir, contributingTlp: ['RED'] })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
      await expect(createNode({ id: 'n', operatorToken: TOKEN, dataDir: dir, port: 70_000 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
      await expect(createNode({ id: 'n', operatorToken: TOKEN, dataDir: dir, indicatorKey: 'short' })).rejects.toMatchObject({ code: 'CONFIG_INVALID', details: { field: 'indicatorKey' } });
      await expect(createNode({ id: 'n', operatorToken: TOKEN, dataDir: dir, memberCapRho: -1 })).rejects.toMatchObject({ code: 'CONFIG_INVALID', details: { field: 'memberCapRho' } });
      await expect(createNode({ id: 'n', operatorToken: TOKEN, dataDir: dir, grants: 'disabled', gatewayJwks: join(dir, 'k.json') })).rejects.toMatchObject({ code: 'CONFIG_INVALID', details: { field: 'grants' } });
      await expect(createNode({ id: 'n', operatorToken: TOKEN, dataDir: dir, gatewayJwks: join(dir, 'missing.jwks.json'), logLevel: 'silent' })).rejects.toMatchObject({ code: 'CONFIG_INVALID', details: { field: 'gatewayJwks' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
