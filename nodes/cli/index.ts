#!/usr/bin/env node
/**
 * `accord-node`: the node operator's command line (init, import, stats, markings, audit).
 * Usage and exit codes: `accord-node --help` and docs/ingest.md.
 */
import { runCli } from './commands.js';

// `accord-node stats | head`: a closed pipe ends the output, not the process with a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`accord-node: unexpected error: ${String(e)}\n`);
    process.exitCode = 5;
  },
);
