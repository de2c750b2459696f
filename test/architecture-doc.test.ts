/**
 * ARCHITECTURE.md's walk of one query stays true: every file it names exists, and each gateway file
 * is named once (the walk reads top to bottom, so a file that appears twice means the path doubles
 * back, and a file that moved shows here first).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const doc = readFileSync(join(root, 'ARCHITECTURE.md'), 'utf8');

/** The fenced block under "## One query's path". */
function walk(): string {
  const section = doc.slice(doc.indexOf("## One query's path"));
  const m = /```\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error("ARCHITECTURE.md has no code block under \"## One query's path\"");
  return m[1]!;
}

/** Paths outside the gateway are written from the repository root; the rest are under gateway/. */
const OTHER_ROOTS = ['runtime/', 'schema/', 'nodes/', 'scripts/', 'test/'];

test("the walk of one query names existing files, each gateway file once, in the order they are reached", () => {
  const names = [...walk().matchAll(/[\w./-]+\.ts\b/g)].map((m) => m[0]);
  const gateway = names.filter((n) => !OTHER_ROOTS.some((r) => n.startsWith(r)));
  expect(gateway.length).toBeGreaterThan(20);
  for (const n of names) {
    const path = OTHER_ROOTS.some((r) => n.startsWith(r)) ? join(root, n) : join(root, 'gateway', n);
    expect(existsSync(path), `${n} (named in ARCHITECTURE.md) does not exist`).toBe(true);
  }
  const twice = gateway.filter((n, i) => gateway.indexOf(n) !== i);
  expect(twice, 'gateway files named more than once in the walk').toEqual([]);
});

test('the parts table names every top-level folder of product code', () => {
  for (const folder of ['schema', 'runtime', 'nodes', 'gateway', 'scripts', 'test']) {
    expect(doc, folder).toContain(`| \`${folder}/\` |`);
    expect(existsSync(join(root, folder)), folder).toBe(true);
  }
});
