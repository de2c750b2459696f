/**
 * `npm run bench`: every benchmark, printing figures and ratios to their targets, then the whole
 * result as one JSON line prefixed `BENCH_JSON ` for tooling (and into the file BENCH_OUT, if set).
 * Benchmarks measure; they never fail a build.
 *
 * Environment: BENCH_SECONDS (privacy samplers, seconds per case); the federation benchmark's
 * BENCH_NODES (3,10; `none` skips it), BENCH_INCIDENTS, BENCH_QUERIES, … (see federation.ts); the
 * analyst questions benchmark's BENCH_QUESTIONS (`none` skips it) and BENCH_QUESTION_NODES (5) —
 * it shares BENCH_INCIDENTS and BENCH_QUERIES with the federation benchmark when they are set, and
 * otherwise uses its own defaults (1,000,000 incidents per node, 20 queries; see questions.ts); the
 * admission benchmark's BENCH_ADMISSION (`none` skips it), BENCH_ADMISSION_SECONDS, … (see admission.ts).
 */
import { writeFileSync } from 'node:fs';
import { admissionBenchOptionsFromEnv, printAdmissionBench, runAdmissionBench } from './admission.js';
import { federationBenchOptionsFromEnv, printFederationBench, runFederationBench } from './federation.js';
import { printPrivacyBench, runPrivacyBench } from './privacy.js';
import { printQuestionsBench, questionsBenchOptionsFromEnv, runQuestionsBench } from './questions.js';

async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? '1');
  const federationOptions = federationBenchOptionsFromEnv();
  // BENCH_NODES is the federation benchmark's list of sizes here; the questions take BENCH_QUESTION_NODES.
  const questionsOptions = questionsBenchOptionsFromEnv({ ...process.env, BENCH_NODES: undefined });
  const privacy = runPrivacyBench(seconds);
  printPrivacyBench(privacy);
  const federation = federationOptions.nodeCounts.length > 0 ? await runFederationBench(federationOptions) : null;
  if (federation) printFederationBench(federation);
  const questions = questionsOptions.questions.length > 0 ? await runQuestionsBench(questionsOptions) : null;
  if (questions) printQuestionsBench(questions);
  const admissionOptions = admissionBenchOptionsFromEnv();
  const admission = admissionOptions ? await runAdmissionBench(admissionOptions) : null;
  if (admission) printAdmissionBench(admission);
  const json = JSON.stringify({ privacy, federation, questions, admission });
  if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, `${json}\n`);
  console.log(`BENCH_JSON ${json}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
