import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSynthCli } from '../../scripts/synth/cli.js';
import { generateFederation, federationNodes } from '../../scripts/synth/index.js';
import { datasetReferenceProblems } from '../../schema/reference/index.js';
import type { NodeDataset } from '../../schema/contract/dataset.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'accord-synth-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('synth CLI', () => {
  it('writes one dataset per node and planted.json, equal to the library output', async () => {
    const out = tmp();
    const r = await runSynthCli(['--out', out, '--seed', '9', '--incidents-per-node', '800', '--nodes', '3', '--quiet']);
    expect(r.incidents).toEqual({ 'cert-de': 800, 'cert-fr': 800, 'isac-energy': 800 });
    const expected = generateFederation({ seed: '9', nodes: federationNodes(3), incidentsPerNode: 800, from: '2024-01-01', to: '2024-12-31' });
    for (const id of ['cert-de', 'cert-fr', 'isac-energy']) {
      const ds = JSON.parse(readFileSync(join(out, `${id}.json`), 'utf8')) as NodeDataset;
      expect(ds).toEqual(expected.datasets[id]);
    }
    const planted = JSON.parse(readFileSync(join(out, 'planted.json'), 'utf8'));
    expect(planted.planted).toEqual(expected.planted);
    expect(planted.localTools).toEqual(expected.localTools);
  });

  it('rejects bad arguments before writing anything', async () => {
    const out = join(tmp(), 'never');
    await expect(runSynthCli(['--out', out, '--incidents-per-node', '-5', '--quiet'])).rejects.toThrow();
    await expect(runSynthCli(['--out', out, '--nodes', '99', '--quiet'])).rejects.toThrow();
    await expect(runSynthCli(['--out', out, '--from', '2024-13-01', '--quiet'])).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(existsSync(out)).toBe(false);
  });

  // The compiled CLI must find the reference JSON next to the compiled modules (tsc emits imported JSON).
  const compiled = new URL('../../dist/scripts/synth/cli.js', import.meta.url);
  it.skipIf(!existsSync(compiled))('runs compiled from dist/ and finds the reference data', () => {
    const out = tmp();
    const stdout = execFileSync(process.execPath, [compiled.pathname, '--out', out, '--seed', '3', '--incidents-per-node', '300', '--nodes', '4'], {
      encoding: 'utf8',
    });
    expect(stdout).toContain('cert-it: 300 incidents');
    const ds = JSON.parse(readFileSync(join(out, 'cert-it.json'), 'utf8')) as NodeDataset;
    expect(datasetReferenceProblems(ds)).toEqual([]);
  });
  if (!existsSync(compiled)) console.warn('synth CLI: dist/scripts/synth/cli.js not built; run `npx tsc -p .` to test the compiled CLI');
});
