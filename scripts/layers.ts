#!/usr/bin/env node
/**
 * `npm run layers`: checks the tree against the layering in `.dependency-cruiser.cjs` and exits 1 if a
 * folder or file the rules name is missing or any import breaks a rule. `checkLayers(dir)` does the
 * same for any tree laid out like the repository (the tests plant violations in a temporary one).
 */
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult, type IForbiddenRuleType, type ICruiseOptions } from 'dependency-cruiser';

const CONFIG = '.dependency-cruiser.cjs';

interface LayeringConfig {
  forbidden: IForbiddenRuleType[];
  options: ICruiseOptions;
  /** The folders cruised. */
  roots: string[];
  /** Every folder (`x/`) or file a rule names. */
  namedPaths: string[];
}

export interface LayerReport {
  /** How many product modules the cruise read (so a report of nothing can be told from a cruise of nothing). */
  modules: number;
  /** Named folders or files that are absent (or a file where a folder is named, and back). */
  missing: string[];
  /** One line per broken rule: `rule: from → to` (for a cycle, the cycle). */
  violations: string[];
}

/** The repository root: the nearest folder above this file holding the configuration. */
export function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, CONFIG))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`${CONFIG} not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

export function loadConfig(root = repositoryRoot()): LayeringConfig {
  return createRequire(import.meta.url)(join(root, CONFIG)) as LayeringConfig;
}

function present(baseDir: string, path: string): boolean {
  const full = join(baseDir, path);
  if (!existsSync(full)) return false;
  return path.endsWith('/') ? statSync(full).isDirectory() : statSync(full).isFile();
}

export async function checkLayers(baseDir: string = repositoryRoot()): Promise<LayerReport> {
  const dir = resolve(baseDir);
  const config = loadConfig();
  const missing = config.namedPaths.filter((p) => !present(dir, p));
  const roots = config.roots.filter((p) => present(dir, p)).map((p) => p.replace(/\/$/, ''));
  const { output } = await cruise(roots, { ...config.options, baseDir: dir, validate: true, ruleSet: { forbidden: config.forbidden } });
  const result = output as ICruiseResult;
  const violations = result.summary.violations.map((v) =>
    v.cycle?.length ? `${v.rule.name}: ${[v.from, ...v.cycle.map((c) => c.name)].join(' → ')}` : `${v.rule.name}: ${v.from} → ${v.to}`,
  );
  const modules = result.modules.filter((m) => roots.some((r) => m.source.startsWith(`${r}/`))).length;
  return { modules, missing, violations };
}

async function main(): Promise<void> {
  const { missing, violations } = await checkLayers();
  for (const p of missing) console.error(`missing: ${p} is named by ${CONFIG} but does not exist`);
  for (const v of violations) console.error(v);
  if (missing.length || violations.length) {
    console.error(`${missing.length} missing, ${violations.length} violations`);
    process.exitCode = 1;
  } else {
    console.log('layers: no violations');
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) await main();
