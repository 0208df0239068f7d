/**
 * HTTP announce throughput against concurrency: our edge (Worker on Miniflare, swarm state in
 * SQLite Durable Objects) and, in the same run, the bittorrent-tracker package's server and
 * opentracker (when Debian's package is installed), each under wrk at 1 to 128 connections.
 * Prints the table with our edge's ratio to the reference and writes
 * docs/plots/throughput-vs-concurrency.svg.
 *
 * usage: node --import tsx bench/throughput-vs-concurrency.ts [SECONDS_PER_POINT=4]
 * needs: wrk (Debian), test/interop/js-clients installed; opentracker (Debian) if present.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLocalEdge } from '../scripts/local-edge.js';
import { wrkAnnounces } from './announce-load.js';
import { startBittorrentTracker, startOpentracker } from './reference-trackers.js';
import { lineChartSvg, type Series, writePlot } from './svg-chart.js';

const SECONDS = Number(process.argv[2] ?? 4);
const CONCURRENCY = [1, 2, 4, 8, 16, 32, 64, 128];
const LOAD = { swarms: 20, peers: 2000 };

async function sweep(name: string, base: string, work: string): Promise<Series> {
  const points: [number, number][] = [];
  for (const c of CONCURRENCY) {
    const r = await wrkAnnounces(base, work, LOAD, SECONDS, c);
    console.error(`${name}: ${c} connections: ${r.requestsPerSecond}/s, p99 ${r.p99ms} ms, ${r.failures} failures`);
    points.push([c, r.requestsPerSecond]);
  }
  return { name, points };
}


const work = await mkdtemp(path.join(tmpdir(), 'bench-concurrency-'));
const series: Series[] = [];
const children: ChildProcess[] = [];
try {
  const edge = await startLocalEdge({ port: 0, persistDir: path.join(work, 'edge') });
  series.push(await sweep('our edge (Miniflare + DOs)', edge.url.origin, work));
  await edge.close();

  const bt = await startBittorrentTracker(18111, 18112);
  children.push(bt);
  series.push(await sweep('bittorrent-tracker (JS, memory)', 'http://127.0.0.1:18111', work));
  bt.kill();

  const ot = await startOpentracker(work, LOAD.swarms, 18211);
  if (ot) {
    children.push(ot);
    series.push(await sweep('opentracker (C, memory)', 'http://127.0.0.1:18211', work));
    ot.kill();
  }
} finally {
  for (const c of children) c.kill();
  await rm(work, { recursive: true, force: true });
}

const [ours, reference] = series;
console.log(`\nHTTP announces/s by concurrent connections (wrk, ${SECONDS} s a point, ${LOAD.peers} peers over ${LOAD.swarms} swarms, 2 cores shared with wrk)\n`);
console.log(`| connections | ${series.map((s) => s.name).join(' | ')} | ours vs bittorrent-tracker |`);
console.log(`|---:|${series.map(() => '---:|').join('')}---:|`);
for (const [k, c] of CONCURRENCY.entries()) {
  console.log(`| ${c} | ${series.map((s) => s.points[k]![1]).join(' | ')} | ${(ours!.points[k]![1] / reference!.points[k]![1]).toFixed(2)}x |`);
}
const file = await writePlot('throughput-vs-concurrency.svg', lineChartSvg({
  title: 'HTTP announces per second by concurrency',
  xLabel: 'concurrent connections (log scale)',
  yLabel: 'announces / s',
  xLog: true,
  series,
}));
console.log(`\nchart: ${file}`);
process.exit(0);
