/**
 * End-to-end test helpers: real processes from dist/, their status lines, GraphQL over real HTTP,
 * the process table, and the interval-coverage statistics the e2e tests decide with.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { binomialLowerTail, binomialUpperTail } from '../helpers/stats.js';

/** Repository root (this file is test/e2e/helpers.ts). */
export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const NODE_MAIN = join(ROOT, 'dist/nodes/main.js');
export const GATEWAY_MAIN = join(ROOT, 'dist/gateway/main.js');
export const START_MAIN = join(ROOT, 'dist/scripts/start.js');

/** A fresh directory under the OS temp folder; remove it with {@link removeDir}. */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `accord-e2e-${prefix}-`));
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process started by a test, with its output kept for diagnostics. */
export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Every stdout line so far. */
  stdout: string[];
  /** The last 40 stderr lines. */
  stderrTail: string[];
  /** Resolves when the process has exited. */
  exited: Promise<Exit>;
  /** Resolves with the first stdout line that satisfies `match` (or rejects on exit/timeout). */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
}

/**
 * Spawns `node <script> ...args` with piped output. Rejects nothing itself: use
 * {@link Proc.waitForLine} or {@link waitListening} to wait for readiness.
 */
export function startProcess(name: string, script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Proc {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env, cwd: ROOT });
  if (child.pid === undefined) throw new Error(`${name}: spawn failed`);
  const stdout: string[] = [];
  const stderrTail: string[] = [];
  const listeners = new Set<(line: string) => void>();
  const exited = new Promise<Exit>((res) => child.once('exit', (code, signal) => res({ code, signal })));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdout.push(line);
    for (const l of listeners) l(line);
  });
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderrTail.push(line);
    if (stderrTail.length > 40) stderrTail.shift();
  });
  const proc: Proc = {
    name,
    child,
    pid: child.pid,
    stdout,
    stderrTail,
    exited,
    waitForLine(match, timeoutMs) {
      return new Promise<string>((res, rej) => {
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        const check = (line: string): void => {
          if (match(line)) {
            done();
            res(line);
          }
        };
        const timer = setTimeout(() => {
          done();
          rej(new Error(`${name}: no expected output line within ${timeoutMs} ms\nstdout:\n${stdout.join('\n')}\nstderr:\n${stderrTail.join('\n')}`));
        }, timeoutMs);
        const earlier = stdout.find(match);
        if (earlier !== undefined) {
          done();
          res(earlier);
          return;
        }
        listeners.add(check);
        void exited.then((e) => {
          if (!listeners.has(check)) return;
          done();
          rej(new Error(`${name} exited (code ${e.code}, signal ${e.signal}) before the expected output\nstdout:\n${stdout.join('\n')}\nstderr:\n${stderrTail.join('\n')}`));
        });
      });
    },
  };
  return proc;
}

/** The `{"event":"listening",...}` status line nodes and the gateway print on stdout. */
export interface Listening {
  event: 'listening';
  url: string;
  id?: string;
  operatorUrl?: string;
}

function parseListening(line: string): Listening | undefined {
  try {
    const msg = JSON.parse(line) as Listening;
    return msg && msg.event === 'listening' && typeof msg.url === 'string' ? msg : undefined;
  } catch {
    return undefined;
  }
}

/** Waits for the process's listening line and returns it parsed. */
export async function waitListening(proc: Proc, timeoutMs = 30_000): Promise<Listening> {
  return parseListening(await proc.waitForLine((l) => parseListening(l) !== undefined, timeoutMs))!;
}

const alive = (proc: Proc): boolean => proc.child.exitCode === null && proc.child.signalCode === null;

/** Sends `signal`; after `graceMs` without exit, SIGKILL. Resolves with the exit. */
export async function stopProcess(proc: Proc, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<Exit> {
  if (alive(proc)) proc.child.kill(signal);
  const timer = new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), graceMs).unref());
  if ((await Promise.race([proc.exited, timer])) === 'timeout' && alive(proc)) proc.child.kill('SIGKILL');
  return proc.exited;
}

/** Live processes (other than this one) whose command line contains `needle` (Linux /proc). */
export function processesWithArg(needle: string): Array<{ pid: number; cmdline: string }> {
  const out: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue; // exited meanwhile
    }
    if (cmdline.includes(needle) && pidAlive(pid)) out.push({ pid, cmdline });
  }
  return out;
}

/** True when a process with this PID is alive (a zombie counts as gone). */
export function pidAlive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)\s+/, '')[0];
    return state !== 'Z';
  } catch {
    return false;
  }
}

export { gql, type Answer, type Cell, type GqlResult } from '../helpers/graphql.js';

export const PATTERN_QUERY = /* GraphQL */ `
  query Pattern($measure: Measure, $groupBy: [PatternDimension!]!, $filter: PatternFilter, $quorum: Quorum) {
    crossBorderPattern(measure: $measure, groupBy: $groupBy, filter: $filter, quorum: $quorum) {
      queryId
      measure
      groupBy
      cells { country region subregion sector week month value rawValue low high }
      accuracy { mechanism scale stdDev ci95 confidence }
      charge { rho epsilon delta }
      coverage { asked answered missing { node reason code } complete }
      cached
    }
  }
`;

/**
 * Smallest m with P(Binomial(n, p) ≥ m) ≤ alpha: a count of misses reaching m has false-alarm
 * probability ≤ alpha when each of n independent trials misses with probability ≤ p.
 */
export function upperAlarm(n: number, p: number, alpha: number): number {
  let m = Math.floor(n * p);
  while (binomialUpperTail(n, p, m) > alpha) m++;
  return m;
}

/**
 * Largest m with P(Binomial(n, p) ≤ m) ≤ alpha (−1 when there is none): a count at or below it has
 * false-alarm probability ≤ alpha when each trial misses with probability exactly p.
 */
export function lowerAlarm(n: number, p: number, alpha: number): number {
  let m = Math.ceil(n * p);
  while (m >= 0 && binomialLowerTail(n, p, m) > alpha) m--;
  return m;
}

/**
 * P(|Y| > c) for the discrete Gaussian N_ℤ(0, σ²) (CKS20 Def. 1), from the pmf summed directly;
 * terms beyond 40σ + 10 are negligible.
 */
export function discreteGaussianMiss(sigma2: number, c: number): number {
  const limit = Math.ceil(40 * Math.sqrt(sigma2) + 10);
  let norm = 1;
  let inside = 1;
  for (let y = 1; y <= limit; y++) {
    const w = Math.exp(-(y * y) / (2 * sigma2));
    norm += 2 * w;
    if (y <= c) inside += 2 * w;
  }
  return 1 - inside / norm;
}

/**
 * Half-width b with P(|Σ of n independent N_ℤ(0, σ²) draws| ≥ b) ≤ alpha. The discrete Gaussian is
 * σ-subgaussian (CKS20 §2, E[e^(tY)] ≤ e^(t²σ²/2)), so the sum is √n·σ-subgaussian and
 * P(|S| ≥ b) ≤ 2·e^(−b²/(2nσ²)); b = √(2nσ² ln(2/alpha)).
 */
export function subGaussianBound(n: number, sigma2: number, alpha: number): number {
  return Math.sqrt(2 * n * sigma2 * Math.log(2 / alpha));
}
