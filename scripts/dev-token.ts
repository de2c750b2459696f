#!/usr/bin/env node
/**
 * `npm run token -- --member <id>`: mints a development member token, signed by the development
 * issuer key that `npm start` keeps under the data folder (created if missing). Prints the token
 * alone on stdout, so `TOKEN=$(npm run --silent token -- --member fr-anssi)` works.
 *
 * Flags (environment fallback):
 *   --member <id>        member id (the token's sub; must be in the gateway's members file)
 *   --staff              add the platform staff role (may call reloadPolicies)
 *   --hours <h>          lifetime in hours (12)
 *   --data-dir <dir>     ACCORD_DATA_DIR   where dev-issuer.jwk lives (./data)
 *   --issuer <iss>       token issuer (accord-dev-issuer)
 *   --audience <aud>     token audience (accord-gateway)
 */
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_AUDIENCE, DEV_ISSUER, devIssuerFiles, ensureDevIssuer, mintToken } from '../gateway/auth/dev-issuer.js';

function hours(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 24 * 30) throw new InvalidArgumentError('must be a number of hours in (0, 720]');
  return n;
}

const program = new Command()
  .name('accord-token')
  .description('Mint a development member token for the local Accord gateway.')
  .requiredOption('--member <id>', 'member id (sub)')
  .option('--staff', 'add the platform staff role', false)
  .option('--hours <h>', 'lifetime in hours', hours, 12)
  .option('--data-dir <dir>', 'data folder', process.env.ACCORD_DATA_DIR ?? './data')
  .option('--issuer <iss>', 'token issuer', DEV_ISSUER)
  .option('--audience <aud>', 'token audience', DEFAULT_AUDIENCE)
  .showHelpAfterError();

async function main(): Promise<void> {
  const o = program.parse().opts<{ member: string; staff: boolean; hours: number; dataDir: string; issuer: string; audience: string }>();
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

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
