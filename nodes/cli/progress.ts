/**
 * Import progress for the operator: a bar with objects/s and ETA on a terminal (cli-progress), plain
 * lines every few seconds otherwise (logs, CI). Written to stderr, so stdout stays the summary.
 */
import cliProgress from 'cli-progress';
import type { ImportProgress } from '../ingest/index.js';

export interface ProgressReporter {
  update(p: ImportProgress): void;
  stop(): void;
}

function seconds(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** A reporter for one file; `tty` selects the bar. `write` receives plain lines (default stderr). */
export function progressReporter(file: string, tty: boolean, write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): ProgressReporter {
  if (tty) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${file.length > 30 ? `…${file.slice(-29)}` : file} |{bar}| {percentage}% | {objects} objects | {rate} obj/s | ETA {eta_formatted} | {phase}`,
        hideCursor: true,
        etaBuffer: 20,
        stream: process.stderr,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(p) {
        const total = p.totalBytes && p.totalBytes > 0 ? p.totalBytes : Math.max(p.bytes, 1);
        const rate = p.elapsedMs > 0 ? Math.round((p.objects * 1000) / p.elapsedMs) : 0;
        const payload = { objects: p.objects, rate, phase: p.phase === 'reading' ? 'reading' : p.phase === 'deriving' ? 'building incidents' : 'done' };
        if (!started) {
          bar.start(total, 0, payload);
          started = true;
        }
        bar.update(Math.min(p.bytes, total), payload);
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let last = -Infinity;
  return {
    update(p) {
      if (p.phase === 'reading' && (p.objects === 0 || p.elapsedMs - last < 5000)) return;
      last = p.elapsedMs;
      const rate = p.elapsedMs > 0 ? Math.round((p.objects * 1000) / p.elapsedMs) : 0;
      const share = p.totalBytes ? p.bytes / p.totalBytes : undefined;
      const eta = share && share > 0 && p.phase === 'reading' ? (p.elapsedMs / share) * (1 - share) : NaN;
      const pct = share === undefined ? '' : ` ${Math.floor(share * 100)}%`;
      const phase = p.phase === 'reading' ? '' : p.phase === 'deriving' ? ' building incidents' : ' done';
      write(`import ${file}:${pct} ${p.objects} objects, ${rate} objects/s${p.phase === 'reading' ? `, ETA ${seconds(eta)}` : ''}${phase}`);
    },
    stop() {},
  };
}
