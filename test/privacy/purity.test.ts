/** The privacy core stays pure: one file touches crypto, nothing calls Math.random, no framework imports. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = new URL('../../schema/privacy/', import.meta.url).pathname;
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
const strip = (src: string): string => src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');

describe('privacy core purity', () => {
  it('has the expected files', () => {
    expect(files).toEqual(expect.arrayContaining(['entropy.ts', 'samplers.ts', 'mechanisms.ts', 'accountant.ts', 'sensitivity.ts', 'partition-selection.ts']));
  });

  it.each(files)('%s never calls Math.random', (f) => {
    expect(strip(readFileSync(join(dir, f), 'utf8'))).not.toMatch(/Math\s*\.\s*random/);
  });

  it.each(files)('%s imports only core files (and only entropy.ts imports crypto)', (f) => {
    const src = strip(readFileSync(join(dir, f), 'utf8'));
    const specifiers = [...src.matchAll(/(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]/g), ...src.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!);
    for (const s of specifiers) {
      if (s === 'node:crypto' || s === 'crypto') {
        expect(f).toBe('entropy.ts');
      } else {
        expect(s.startsWith('./') || s === '../errors.js').toBe(true);
      }
    }
    if (f !== 'entropy.ts') expect(src).not.toMatch(/require\(\s*['"](node:)?crypto['"]\s*\)/);
  });
});
