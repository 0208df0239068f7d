/**
 * One progress line: redrawn in place on a terminal, a plain line every 10% otherwise (logs and
 * pipes stay readable).
 */
export function progressLine(stream: NodeJS.WriteStream) {
  const tty = stream.isTTY === true;
  let lastStep = -1;
  let lastPhase = '';
  const started = Date.now();
  return {
    update(phase: string, done: number, total: number) {
      const fraction = total === 0 ? 1 : done / total;
      const seconds = (Date.now() - started) / 1000;
      const rate = seconds > 0 ? done / seconds : 0;
      const text = `${phase.padEnd(9)} ${(fraction * 100).toFixed(1).padStart(5)}%  ${mib(done)}/${mib(total)} MiB  ${mib(rate)} MiB/s`;
      if (tty) {
        const width = 24;
        const filled = Math.round(fraction * width);
        stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}   `);
        return;
      }
      const step = Math.floor(fraction * 10);
      if (step !== lastStep || phase !== lastPhase) {
        stream.write(`${text}\n`);
        lastStep = step;
        lastPhase = phase;
      }
    },
    done() {
      if (tty) stream.write('\n');
    },
  };
}

function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}

/** What a transfer line shows (a torrent's stats). */
export interface TransferStats {
  done: number;
  wanted: number;
  downloadRate: number;
  uploadRate: number;
  peers: number;
  bytesFromPeers: number;
  bytesFromWebSeeds: number;
  eta?: number;
}

/**
 * The live line of a download or seed: progress, rates, peers, ETA and where the bytes came
 * from. Redrawn in place on a terminal; on a pipe, a plain line at most every `plainEveryMs`.
 */
export function transferLine(stream: NodeJS.WriteStream, plainEveryMs = 5000) {
  const tty = stream.isTTY === true;
  let lastPlain = 0;
  return {
    update(phase: string, s: TransferStats) {
      const pct = s.wanted === 0 ? 100 : (s.done / s.wanted) * 100;
      const eta = s.eta === undefined ? '--' : formatDuration(s.eta);
      const text =
        `${phase.padEnd(11)} ${pct.toFixed(1).padStart(5)}%  ${mib(s.done)}/${mib(s.wanted)} MiB  ` +
        `down ${mib(s.downloadRate)} MiB/s  up ${mib(s.uploadRate)} MiB/s  peers ${s.peers}  ` +
        `from peers ${mib(s.bytesFromPeers)} MiB, web seeds ${mib(s.bytesFromWebSeeds)} MiB  ETA ${eta}`;
      if (tty) {
        stream.write(`\r${text}\x1b[K`);
        return;
      }
      const now = Date.now();
      if (now - lastPlain >= plainEveryMs) {
        stream.write(`${text}\n`);
        lastPlain = now;
      }
    },
    done() {
      if (tty) stream.write('\n');
    },
  };
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
