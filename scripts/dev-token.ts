#!/usr/bin/env node
/**
 * `npm run token -- --member <id>`: mints a development member token, signed by the development
 * issuer key that `npm start` keeps under the data folder (created if missing). Prints the token
 * alone on stdout, so `TOKEN=$(npm run --silent token -- --member fr-anssi)` works.
 *
 * Flags, their environment fallbacks and defaults: `npm run token -- --help` ({@link tokenProgram}).
 */
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_AUDIENCE, DEV_ISSUER, devIssuerFiles, ensureDevIssuer, mintToken } from '../gateway/auth/dev-issuer.js';
import { isEntry } from './entry.js';

function hours(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 24) throw new InvalidArgumentError('must be a number of hours in (0, 24] (the gateway refuses longer-lived tokens by default)');
  return n;
}

/** The `npm run token` program, unparsed. */
export function tokenProgram(): Command {
  return new Command()
    .name('accord-token')
    .description('Mint a development member token for the local Accord gateway.')
    .requiredOption('--member <id>', "member id (the token's sub; must be in the gateway's members file)")
    .option('--staff', 'add the platform staff role (may call reloadPolicies)', false)
    .option('--hours <h>', 'lifetime in hours', hours, 12)
    .addOption(new Option('--data-dir <dir>', 'where dev-issuer.jwk lives (the data folder of npm start)').env('ACCORD_DATA_DIR').default('./data'))
    .option('--issuer <iss>', 'token issuer', DEV_ISSUER)
    .option('--audience <aud>', 'token audience', DEFAULT_AUDIENCE)
    .showHelpAfterError();
}

async function main(): Promise<void> {
  const o = tokenProgram().parse().opts<{ member: string; staff: boolean; hours: number; dataDir: string; issuer: string; audience: string }>();
  const dataDir = resolve(o.dataDir);
  const files = await ensureDevIssuer(devIssuerFiles(dataDir));
  const membersFile = join(dataDir, 'members.json');
  if (existsSync(membersFile)) {
    const ids = (JSON.parse(readFileSync(membersFile, 'utf8')) as Array<{ id: string }>).map((m) => m.id);
    if (!ids.includes(o.member)) process.stderr.write(`warning: "${o.member}" is not in ${membersFile} (members: ${ids.join(', ')}); the gateway will refuse the token.\n`);
  }
  const token = await mintToken({ key: files.keyFile, member: o.member, staff: o.staff, ttlSeconds: Math.round(o.hours * 3600), issuer: o.issuer, audience: o.audience });
  process.stdout.write(`${token}\n`);
}

if (isEntry(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
