/**
 * Loopback throughput and peak memory of our BitTorrent peer (`peer-node seed` / `peer-node
 * download`) against libtorrent 2.0, on one multi-file torrent, same machine, same run. Four
 * pairs over 127.0.0.1 TCP, one seed and one leech each:
 *
 *   1. libtorrent -> libtorrent (the reference)   3. ours -> libtorrent (our seed)
 *   2. ours -> ours                              4. libtorrent -> ours (our leech)
 *
 * Every run starts a fresh seed and waits for it to finish checking its data before the leech
 * starts, so the seed's start-up check is never timed; the leech's save folder is emptied first.
 * Runs go round by round (all four pairs, then again), so drift over the run hits every pair.
 *
 * Timing: libtorrent's leech counts from its connection to the seed to its last piece passing
 * its hash check (lt_leech_bench.py). Ours is the `seconds` of `download --json`: from just after
 * the command starts listening (module loading excluded) to exit, so it also counts its check of
 * the empty folder and closing. Wall time from spawn to exit is shown as well.
 *
 * Memory: our processes (the pid spawned is node itself) are read from /proc/PID/status every
 * 100 ms: VmHWM (the kernel's own peak RSS) and the largest RssAnon seen. libtorrent reads and
 * writes through mmap, so its RSS counts file pages; compare RssAnon (its scripts sample it).
 *
 * usage: node --import tsx bench/peer-throughput.ts [SIZE_MIB=1024] [RUNS=3]
 * needs: python3-libtorrent (Debian, /usr/bin/python3), cmp. Payload in /tmp/bench-1g (reused).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';

const SIZE_MIB = Number(process.argv[2] ?? 1024);
const RUNS = Number(process.argv[3] ?? 3);
// Another size gets its own folder: make_big_torrent.py would otherwise rewrite the 1 GiB payload.
const DATA_DIR = SIZE_MIB === 1024 ? '/tmp/bench-1g' : `/tmp/bench-${SIZE_MIB}m`;
const LEECH_DIR = `${DATA_DIR}-leech`;
const TARGET_RSS_MIB = 200;
const LEECH_TIMEOUT_S = 600;
const ROOT = path.join(import.meta.dirname, '..');
const PEER_NODE = path.join(ROOT, 'peer-node', 'bin', 'peer-node.js');
const TOOLS = path.join(import.meta.dirname, 'tools');
const PYTHON = '/usr/bin/python3'; // python3-libtorrent lives in Debian's Python only
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
const MiB = 1048576;

type Side = 'ours' | 'libtorrent';
const PAIRS: { seed: Side; leech: Side }[] = [
  { seed: 'libtorrent', leech: 'libtorrent' },
  { seed: 'ours', leech: 'ours' },
  { seed: 'ours', leech: 'libtorrent' },
  { seed: 'libtorrent', leech: 'ours' },
];

interface Memory {
  /** Peak RSS: VmHWM for ours, ru_maxrss for libtorrent (file pages included there). */
  peakMiB: number;
  /** Largest RssAnon seen; for a seed, while serving (after its check). */
  anonMiB: number;
}
interface Leeched {
  seconds: number;
  wallSeconds: number;
  cpuSeconds: number;
  memory: Memory;
}
interface Run extends Leeched {
  pair: number;
  mibps: number;
  seed: Memory;
}
interface Seed {
  port: number;
  /** Stops the seed and reports its memory. */
  stop(): Promise<Memory>;
}

/** Polls /proc/PID/status (and stat, for CPU time) every 100 ms while the process lives. */
class ProcSampler {
  private hwmKiB = 0;
  private anonKiB = 0;
  private servingAnonKiB = 0;
  private serving = false;
  /** utime + stime, as of the last sample (so up to 100 ms short at exit). */
  private cpuTicks = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
  }

  private sample(): void {
    let status: string;
    let stat: string;
    try {
      status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    } catch {
      return; // gone (a zombie has neither figure either); the maxima so far stand
    }
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    this.hwmKiB = Math.max(this.hwmKiB, kib('VmHWM'));
    const anon = kib('RssAnon');
    this.anonKiB = Math.max(this.anonKiB, anon);
    if (this.serving) this.servingAnonKiB = Math.max(this.servingAnonKiB, anon);
    // utime and stime are fields 14 and 15; the name in parentheses may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.length > 12) this.cpuTicks = Number(fields[11]) + Number(fields[12]);
  }

  /** From now on the seed serves: its anon peak is also tracked apart from its check. */
  markServing(): void {
    this.sample();
    this.serving = true;
  }

  stop(): { peakMiB: number; anonMiB: number; servingAnonMiB: number; cpuSeconds: number } {
    clearInterval(this.timer);
    const mib = (k: number) => Math.round((k / 1024) * 10) / 10;
    return { peakMiB: mib(this.hwmKiB), anonMiB: mib(this.anonKiB), servingAnonMiB: mib(this.servingAnonKiB), cpuSeconds: Math.round((this.cpuTicks / CLK_TCK) * 100) / 100 };
  }
}

