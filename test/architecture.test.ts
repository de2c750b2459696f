/** Dependency direction: schema/ imports no framework; runtime/ imports only schema/; gateway/ and nodes/ never import each other. */
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

function imports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]/g), ...src.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!);
}

function resolvesInto(file: string, spec: string, folder: string): boolean {
  if (!spec.startsWith('.')) return false;
  const target = relative(root, join(file, '..', spec));
  return target === folder || target.startsWith(folder + '/');
}

describe('layering', () => {
  it('gateway/ never imports nodes/', () => {
    for (const f of tsFiles(join(root, 'gateway'))) for (const s of imports(f)) expect(resolvesInto(f, s, 'nodes'), `${relative(root, f)} imports ${s}`).toBe(false);
  });

  it('nodes/ never imports gateway/', () => {
    for (const f of tsFiles(join(root, 'nodes'))) for (const s of imports(f)) expect(resolvesInto(f, s, 'gateway'), `${relative(root, f)} imports ${s}`).toBe(false);
  });

  it('schema/ imports only itself, Node built-ins and graphql-js', () => {
    const files = tsFiles(join(root, 'schema'));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      for (const s of imports(f)) {
        const ok = s.startsWith('node:') || s === 'graphql' || (s.startsWith('.') && resolvesInto(f, s, 'schema'));
        expect(ok, `${relative(root, f)} imports ${s}`).toBe(true);
      }
    }
  });

  it('runtime/ imports only itself, schema/ and libraries (never gateway/ or nodes/)', () => {
    for (const f of tsFiles(join(root, 'runtime'))) {
      for (const s of imports(f)) {
        const ok = !s.startsWith('.') || resolvesInto(f, s, 'runtime') || resolvesInto(f, s, 'schema');
        expect(ok, `${relative(root, f)} imports ${s}`).toBe(true);
      }
    }
  });

  it('product code (schema/, runtime/, gateway/, nodes/) never calls Math.random: randomness comes from the privacy core’s entropy', () => {
    for (const dir of ['schema', 'runtime', 'gateway', 'nodes']) {
      for (const f of tsFiles(join(root, dir))) {
        const src = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
        expect(/Math\s*\.\s*random/.test(src), `${relative(root, f)} calls Math.random`).toBe(false);
      }
    }
  });
});
