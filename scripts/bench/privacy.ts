/**
 * Sampler throughput on one core: discrete Laplace and discrete Gaussian at several scales,
 * from the production CSPRNG-backed entropy. Prints samples/second and the ratio to the targets
 * (≥ 1,000,000/s discrete Laplace; ≥ 200,000/s discrete Gaussian at σ ≤ 100).
 */
import {
  Entropy,
  countSensitivity,
  discreteGaussianWithSigma,
  discreteLaplaceWithScale,
  gaussianForRho,
  laplaceForEpsilon,
  type NoiseMechanism,
} from '../../schema/privacy/index.js';

const LAPLACE_TARGET = 1_000_000;
const GAUSSIAN_TARGET = 200_000;

export interface SamplerFigure {
  mechanism: string;
  parameter: string;
  samplesPerSecond: number;
  target: number;
  ratio: number;
}

function measure(mech: NoiseMechanism, entropy: Entropy, seconds: number): number {
  // Warm up, then run for a fixed time in batches.
  for (let i = 0; i < 20_000; i++) mech.sample(entropy);
  let n = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  for (;;) {
    for (let i = 0; i < 10_000; i++) sink += mech.sample(entropy);
    n += 10_000;
    if (process.hrtime.bigint() - start >= budget) break;
  }
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  if (sink === 0.5) console.log(''); // keep the loop from being optimised away
  return n / elapsed;
}

export function runPrivacyBench(seconds = 1): SamplerFigure[] {
  const entropy = new Entropy();
  const cases: Array<[string, string, NoiseMechanism, number]> = [
    ['discrete Laplace', 't = 1', discreteLaplaceWithScale(1), LAPLACE_TARGET],
    ['discrete Laplace', 't = 10', discreteLaplaceWithScale(10), LAPLACE_TARGET],
    ['discrete Laplace', 't = 100', discreteLaplaceWithScale(100), LAPLACE_TARGET],
    ['discrete Laplace', 't = 1000', discreteLaplaceWithScale(1000), LAPLACE_TARGET],
    ['discrete Laplace', 'ε = 0.3, Δ₁ = 7 (t ≈ 23.3)', laplaceForEpsilon(0.3, countSensitivity({ maxPartitions: 7, maxPerPartition: 1 })), LAPLACE_TARGET],
    ['discrete Gaussian', 'σ = 1', discreteGaussianWithSigma(1), GAUSSIAN_TARGET],
    ['discrete Gaussian', 'σ = 10', discreteGaussianWithSigma(10), GAUSSIAN_TARGET],
    ['discrete Gaussian', 'σ = 100', discreteGaussianWithSigma(100), GAUSSIAN_TARGET],
    ['discrete Gaussian', 'ρ = 0.03, L0 = 5, L∞ = 3 (σ ≈ 27.4)', gaussianForRho(0.03, countSensitivity({ maxPartitions: 5, maxPerPartition: 3 })), GAUSSIAN_TARGET],
    ['discrete Gaussian', 'σ = 1000', discreteGaussianWithSigma(1000), GAUSSIAN_TARGET],
  ];
  const out: SamplerFigure[] = [];
  for (const [mechanism, parameter, mech, target] of cases) {
    const sps = measure(mech, entropy, seconds);
    out.push({ mechanism, parameter, samplesPerSecond: Math.round(sps), target, ratio: sps / target });
  }
  return out;
}

export function printPrivacyBench(figures: SamplerFigure[]): void {
  console.log('\nPrivacy core — exact samplers, one core, CSPRNG entropy');
  console.log('mechanism          parameter                                samples/s    target      ratio');
  for (const f of figures) {
    console.log(
      `${f.mechanism.padEnd(18)} ${f.parameter.padEnd(40)} ${f.samplesPerSecond.toLocaleString('en').padStart(11)} ${f.target.toLocaleString('en').padStart(10)}  ${f.ratio.toFixed(2).padStart(6)}×`,
    );
  }
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const seconds = Number(process.env.BENCH_SECONDS ?? '1');
  printPrivacyBench(runPrivacyBench(seconds));
}