/** Lines of a child's stream, awaited one pattern at a time; every line is kept for errors. */
function lines(child: ChildProcess, stream: NodeJS.ReadableStream, name: string) {
  const seen: string[] = [];
  const reader = createInterface({ input: stream });
  reader.on('line', (line) => seen.push(line));
  const iterator = reader[Symbol.asyncIterator]();
  return {
    seen,
    async next(pattern: RegExp, timeoutS: number): Promise<RegExpExecArray> {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${name}: nothing matching ${pattern} in ${timeoutS} s:\n${seen.join('\n')}`)), timeoutS * 1000);
      });
      try {
        for (;;) {
          const line = await Promise.race([iterator.next(), timeout]);
          if (line.done) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before ${pattern}:\n${seen.join('\n')}`);
          const m = pattern.exec(line.value);
          if (m) return m;
        }
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** A child's exit code once it has exited and its output is read; killed (and throws) after timeoutS. */
function closing(child: ChildProcess, name: string) {
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return async (timeoutS: number): Promise<number | null> => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
    const code = await closed;
    clearTimeout(timer);
    if (child.signalCode === 'SIGKILL') throw new Error(`${name} did not exit within ${timeoutS} s; killed`);
    return code;
  };
}

async function startOurSeed(torrent: string): Promise<Seed> {
  const child = spawn(process.execPath, [PEER_NODE, 'seed', torrent, '--dir', DATA_DIR, '--port', '0', '--host', '127.0.0.1', '--no-dht', '--quiet'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = closing(child, 'our seed');
  const sampler = new ProcSampler(child.pid!);
  const err = lines(child, child.stderr!, 'our seed');
  const started = performance.now();
  const port = Number((await err.next(/listening on port (\d+)/, 30))[1]);
  // It listens before checking its data and seeds once the "checked" line is out. A SIGTERM
  // during the check is lost (the command then seeds on), so it is never stopped before this.
  const [, have, total] = await err.next(/^checked .*: (\d+) of (\d+) pieces/, 300);
  if (have !== total) throw new Error(`our seed verified only ${have} of ${total} pieces in ${DATA_DIR}`);
  sampler.markServing();
  progress(`  our seed: check ${((performance.now() - started) / 1000).toFixed(2)} s`);
  return {
    port,
    async stop() {
      child.kill('SIGTERM');
      const code = await exited(15);
      const m = sampler.stop();
      // After "listening" and "checked", only "seeding ... Ctrl-C to stop" is expected; anything
      // else (warnings) is worth seeing, once per distinct line.
      const said = new Map<string, number>();
      for (const line of err.seen.slice(2)) if (!line.startsWith('seeding ')) said.set(line, (said.get(line) ?? 0) + 1);
      for (const [line, n] of said) progress(`  our seed said${n > 1 ? ` (${n} times)` : ''}: ${line}`);
      if (code !== 0) throw new Error(`our seed exited ${code} on SIGTERM`);
      progress(`  our seed: ${m.cpuSeconds} s CPU over its life`);
      return { peakMiB: m.peakMiB, anonMiB: m.servingAnonMiB };
    },
  };
}

async function startLibtorrentSeed(torrent: string): Promise<Seed> {
  // Serves until its stdin closes, then prints its memory figures (lt_seed_bench.py).
  const child = spawn(PYTHON, [path.join(TOOLS, 'lt_seed_bench.py'), torrent, DATA_DIR], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = closing(child, 'libtorrent seed');
  const out = lines(child, child.stdout!, 'libtorrent seed');
  const started = performance.now();
  const port = Number((await out.next(/"port": (\d+)/, 300))[1]);
  progress(`  libtorrent seed: check ${((performance.now() - started) / 1000).toFixed(2)} s`);
  return {
    port,
    async stop() {
      child.stdin!.end();
      const report = JSON.parse((await out.next(/^\{/, 30)).input) as { peakRssMiB: number; servingPeakRssAnonMiB: number };
      await exited(15);
      return { peakMiB: report.peakRssMiB, anonMiB: report.servingPeakRssAnonMiB };
    },
  };
}

async function ourLeech(torrent: string, port: number, bytes: number): Promise<Leeched> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [PEER_NODE, 'download', torrent, '--out', LEECH_DIR, '--peer', `127.0.0.1:${port}`, '--port', '0', '--host', '127.0.0.1', '--no-dht', '--json'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = closing(child, 'our leech');
  const sampler = new ProcSampler(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const code = await exited(LEECH_TIMEOUT_S);
  const wallSeconds = (performance.now() - started) / 1000;
  const m = sampler.stop();
  if (code !== 0) throw new Error(`our leech exited ${code}:\n${stderr}${stdout}`);
  if (stderr.trim()) progress(`  our leech said: ${stderr.trim()}`);
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as { done: number; wanted: number; complete: boolean; bytesFromPeers: number; wasted: number; hashFailures: number; seconds: number };
  // Only pieces that passed their SHA-1 check are written and counted in done.
  if (!r.complete || r.done !== bytes || r.wanted !== bytes) throw new Error(`our leech finished incomplete: ${stdout}`);
  if (r.wasted || r.hashFailures) progress(`  our leech: ${r.wasted} bytes wasted, ${r.hashFailures} hash failures`);
  return { seconds: r.seconds, wallSeconds, cpuSeconds: m.cpuSeconds, memory: { peakMiB: m.peakMiB, anonMiB: m.anonMiB } };
}

async function libtorrentLeech(torrent: string, port: number, bytes: number): Promise<Leeched> {
  const started = performance.now();
  const child = spawn(PYTHON, [path.join(TOOLS, 'lt_leech_bench.py'), torrent, LEECH_DIR, '127.0.0.1', String(port), String(LEECH_TIMEOUT_S)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = closing(child, 'libtorrent leech');
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  const code = await exited(LEECH_TIMEOUT_S + 30);
  const wallSeconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`libtorrent leech exited ${code}: ${stdout}`);
  const r = JSON.parse(stdout) as { seconds: number; bytes: number; peakRssMiB: number; peakRssAnonMiB: number; wastedBytes: number; cpuSeconds: number; finished: boolean };
  // finished = torrent_finished_alert: every piece passed libtorrent's hash check.
  if (!r.finished || r.bytes !== bytes) throw new Error(`libtorrent leech did not finish: ${stdout}`);
  if (r.wastedBytes) progress(`  libtorrent leech: ${r.wastedBytes} bytes wasted`);
  return { seconds: r.seconds, wallSeconds, cpuSeconds: r.cpuSeconds, memory: { peakMiB: r.peakRssMiB, anonMiB: r.peakRssAnonMiB } };
}

/** Byte-for-byte comparison of every payload file with the seed's (once per pair). */
async function compareWithSource(name: string): Promise<void> {
  const files = (await readdir(path.join(DATA_DIR, name))).sort();
  const got = (await readdir(path.join(LEECH_DIR, name))).sort();
  if (got.join() !== files.join()) throw new Error(`leech holds ${got.join(', ')}, expected ${files.join(', ')}`);
  for (const f of files) execFileSync('cmp', [path.join(DATA_DIR, name, f), path.join(LEECH_DIR, name, f)], { stdio: 'inherit' });
}

function progress(text: string): void {
  process.stderr.write(`${text}\n`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const made = JSON.parse(execFileSync(PYTHON, [path.join(TOOLS, 'make_big_torrent.py'), DATA_DIR, String(SIZE_MIB)], { encoding: 'utf8' })) as {
  torrent: string;
  bytes: number;
  pieceLength: number;
  reused: boolean;
};
const NAME = 'payload'; // make_big_torrent.py names the torrent so
progress(`torrent ${made.torrent}: ${made.bytes / MiB} MiB, ${made.pieceLength / 1024} KiB pieces${made.reused ? ' (payload reused)' : ''}`);

const runs: Run[] = [];
try {
  for (let round = 1; round <= RUNS; round++) {
    for (const [i, pair] of PAIRS.entries()) {
      await rm(LEECH_DIR, { recursive: true, force: true });
      await mkdir(LEECH_DIR);
      execFileSync('sync'); // no earlier run's writeback competing with this one
      const seed = await (pair.seed === 'ours' ? startOurSeed : startLibtorrentSeed)(made.torrent);
      let leeched: Leeched;
      let seedMemory: Memory;
      try {
        leeched = await (pair.leech === 'ours' ? ourLeech : libtorrentLeech)(made.torrent, seed.port, made.bytes);
      } finally {
        seedMemory = await seed.stop();
      }
      if (round === 1) await compareWithSource(NAME);
      const run: Run = { pair: i, mibps: made.bytes / MiB / leeched.seconds, seed: seedMemory, ...leeched };
      runs.push(run);
      progress(
        `run ${round}/${RUNS} ${pair.seed} -> ${pair.leech}: ${run.mibps.toFixed(1)} MiB/s (${run.seconds.toFixed(2)} s, wall ${run.wallSeconds.toFixed(2)} s), ` +
          `leech peak ${run.memory.peakMiB} / anon ${run.memory.anonMiB} MiB, seed peak ${run.seed.peakMiB} / serving anon ${run.seed.anonMiB} MiB${round === 1 ? ', files identical (cmp)' : ''}`,
      );
    }
  }
} finally {
  await rm(LEECH_DIR, { recursive: true, force: true });
}

const label = (s: Side) => (s === 'ours' ? 'ours' : 'libtorrent 2.0');
const perPair = PAIRS.map((pair, i) => ({ ...pair, runs: runs.filter((r) => r.pair === i) }));
const med = (rs: Run[], f: (r: Run) => number) => median(rs.map(f));
const reference = med(perPair[0]!.runs, (r) => r.mibps);
console.log(`\n${made.bytes / MiB} MiB, 3 files, ${made.pieceLength / 1024} KiB pieces, one seed -> one leech over 127.0.0.1 TCP, median of ${RUNS} runs, 2 cores shared by both\n`);
console.log('| seed -> leech | MiB/s | vs libtorrent | runs MiB/s | leech s (wall) | leech CPU s | leech peak RSS MiB | leech anon MiB | seed peak RSS MiB | seed anon MiB (serving) |');
console.log('|---|---:|---:|---|---:|---:|---:|---:|---:|---:|');
for (const p of perPair) {
  const mibps = med(p.runs, (r) => r.mibps);
  const max = (f: (r: Run) => number) => Math.max(...p.runs.map(f));
  console.log(
    `| ${label(p.seed)} -> ${label(p.leech)} | ${mibps.toFixed(1)} | ${(mibps / reference).toFixed(2)}x | ${p.runs.map((r) => r.mibps.toFixed(0)).join(', ')} | ` +
      `${med(p.runs, (r) => r.seconds).toFixed(2)} (${med(p.runs, (r) => r.wallSeconds).toFixed(2)}) | ${med(p.runs, (r) => r.cpuSeconds).toFixed(2)} | ` +
      `${max((r) => r.memory.peakMiB)} | ${max((r) => r.memory.anonMiB)} | ${max((r) => r.seed.peakMiB)} | ${max((r) => r.seed.anonMiB)} |`,
  );
}
console.log('\nleech s: libtorrent from peer connection to finished; ours the download\'s own `seconds` (from listening, its empty-folder check and close included). Memory columns: the highest over the runs.');
console.log('Peak RSS: VmHWM for ours; ru_maxrss for libtorrent, which counts the mmapped file pages it touched, so compare anon.');

// Our processes against the memory target: their whole-life peak RSS (VmHWM; a seed's includes its check).
const ours = (side: 'seed' | 'leech') => Math.max(...runs.filter((r) => PAIRS[r.pair]![side] === 'ours').map((r) => (side === 'seed' ? r.seed.peakMiB : r.memory.peakMiB)));
console.log(`\nour peak RSS vs the ${TARGET_RSS_MIB} MiB target:`);
for (const side of ['seed', 'leech'] as const) {
  const peak = ours(side);
  console.log(`- ${side}: ${peak} MiB VmHWM, ${(peak / TARGET_RSS_MIB).toFixed(2)}x of target (${peak <= TARGET_RSS_MIB ? 'met' : 'NOT met'})`);
}
process.exit(0);
