/**
 * Progress output of the long-running commands, always on stderr (stdout is for results, and
 * pure JSON under --json). On a terminal one status line is redrawn in place; anywhere else
 * (a pipe, a log file, CI) plain timestamped lines at a calm interval, so that logs stay
 * readable. The commands print one summary line at the end themselves.
 */

/** How often a plain (non-terminal) progress line is written. */
export const PLAIN_EVERY_MS = 5000;

/** The stream a progress line draws on: stderr, or a stand-in in tests. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** `2026-11-26T08:30:05Z`: the prefix of a plain progress line. */
export function timestamp(now = Date.now()): string {
  return new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Bytes in the largest unit that keeps a digit before the point: 512 B, 1.5 KiB, 3.2 MiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(n)} B` : `${n.toFixed(1)} ${units[u]}`;
}

/** Seconds as 45s, 3m07s or 2h05m; `--` when unknown. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * The place a status line is shown: `show` redraws it in place on a terminal (cut to the
 * terminal's width, so it never wraps) or writes a timestamped line at most every
 * `plainEveryMs` elsewhere (`force` writes one now: a phase change, the end). `interrupt` clears
 * the live line before other output; `done` ends it.
 */
export function statusLine(stream: ProgressStream, plainEveryMs = PLAIN_EVERY_MS, now: () => number = Date.now) {
  const tty = stream.isTTY === true;
  let drawn = false;
  let lastPlain = -Infinity;
  return {
    tty,
    show(text: string, force = false) {
      if (tty) {
        const width = stream.columns && stream.columns > 20 ? stream.columns - 1 : Infinity;
        stream.write(`\r${text.length > width ? text.slice(0, width) : text}\x1b[K`);
        drawn = true;
        return;
      }
      const t = now();
      if (force || t - lastPlain >= plainEveryMs) {
        stream.write(`${timestamp(t)} ${text}\n`);
        lastPlain = t;
      }
    },
    interrupt() {
      if (tty && drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
    done() {
      if (tty && drawn) stream.write('\n');
      drawn = false;
    },
  };
}

/**
 * The progress of a job with a known size (publish: hashing, uploading, verifying): bar, %,
 * bytes, rate and ETA. Off (`enabled` false) under --json and --quiet.
 */
export function progressLine(stream: ProgressStream, enabled = true, now: () => number = Date.now) {
  const line = statusLine(stream, PLAIN_EVERY_MS, now);
  let phase = '';
  let phaseStarted = now();
  let startDone = 0;
  return {
    update(nextPhase: string, done: number, total: number) {
      if (!enabled) return;
      const changed = nextPhase !== phase;
      if (changed) {
        phase = nextPhase;
        phaseStarted = now();
        startDone = done;
      }
      const fraction = total === 0 ? 1 : Math.min(1, done / total);
      const seconds = (now() - phaseStarted) / 1000;
      const rate = seconds > 0 ? (done - startDone) / seconds : 0;
      const eta = rate > 0 ? (total - done) / rate : undefined;
      const text = `${phase.padEnd(9)} ${(fraction * 100).toFixed(1).padStart(5)}%  ${formatBytes(done)} / ${formatBytes(total)}  ${formatBytes(rate)}/s  ETA ${done >= total ? '0s' : formatDuration(eta)}`;
      if (line.tty) {
        const width = 20;
        const filled = Math.round(fraction * width);
        line.show(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`);
      } else {
        line.show(text, changed || done >= total);
      }
    },
    done() {
      line.done();
    },
  };
}

/** What a transfer line shows (a torrent's stats). */
export interface TransferStats {
  done: number;
  wanted: number;
  downloadRate: number;
  uploadRate: number;
  peers: number;
  seeds?: number;
  bytesFromPeers: number;
  bytesFromWebSeeds: number;
  uploaded?: number;
  eta?: number;
}

/** One transfer status as text: progress, rates, peers, where the bytes came from, ETA. */
export function formatTransfer(phase: string, s: TransferStats): string {
  const pct = s.wanted === 0 ? 100 : (s.done / s.wanted) * 100;
  const seeds = s.seeds ? ` (${s.seeds} seed${s.seeds === 1 ? '' : 's'})` : '';
  // ETA early: a narrow terminal cuts the end of the line, and the sources matter least.
  return (
    `${phase.padEnd(11)} ${pct.toFixed(1).padStart(5)}%  ${formatBytes(s.done)} / ${formatBytes(s.wanted)}  ` +
    `ETA ${s.done >= s.wanted ? '0s' : formatDuration(s.eta)}  down ${formatBytes(s.downloadRate)}/s  up ${formatBytes(s.uploadRate)}/s  ` +
    `peers ${s.peers}${seeds}  from peers ${formatBytes(s.bytesFromPeers)}, web seeds ${formatBytes(s.bytesFromWebSeeds)}`
  );
}

/**
 * The live line of a download, seed or stream. Redrawn in place on a terminal; elsewhere a
 * plain timestamped line at most every `plainEveryMs`, and at once when the phase changes.
 * Off (`enabled` false) under --json and --quiet.
 */
export function transferLine(stream: ProgressStream, plainEveryMs = PLAIN_EVERY_MS, enabled = true, now: () => number = Date.now) {
  const line = statusLine(stream, plainEveryMs, now);
  let lastPhase = '';
  return {
    tty: line.tty,
    update(phase: string, s: TransferStats) {
      if (!enabled) return;
      line.show(formatTransfer(phase, s), phase !== lastPhase);
      lastPhase = phase;
    },
    /** Clears the live line (on a terminal) so that another line can be printed. */
    interrupt() {
      line.interrupt();
    },
    done() {
      line.done();
    },
  };
}

/** The closing line of a transfer: what was done, in how long, and from where. */
export function transferSummary(verb: string, s: TransferStats, seconds: number): string {
  const uploaded = s.uploaded === undefined ? '' : `, uploaded ${formatBytes(s.uploaded)}`;
  return `${verb}: ${formatBytes(s.done)} of ${formatBytes(s.wanted)} in ${formatDuration(seconds)} (${formatBytes(s.bytesFromPeers)} from peers, ${formatBytes(s.bytesFromWebSeeds)} from web seeds${uploaded})`;
}
