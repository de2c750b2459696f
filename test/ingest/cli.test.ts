/**
 * The operator CLI as a process (dist/nodes/cli/index.js): init, import with format detection and a
 * summary, stats, markings, audit — and its documented exit codes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendContributionLog } from '../../nodes/contribution/log.js';
import { openNodeOrm } from '../../nodes/db/orm.js';
import { tempDir } from '../nodes/helpers/db.js';
import { bundle, FIXTURES, identity, incident, location, rel, ROOT } from './helpers.js';

const CLI = join(ROOT, 'dist/nodes/cli/index.js');

/** The newest source file under nodes/cli and nodes/ingest (the compiled CLI must not be older). */
function newestSource(): number {
  let t = 0;
  for (const dir of ['nodes/cli', 'nodes/ingest']) for (const f of readdirSync(join(ROOT, dir))) t = Math.max(t, statSync(join(ROOT, dir, f)).mtimeMs);
  return t;
}
const built = existsSync(CLI) && statSync(CLI).mtimeMs >= newestSource() - 1;
if (!built) console.info('[accord] dist/nodes/cli/index.js is missing or older than its sources: the CLI process tests are skipped (run npx tsc -p . first).');

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function run(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ACCORD_')));
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...clean, ...env }, cwd: ROOT, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.runIf(built)('accord-node CLI (compiled)', () => {
  it('init, import (STIX by content, CSV by extension), stats, markings and audit; exit 0', async () => {
    const dir = tempDir('accord-cli-');
    dirs.push(dir);
    const g = ['--id', 'cli-node', '--data-dir', dir];
    const init = run([...g, '--json', 'init']);
    expect(init.code, init.stderr).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({ id: 'cli-node', db: join(dir, 'cli-node.sqlite') });
    for (const f of ['cli-node.sqlite', 'cli-node.secret', 'cli-node.operator-token']) expect(existsSync(join(dir, f)), f).toBe(true);

    const org = identity(['energy']);
    const de = location('DE');
    const inc = incident('2025-05-05', { tlp: 'GREEN' });
    const stix = join(dir, 'incidents.data');
    writeFileSync(stix, JSON.stringify(bundle([org, de, rel('located-at', org, de), inc, rel('targets', inc, org)])));
    const csv = join(dir, 'more.csv');
    writeFileSync(csv, 'incident_id,date,organisation,country,sector,tlp\nA-1,2025-05-06,Org A,FR,water,RED\n');
    const imp = run([...g, '--json', 'import', stix, join(FIXTURES, 'stix-apt1.json'), csv]);
    expect(imp.code, imp.stderr).toBe(0);
    const out = JSON.parse(imp.stdout) as { files: { status: string; summary: { format: string; incidents: { derived: number } } }[]; refused: number; created: number };
    expect(out.refused).toBe(0);
    expect(out.files.map((f) => [f.status, f.summary.format, f.summary.incidents.derived])).toEqual([
      ['imported', 'stix', 1],
      ['imported', 'stix', 0],
      ['imported', 'csv', 1],
    ]);
    // Plain progress lines on a non-terminal stderr.
    expect(imp.stderr).toMatch(/import incidents\.data: .*objects/);

    const stats = run([...g, '--json', 'stats']);
    expect(stats.code, stats.stderr).toBe(0);
    const s = JSON.parse(stats.stdout) as { incidents: { total: number; byTlp: Record<string, number> }; imported: { objects: Record<string, number>; imports: unknown[] } };
    expect(s.incidents.total).toBe(2);
    expect(s.incidents.byTlp).toMatchObject({ GREEN: 1, RED: 1 });
    expect(s.imported.objects['intrusion-set']).toBe(1);
    expect(s.imported.imports).toHaveLength(3);
    const human = run([...g, 'stats']);
    expect(human.stdout).toMatch(/Imported objects by type/);

    const markings = run([...g, '--json', 'markings', '--contributing-tlp', 'GREEN']);
    expect(markings.code, markings.stderr).toBe(0);
    const m = JSON.parse(markings.stdout) as { levels: { level: string; contributes: boolean; incidents: number }[] };
    expect(m.levels.map((l) => [l.level, l.contributes, l.incidents])).toEqual([
      ['CLEAR', false, 0],
      ['GREEN', true, 1],
      ['AMBER', false, 0],
      ['AMBER+STRICT', false, 0],
      ['RED', false, 1],
    ]);

    const orm = await openNodeOrm({ db: join(dir, 'cli-node.sqlite') });
    await appendContributionLog(orm, { requestId: 'req-1', queryId: 'q'.repeat(64), measure: 'INCIDENTS', groupBy: ['COUNTRY'], at: '2025-06-01T00:00:00.000Z', outcome: 'ANSWERED', grantPresent: true, groupsReturned: 3, durationMs: 4.2 });
    await orm.close(true);
    const audit = run([...g, '--json', 'audit', '--limit', '5']);
    expect(audit.code, audit.stderr).toBe(0);
    expect(JSON.parse(audit.stdout)).toMatchObject({ contributions: [{ requestId: 'req-1', outcome: 'ANSWERED', groupBy: ['COUNTRY'], groupsReturned: 3 }] });
    expect(run([...g, 'audit']).stdout).toMatch(/req-1/);
  });

  it('exit codes: 2 for refused or unreadable input (nothing stored, other files still imported), 1 for usage, 3 for storage, 4 for configuration', () => {
    const dir = tempDir('accord-cli-');
    dirs.push(dir);
    const g = ['--id', 'codes', '--data-dir', dir];
    expect(run([...g, 'init']).code).toBe(0);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"type": "bundle", "id": "bundle--6b0e8c4e-1d3f-4a5b-9c7d-2e4f6a8b0c1d", "objects": [{"type": "identity"');
    const good = join(FIXTURES, 'stix-indicators-c2-coa.json');
    const r = run([...g, '--json', 'import', bad, join(dir, 'missing.json'), good]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.json: refused — STIX_INVALID: .*truncated/);
    const j = JSON.parse(r.stdout) as { files: { status: string; error?: { code: string; details?: Record<string, unknown> } }[]; refused: number };
    expect(j.refused).toBe(2);
    expect(j.files.map((f) => f.status)).toEqual(['refused', 'refused', 'imported']);
    expect(j.files[0]!.error).toMatchObject({ code: 'STIX_INVALID', details: { index: 0, line: 1 } });
    expect(j.files[1]!.error!.code).toBe('UNREADABLE');
    const stop = run([...g, 'import', '--stop-on-error', bad, good]);
    expect(stop.code).toBe(2);
    expect(stop.stdout).not.toMatch(/indicators-c2-coa/);

    expect(run([...g, 'import']).code).toBe(1);
    expect(run([...g, 'import', '--format', 'xml', good]).code).toBe(1);
    expect(run([...g, 'frobnicate']).code).toBe(1);
    expect(run(['--data-dir', dir, 'stats']).code).toBe(1);
    expect(run([...g, 'import', '--default-severity', '9', good]).code).toBe(1);

    expect(run(['--id', 'nobody', '--data-dir', dir, 'stats']).code).toBe(3);
    mkdirSync(join(dir, 'a-directory.sqlite'));
    const storage = run([...g, '--db', join(dir, 'a-directory.sqlite'), 'import', good]);
    expect(storage.code).toBe(3);
    expect(storage.stderr).toMatch(/cannot open the database/);

    writeFileSync(join(dir, 'short.secret'), 'abc\n');
    const cfg = run(['--id', 'short', '--data-dir', dir, 'import', good]);
    expect(cfg.code).toBe(4);
    expect(cfg.stderr).toMatch(/CONFIG_INVALID/);
    expect(run([...g, 'markings', '--contributing-tlp', 'RED']).code).toBe(4);
  });

  it('--indicator-key-file: init records the key, import hashes under it, another key is refused with exit 4', () => {
    const dir = tempDir('accord-cli-');
    dirs.push(dir);
    const key = join(dir, 'indicator.key');
    const other = join(dir, 'other.key');
    writeFileSync(key, 'federation-indicator-key-0123456789\n');
    writeFileSync(other, 'another-federation-key-0123456789\n');
    writeFileSync(join(dir, 'short.key'), 'short\n');
    const g = ['--id', 'keyed', '--data-dir', dir];
    const init = run([...g, '--indicator-key-file', key, '--json', 'init']);
    expect(init.code, init.stderr).toBe(0);
    const keyId = (JSON.parse(init.stdout) as { indicatorKeyId: string }).indicatorKeyId;
    expect(keyId).toMatch(/^[0-9a-f]{16}$/);

    const good = join(FIXTURES, 'stix-indicators-c2-coa.json');
    // the option is accepted after the command too
    const imp = run([...g, 'import', '--indicator-key-file', key, good]);
    expect(imp.code, imp.stderr).toBe(0);
    const stats = run([...g, '--json', 'stats']);
    expect(JSON.parse(stats.stdout)).toMatchObject({ indicatorKeyId: keyId });
    expect(run([...g, 'stats']).stdout).toContain(`Indicator key id: ${keyId}`);

    const refused = run([...g, '--indicator-key-file', other, 'import', good]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/CONFIG_INVALID: .*another key/);
    // the key itself in the environment, and an init under another key, are refused alike
    expect(run([...g, 'import', good], { ACCORD_INDICATOR_KEY: 'another-federation-key-0123456789' }).code).toBe(4);
    expect(run([...g, '--indicator-key-file', other, 'init']).code).toBe(4);
    // the same key from the environment (file) goes on
    expect(run([...g, 'import', good], { ACCORD_INDICATOR_KEY_FILE: key }).code).toBe(0);
    // a short or missing key file is a configuration error
    expect(run([...g, '--indicator-key-file', join(dir, 'short.key'), 'import', good]).code).toBe(4);
    expect(run([...g, '--indicator-key-file', join(dir, 'missing.key'), 'import', good]).stderr).toMatch(/CONFIG_INVALID: The indicator key file cannot be read/);
  });
});
