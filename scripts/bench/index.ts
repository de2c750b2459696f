/**
 * `npm run bench`: every benchmark, printing figures and ratios to their targets, then the whole
 * result as one JSON line prefixed `BENCH_JSON ` for tooling.
 * Benchmarks measure; they never fail a build.
 *
 * Environment: BENCH_SECONDS (privacy samplers, seconds per case); the federation benchmark's
 * BENCH_NODES (3,10; `none` skips it), BENCH_INCIDENTS, BENCH_QUERIES, … (see federation.ts); the
 * admission benchmark's BENCH_ADMISSION (`none` skips it), BENCH_ADMISSION_SECONDS, … (see admission.ts).
 */
import { admissionBenchOptionsFromEnv, printAdmissionBench, runAdmissionBench } from './admission.js';
import { federationBenchOptionsFromEnv, printFederationBench, runFederationBench } from './federation.js';
import { printPrivacyBench, runPrivacyBench } from './privacy.js';

async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? '1');
  const federationOptions = federationBenchOptionsFromEnv();
  const privacy = runPrivacyBench(seconds);
  printPrivacyBench(privacy);
  const federation = federationOptions.nodeCounts.length > 0 ? await runFederationBench(federationOptions) : null;
  if (federation) printFederationBench(federation);
  const admissionOptions = admissionBenchOptionsFromEnv();
  const admission = admissionOptions ? await runAdmissionBench(admissionOptions) : null;
  if (admission) printAdmissionBench(admission);
  console.log(`BENCH_JSON ${JSON.stringify({ privacy, federation, admission })}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
