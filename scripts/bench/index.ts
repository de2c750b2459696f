/**
 * `npm run bench`: every benchmark, printing figures and ratios to their targets.
 * Benchmarks measure; they never fail a build.
 */
import { printPrivacyBench, runPrivacyBench } from './privacy.js';

async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? '1');
  printPrivacyBench(runPrivacyBench(seconds));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
