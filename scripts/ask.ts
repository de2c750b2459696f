#!/usr/bin/env node
/**
 * `npm run ask -- [options] [file]`: sends one GraphQL operation to the local gateway and prints the
 * answer, one short object per line where it fits. The operation is read from `file`, or from
 * stdin when no file is given; with `--member` a development token is minted from the data
 * folder's development issuer (as `npm run token` does).
 *
 *   npm run -s ask -- --member fr-anssi docs/queries/trend.graphql
 *
 * Flags, their environment fallbacks and defaults: `npm run ask -- --help` ({@link askProgram}).
 * Exit codes: 0 answered without errors, 1 the answer holds errors, 2 bad usage or no answer.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { DEFAULT_AUDIENCE, DEV_ISSUER, devIssuerFiles, ensureDevIssuer, mintToken } from '../gateway/auth/dev-issuer.js';
import { isEntry } from './entry.js';

/** Pretty JSON with every object or list that fits in `width` characters on one line. */
export function compactJson(value: unknown, width = 150, indent = ''): string {
  const flat = JSON.stringify(value);
  if (value === null || typeof value !== 'object' || flat.length <= width) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value)) return `[\n${value.map((v) => inner + compactJson(v, width, inner)).join(',\n')}\n${indent}]`;
  const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${compactJson(v, width, inner)}`);
  return `{\n${entries.join(',\n')}\n${indent}}`;
}

/** The `npm run ask` program, unparsed. */
export function askProgram(): Command {
  return new Command()
    .name('accord-ask')
    .description('Send one GraphQL operation to the Accord gateway and print the answer.')
    .argument('[file]', 'file holding the operation (default: stdin)')
    .option('--member <id>', 'mint a development token for this member')
    .addOption(new Option('--token <jwt>', 'use this member token instead').env('ACCORD_TOKEN'))
    .addOption(new Option('--url <url>', 'gateway endpoint').env('ACCORD_URL').default('http://127.0.0.1:4000/graphql'))
    .option('--variables <json>', 'operation variables (JSON object)')
    .addOption(new Option('--data-dir <dir>', 'where dev-issuer.jwk lives (the data folder of npm start)').env('ACCORD_DATA_DIR').default('./data'))
    .option('--raw', 'print the response body unchanged', false)
    .showHelpAfterError();
}

async function main(): Promise<number> {
  const o = askProgram().parse();
  const opts = o.opts<{ member?: string; token?: string; url: string; variables?: string; dataDir: string; raw: boolean }>();
  const file = o.args[0];
  const query = file ? readFileSync(file, 'utf8') : readFileSync(0, 'utf8');
  if (query.trim() === '') throw new Error('No operation given (pass a file or pipe one on stdin).');
  let variables: unknown;
  if (opts.variables !== undefined) {
    try {
      variables = JSON.parse(opts.variables);
    } catch {
      throw new Error('--variables is not JSON.');
    }
  }
  let token = opts.token;
  if (opts.member) {
    const files = await ensureDevIssuer(devIssuerFiles(resolve(opts.dataDir)));
    token = await mintToken({ key: files.keyFile, member: opts.member, staff: false, ttlSeconds: 600, issuer: DEV_ISSUER, audience: DEFAULT_AUDIENCE });
  }
  const res = await fetch(opts.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, ...(variables !== undefined ? { variables } : {}) }),
  });
  const text = await res.text();
  if (opts.raw) {
    process.stdout.write(`${text}\n`);
  } else {
    try {
      process.stdout.write(`${compactJson(JSON.parse(text))}\n`);
    } catch {
      process.stdout.write(`${text}\n`);
      return 2;
    }
  }
  try {
    return (JSON.parse(text) as { errors?: unknown[] }).errors?.length ? 1 : 0;
  } catch {
    return 2;
  }
}

if (isEntry(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      const err = e as { message?: string; cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } };
      const code = err.cause?.code ?? err.cause?.errors?.[0]?.code;
      const hint = code === 'ECONNREFUSED' ? ': nothing answers there (is `npm start` running?)' : err.cause?.message ? `: ${err.cause.message}` : '';
      process.stderr.write(`${err.message ?? String(e)}${hint}\n`);
      process.exit(2);
    },
  );
}
