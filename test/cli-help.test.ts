/**
 * `--help` is the one list of each command line's flags. The flag tables of the docs say exactly what
 * `--help` says (every flag, its environment variable, its default, nothing else), and every flag the
 * docs name anywhere in running text exists. A failure prints the rows `--help` gives, ready to paste.
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { gatewayProgram } from '../gateway/cli.js';
import { operatorProgram } from '../nodes/cli/commands.js';
import { nodeServerProgram } from '../nodes/cli/server.js';
import { askProgram } from '../scripts/ask.js';
import { tokenProgram } from '../scripts/dev-token.js';
import { startProgram } from '../scripts/start.js';
import { synthProgram } from '../scripts/synth/cli.js';

interface FlagRow {
  command: string;
  flag: string;
  env: string;
  default: string;
}

const unquote = (s: string): string => s.trim().replace(/^`(.*)`$/, '$1').replace(/^"(.*)"$/, '$1');

/** Environment variable and default of `option` as `--help` prints them (the trailing parenthesis). */
function helpFacts(cmd: Command, option: Option): { env: string; default: string } {
  const text = cmd.createHelp().optionDescription(option);
  const extra = / \(((?:choices|default|preset|env): .*)\)$/.exec(text)?.[1] ?? '';
  const env = /(?:^|, )env: (\S+)$/.exec(extra)?.[1] ?? '';
  const rest = extra.replace(/(?:^|, )env: \S+$/, '');
  return { env, default: unquote(/(?:^|, )default: (.*)$/.exec(rest)?.[1] ?? '') };
}

/** Every option of `program` and of its commands, as `--help` of each describes it. */
function helpRows(program: Command): FlagRow[] {
  const rows: FlagRow[] = [];
  for (const cmd of [program, ...program.commands]) {
    const command = cmd === program ? '' : cmd.name();
    for (const o of cmd.options) rows.push({ command, flag: o.flags, ...helpFacts(cmd, o) });
  }
  return rows;
}

const docText = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

/** The rows of the flag table in `path` (header `| flag | env | default |`, optionally led by `command`). */
function docRows(path: string): FlagRow[] {
  const lines = docText(path).split('\n');
  const start = lines.findIndex((l) => /^\| (command \| )?flag \| env \| default \|$/.test(l));
  expect(start, `${path} has a flag table`).toBeGreaterThanOrEqual(0);
  const withCommand = lines[start]!.startsWith('| command');
  const rows: FlagRow[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line.slice(1, -1).split(/(?<!\\)\|/).map((c) => unquote(c.replace(/\\\|/g, '|')));
    const [command, flag, env, def] = withCommand ? cells : ['', ...cells];
    rows.push({ command: command!, flag: flag!, env: env!, default: def! });
  }
  return rows;
}

const asTable = (rows: FlagRow[], withCommand: boolean): string =>
  rows
    .map((r) => `| ${withCommand ? `${r.command ? `\`${r.command}\`` : ''} | ` : ''}\`${r.flag.replace(/\|/g, '\\|')}\` | ${r.env ? `\`${r.env}\`` : ''} | ${r.default ? `\`${r.default}\`` : ''} |`)
    .join('\n');

const TABLES: [string, string, () => Command][] = [
  ['accord-gateway', 'gateway/README.md', gatewayProgram],
  ['node server', 'nodes/README.md', nodeServerProgram],
  ['accord-node', 'docs/ingest.md', () => operatorProgram()],
];

const ALL_PROGRAMS = [gatewayProgram(), nodeServerProgram(), operatorProgram(), startProgram(), askProgram(), tokenProgram(), synthProgram()];

describe('--help is the one list of flags', () => {
  for (const [name, path, program] of TABLES) {
    it(`${path} lists exactly the flags of ${name} --help, with their environment variables and defaults`, () => {
      const help = helpRows(program());
      const docs = docRows(path);
      const withCommand = help.some((r) => r.command !== '');
      expect(docs, `${path} should hold:\n${asTable(help, withCommand)}\n`).toEqual(help);
    });
  }

  it('every program defines a flag at most once, and every environment fallback is an ACCORD_ variable', () => {
    for (const program of ALL_PROGRAMS) {
      for (const cmd of [program, ...program.commands]) {
        const longs = cmd.options.map((o) => o.long);
        expect(new Set(longs).size, cmd.name()).toBe(longs.length);
        for (const o of cmd.options) if (o.envVar !== undefined) expect(o.envVar, o.flags).toMatch(/^ACCORD_[A-Z_]+$/);
      }
    }
  });

  it('every flag the docs name in running text is a flag of some program', () => {
    const known = new Set(ALL_PROGRAMS.flatMap((p) => [p, ...p.commands].flatMap((c) => c.options.map((o) => o.long!))));
    known.add('--help');
    const docs = ['README.md', 'ARCHITECTURE.md', 'gateway/README.md', 'nodes/README.md', ...readdirSync(new URL('../docs', import.meta.url)).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    const unknown: string[] = [];
    let named = 0;
    for (const path of docs) {
      const prose = docText(path).replace(/^```[\s\S]*?^```/gm, '');
      for (const span of prose.matchAll(/`([^`\n]+)`/g)) {
        for (const m of span[1]!.matchAll(/(?:^|\s)(--[a-z][a-z0-9-]*)/g)) {
          named++;
          if (!known.has(m[1]!)) unknown.push(`${path}: ${m[1]}`);
        }
      }
    }
    expect(named).toBeGreaterThan(20);
    expect(unknown).toEqual([]);
  });
});
