/**
 * The edge under a sustained mixed load, shared by bench/edge-soak.ts (minutes, figures) and
 * test/worker/edge-load.test.ts (seconds, assertions): content published on a local edge, the
 * load from a second process (bench/mixed-load.ts), and the edge side's memory sampled while it
 * runs: the workerd process's RSS (the Worker, its Durable Objects and R2) and this Node
 * process's heap (Miniflare's host side).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { publishPath } from '../peer-node/publish/publish-client.js';
import type { LocalEdge } from '../scripts/local-edge.js';

const ROOT = path.join(import.meta.dirname, '..');

/** What the parent hands the load generator (one JSON argument). */
export interface MixedLoadConfig {
  /** The edge's origin, e.g. http://127.0.0.1:PORT */
  base: string;
  seconds: number;
  concurrency: number;
  swarms: number;
  peersPerSwarm: number;
  /** The published torrent (hex), scraped with the bench swarms. */
  infoHash: string;
  pieceLength: number;
  /** Published files: the seed URL path and the same bytes on disk. */
  files: { urlPath: string; localPath: string }[];
  /** Shares of the mix, summing to 1 (default 0.7 / 0.1 / 0.2). */
  mix?: { announce: number; scrape: number; range: number };
  /** A request unanswered this long counts as a timeout (default 10 s). */
  timeoutMs?: number;
}

export type RequestKind = 'announce' | 'scrape' | 'range';

/** One request kind's figures over the timed load. */
export interface KindFigures {
  count: number;
  /** Unexpected statuses, bencoded failures, wrong Content-Range or bytes, transport errors. */
  errors: number;
  /** No answer within the timeout. */
  timeouts: number;
  p50ms: number;
  p99ms: number;
  maxms: number;
  /** Payload bytes read and checked (range reads). */
  bytes: number;
  /** The first few errors, for the report. */
  samples: string[];
}

/** The load generator's answer (its last stdout line). */
export interface MixedLoadResult {
  seconds: number;
  kinds: Record<RequestKind, KindFigures>;
  /** Completed requests per 10 s of the timed load, all kinds. */
  perTenSeconds: number[];
  warmupMs: number;
  warmupErrors: number;
  warmupErrorSamples: string[];
  /** What a scrape of each bench swarm (by index) must say once the load is over. */
  swarmCounts: { complete: number; incomplete: number }[];
}

/** One memory sample of the edge side, seconds after the timed load began. */
export interface MemorySample {
  t: number;
  workerdRssMiB: number;
  /** workerd's RSS split: anonymous memory (heaps), and file-backed and shared pages. */
  workerdAnonMiB: number;
  workerdFileMiB: number;
  nodeRssMiB: number;
  nodeHeapMiB: number;
}

/** Published content for the load: two files of one torrent, and where they are on disk. */
export interface LoadContent {
  infoHash: string;
  pieceLength: number;
  files: { urlPath: string; localPath: string }[];
}

/**
 * Publishes a folder `load` with a `bigMiB` file (crossing 8 MiB storage chunks) and a small one
 * on `edge`, random bytes written under `work`.
 */
export async function publishLoadContent(edge: LocalEdge, work: string, token: string, bigMiB: number): Promise<LoadContent> {
  const folder = path.join(work, 'load');
  await mkdir(folder, { recursive: true });
  const sizes: [string, number][] = [
    ['big.bin', bigMiB * 1024 * 1024 + 12_345],
    ['small.bin', 300_001],
  ];
  for (const [name, size] of sizes) await writeFile(path.join(folder, name), randomBytes(size));
  const pieceLength = 256 * 1024;
  const { infoHash } = await publishPath({ path: folder, edge: edge.url, token, pieceLength });
  return {
    infoHash,
    pieceLength,
    files: sizes.map(([name]) => ({ urlPath: `/seed/${infoHash}/load/${name}`, localPath: path.join(folder, name) })),
  };
}

/** The workerd process Miniflare started for this process (a child of it), or undefined. */
export function workerdPid(): number | undefined {
  let best: { pid: number; start: number } | undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ... starttime is field 22; comm may hold spaces, so split after ')'.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (comm !== 'workerd' || Number(rest[1]) !== process.pid) continue;
      const start = Number(rest[19]);
      if (!best || start > best.start) best = { pid: Number(entry), start };
    } catch {
      // the process ended while we looked
    }
  }
  return best?.pid;
}

/** VmRSS, RssAnon and RssFile + RssShmem of `pid`, in MiB. */
function rssMiB(pid: number): { rss: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  const mib = (k: number) => Math.round((k / 1024) * 10) / 10;
  return { rss: mib(kb('VmRSS')), anon: mib(kb('RssAnon')), file: mib(kb('RssFile') + kb('RssShmem')) };
}

/**
 * Runs bench/mixed-load.ts against `edge` and samples memory every `sampleMs` from the end of
 * its warm-up to its end. Rejects if the generator fails or prints no result.
 */
export async function runMixedLoad(config: MixedLoadConfig, sampleMs = 2000): Promise<{ result: MixedLoadResult; samples: MemorySample[] }> {
  const pid = workerdPid();
  if (pid === undefined) throw new Error('no workerd child process found');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'mixed-load.ts'), JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: ROOT,
  });
  const samples: MemorySample[] = [];
  let startedAt = 0;
  let timer: NodeJS.Timeout | undefined;
  const sample = () => {
    const mem = process.memoryUsage();
    const workerd = rssMiB(pid);
    samples.push({
      t: Math.round((performance.now() - startedAt) / 100) / 10,
      workerdRssMiB: workerd.rss,
      workerdAnonMiB: workerd.anon,
      workerdFileMiB: workerd.file,
      nodeRssMiB: Math.round((mem.rss / 1048576) * 10) / 10,
      nodeHeapMiB: Math.round((mem.heapUsed / 1048576) * 10) / 10,
    });
  };
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d;
    if (!timer && out.includes('warm\n')) {
      startedAt = performance.now();
      sample();
      timer = setInterval(sample, sampleMs);
    }
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  clearInterval(timer);
  if (timer) sample();
  const last = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !last.startsWith('{')) throw new Error(`mixed-load exited ${code}: ${out.slice(-500)}`);
  return { result: JSON.parse(last) as MixedLoadResult, samples };
}

/** Growth of a memory figure from the first window's maximum to the last window's maximum. */
export function memoryGrowth(samples: MemorySample[], key: 'workerdRssMiB' | 'workerdAnonMiB' | 'workerdFileMiB' | 'nodeRssMiB' | 'nodeHeapMiB', windowSeconds: number): { first: number; last: number; growth: number } {
  const end = samples.at(-1)?.t ?? 0;
  const max = (xs: MemorySample[]) => Math.max(...xs.map((s) => s[key]));
  const first = max(samples.filter((s) => s.t <= windowSeconds));
  const last = max(samples.filter((s) => s.t >= end - windowSeconds));
  return { first, last, growth: Math.round((last - first) * 10) / 10 };
}

/** The load's figures as a Markdown table. */
export function loadTable(result: MixedLoadResult): string {
  const rows = ['| request | count | per s | errors | timeouts | p50 ms | p99 ms | max ms | MiB read |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|'];
  for (const [kind, f] of Object.entries(result.kinds)) {
    rows.push(`| ${kind} | ${f.count} | ${Math.round(f.count / result.seconds)} | ${f.errors} | ${f.timeouts} | ${f.p50ms} | ${f.p99ms} | ${f.maxms} | ${kind === 'range' ? Math.round(f.bytes / 1048576) : '-'} |`);
  }
  return rows.join('\n');
}
