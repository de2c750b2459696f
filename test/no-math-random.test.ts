/** Product code never calls Math.random: randomness comes from the privacy core’s entropy (schema/privacy/entropy.ts). */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

it('product code (schema/, runtime/, gateway/, nodes/) never calls Math.random', () => {
  const files = ['schema', 'runtime', 'gateway', 'nodes'].flatMap((d) => tsFiles(join(root, d)));
  expect(files.length).toBeGreaterThan(100);
  const callers = files.filter((f) => {
    const src = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    return /Math\s*\.\s*random/.test(src);
  });
  expect(callers.map((f) => relative(root, f))).toEqual([]);
});
