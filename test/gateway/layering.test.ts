/** The gateway never imports node code (DESIGN layering: gateway/ and nodes/ meet only in schema/ and runtime/). */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('no file under gateway/ imports from nodes/ or scripts/', () => {
  const files = tsFiles(join(root, 'gateway'));
  expect(files.length).toBeGreaterThan(10);
  const offenders: string[] = [];
  for (const f of files) {
    for (const m of readFileSync(f, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      const spec = m[1]!;
      if (!spec.startsWith('.')) continue;
      const target = relative(root, resolve(join(f, '..'), spec));
      if (!target.startsWith('gateway/') && !target.startsWith('schema/') && !target.startsWith('runtime/')) offenders.push(`${relative(root, f)} → ${spec}`);
    }
  }
  expect(offenders).toEqual([]);
});
