/**
 * The layering in `.dependency-cruiser.cjs` holds on the real tree, and the checker catches what it is
 * meant to catch: planted violations of every kind in a temporary tree laid out like the repository,
 * and a folder the rules name going missing.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLayers, loadConfig, type LayerReport } from '../scripts/layers.js';

const made: string[] = [];

/** A tree holding a module at every folder or file the rules name, plus `files`, and two fake npm packages. */
function tree(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'accord-layers-'));
  made.push(dir);
  const all: Record<string, string> = {
    'node_modules/graphql/package.json': '{"name":"graphql","version":"16.0.0","main":"index.js"}',
    'node_modules/graphql/index.js': 'export const parse = () => null;\n',
    'node_modules/left-pad/package.json': '{"name":"left-pad","version":"1.0.0","main":"index.js"}',
    'node_modules/left-pad/index.js': 'export default (s) => s;\n',
  };
  for (const p of loadConfig().namedPaths) all[p.endsWith('/') ? `${p}index.ts` : p] = 'export const here = 1;\n';
  Object.assign(all, files);
  for (const [path, text] of Object.entries(all)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe('the real tree', () => {
  it('names only folders and files that exist, and breaks no layering rule', async () => {
    const report = await checkLayers();
    expect(report.modules).toBeGreaterThan(100);
    expect({ missing: report.missing, violations: report.violations }).toEqual({ missing: [], violations: [] });
  });
});

describe('a tree laid out like the repository', () => {
  it('breaks no rule when nothing is planted', async () => {
    const report = await checkLayers(tree({ 'schema/contract/sdl.ts': "import { parse } from 'graphql';\nexport const p = parse;\n" }));
    expect(report).toEqual({ modules: expect.any(Number), missing: [], violations: [] });
    expect(report.modules).toBeGreaterThan(15);
  });

  // [what is planted, the file, its text, the violation the checker must report]
  const planted: [string, string, string, string][] = [
    ['a static import of nodes/ from gateway/', 'gateway/net/static.ts', "import { here } from '../../nodes/index.js';\nexport const s = here;\n", 'gateway-never-imports-nodes: gateway/net/static.ts → nodes/index.ts'],
    ['a side-effect import of nodes/ from gateway/', 'gateway/net/side.ts', "import '../../nodes/index.js';\n", 'gateway-never-imports-nodes: gateway/net/side.ts → nodes/index.ts'],
    ['a dynamic import of nodes/ from gateway/', 'gateway/net/dynamic.ts', "export async function load() {\n  return await import('../../nodes/index.js');\n}\n", 'gateway-never-imports-nodes: gateway/net/dynamic.ts → nodes/index.ts'],
    ['a type-only import of nodes/ from gateway/', 'gateway/net/typed.ts', "import type { here } from '../../nodes/index.js';\nexport type T = typeof here;\n", 'gateway-never-imports-nodes: gateway/net/typed.ts → nodes/index.ts'],
    ['a re-export of nodes/ from gateway/', 'gateway/net/reexport.ts', "export { here } from '../../nodes/index.js';\n", 'gateway-never-imports-nodes: gateway/net/reexport.ts → nodes/index.ts'],
    ['an import of gateway/ from nodes/', 'nodes/up.ts', "import { here } from '../gateway/net/index.js';\nexport const u = here;\n", 'nodes-never-import-gateway: nodes/up.ts → gateway/net/index.ts'],
    ['an import of scripts/ from gateway/', 'gateway/net/script.ts', "import '../../scripts/index.js';\n", 'product-never-imports-scripts-or-test: gateway/net/script.ts → scripts/index.ts'],
    ['an import of test/ from nodes/', 'nodes/helper.ts', "import '../test/index.js';\n", 'product-never-imports-scripts-or-test: nodes/helper.ts → test/index.ts'],
    ['an import of a root file from gateway/', 'gateway/net/root.ts', "import '../../tool.js';\n", 'gateway-and-nodes-import-only-schema-runtime-and-themselves: gateway/net/root.ts → tool.ts'],
    ['a two-file cycle', 'nodes/a.ts', "import { b } from './b.js';\nexport const a = () => b;\n", 'no-circular: nodes/a.ts → nodes/b.ts → nodes/a.ts'],
    ['an L2 service importing L5 federation', 'gateway/policy/up.ts', "import { here } from '../http/index.js';\nexport const p = here;\n", 'gateway-L2-services-imports-no-higher-layer: gateway/policy/up.ts → gateway/http/index.ts'],
    ['an L1 foundation importing the L6 composition root', 'gateway/ledger/up.ts', "import '../app.js';\n", 'gateway-L1-foundations-imports-no-higher-layer: gateway/ledger/up.ts → gateway/app.ts'],
    ['L4 admission importing L5 federation', 'gateway/admission/up.ts', "import '../federation/index.js';\n", 'gateway-L4-admission-imports-no-higher-layer: gateway/admission/up.ts → gateway/federation/index.ts'],
    ['a gateway module in no layer', 'gateway/stray/s.ts', "import { here } from '../net/index.js';\nexport const s = here;\n", 'gateway-module-outside-the-layers: gateway/stray/s.ts → gateway/net/index.ts'],
    ['a layered module importing one in no layer', 'gateway/registry/stray.ts', "import '../stray/s.js';\n", 'gateway-import-of-module-outside-the-layers: gateway/registry/stray.ts → gateway/stray/s.ts'],
    ['an import that resolves to nothing', 'gateway/net/nowhere.ts', "import '../nowhere.js';\n", 'no-unresolvable-import: gateway/net/nowhere.ts → ../nowhere.js'],
    ['an npm library in schema/', 'schema/reference/pad.ts', "import pad from 'left-pad';\nexport const p = pad;\n", 'schema-imports-only-itself-node-and-graphql: schema/reference/pad.ts → node_modules/left-pad/index.js'],
    ['graphql-js outside schema/contract/', 'schema/reference/gql.ts', "import { parse } from 'graphql';\nexport const p = parse;\n", 'schema-graphql-only-in-contract: schema/reference/gql.ts → node_modules/graphql/index.js'],
    ['the privacy core importing the contract', 'schema/privacy/contract.ts', "import '../contract/index.js';\n", 'privacy-imports-only-itself-and-errors: schema/privacy/contract.ts → schema/contract/index.ts'],
    ['the privacy core importing a Node built-in', 'schema/privacy/fs.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n", 'privacy-imports-only-itself-and-errors: schema/privacy/fs.ts → fs'],
    ['the entropy source importing more than node:crypto', 'schema/privacy/entropy.ts', "import { randomFillSync } from 'node:crypto';\nimport { readFileSync } from 'node:fs';\nexport const e = [randomFillSync, readFileSync];\n", 'privacy-entropy-imports-only-os-randomness: schema/privacy/entropy.ts → fs'],
    ['runtime/ importing gateway/', 'runtime/up.ts', "import '../gateway/net/index.js';\n", 'runtime-imports-only-schema-and-libraries: runtime/up.ts → gateway/net/index.ts'],
  ];

  let report: LayerReport;
  beforeAll(async () => {
    const files: Record<string, string> = {
      'tool.ts': 'export const tool = 1;\n',
      'nodes/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
    };
    for (const [, path, text] of planted) files[path] = text;
    report = await checkLayers(tree(files));
  });

  it.each(planted)('reports %s', (_what, _path, _text, violation) => {
    expect(report.violations).toContain(violation);
  });

  it('reports nothing but what was planted', () => {
    expect(report.missing).toEqual([]);
    expect([...report.violations].sort()).toEqual(planted.map((p) => p[3]).sort());
  });
});

describe('a folder or file the rules name going missing', () => {
  it('fails the check even though no import breaks a rule', async () => {
    const dir = tree();
    renameSync(join(dir, 'gateway/admission'), join(dir, 'gateway/gate'));
    rmSync(join(dir, 'runtime'), { recursive: true });
    renameSync(join(dir, 'gateway/members.ts'), join(dir, 'gateway/member.ts'));
    const report = await checkLayers(dir);
    expect(report.violations).toEqual([]);
    expect(report.missing.sort()).toEqual(['gateway/admission/', 'gateway/members.ts', 'runtime/']);
  });

  it('fails the check when a named folder is a file', async () => {
    const dir = tree();
    rmSync(join(dir, 'gateway/http'), { recursive: true });
    writeFileSync(join(dir, 'gateway/http'), '');
    expect((await checkLayers(dir)).missing).toEqual(['gateway/http/']);
  });
});
