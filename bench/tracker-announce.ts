/**
 * Announce throughput and latency of the local edge (Worker on Miniflare, state persisted in
 * SQLite Durable Objects) against the bittorrent-tracker package's server and opentracker, all
 * on this machine in the same run. HTTP load comes from wrk, UDP load from bench/udp-load.ts;
 * each runs in its own process.
 *
 * usage: node --import tsx bench/tracker-announce.ts [SECONDS=10] [CONNECTIONS=32]
 * needs: wrk (Debian), test/interop/js-clients installed; opentracker (Debian) if present.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLocalEdge } from '../scripts/local-edge.js';
import { startUdpGateway } from '../peer-node/gateway/udp-gateway.js';
import { wrkAnnounces } from './announce-load.js';
import { startBittorrentTracker, startOpentracker } from './reference-trackers.js';

const SECONDS = Number(process.argv[2] ?? 10);
const CONNECTIONS = Number(process.argv[3] ?? 32);
const SWARMS = 20;
const PEERS = 2000;
const ROOT = path.join(import.meta.dirname, '..');

interface Figure {
  target: string;
  transport: 'HTTP' | 'UDP';
  perSecond: number;
  p50ms: number;
  p99ms: number;
  failures: number;
}

/** One HTTP target under wrk: the announce mix, or one fixed path. */
async function wrkRun(target: string, base: string, work: string, fixedPath?: string): Promise<Figure> {
  const r = await wrkAnnounces(base, work, { swarms: SWARMS, peers: PEERS }, SECONDS, CONNECTIONS, fixedPath);
  return { target, transport: 'HTTP', perSecond: r.requestsPerSecond, p50ms: r.p50ms, p99ms: r.p99ms, failures: r.failures };
}

async function udpRun(target: string, port: number): Promise<Figure> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'udp-load.ts'), '127.0.0.1', String(port), String(SECONDS), String(CONNECTIONS), String(SWARMS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  await once(child, 'exit');
  const r = JSON.parse(out) as { perSecond: number; p50ms: number; p99ms: number; timeouts: number; errors: number };
  return { target, transport: 'UDP', perSecond: r.perSecond, p50ms: r.p50ms, p99ms: r.p99ms, failures: r.timeouts + r.errors };
}


const work = await mkdtemp(path.join(tmpdir(), 'bench-tracker-'));
const figures: Figure[] = [];
const children: ChildProcess[] = [];
try {
  // 1. Our edge, state persisted in SQLite Durable Objects.
  const edge = await startLocalEdge({ port: 0, persistDir: path.join(work, 'edge'), bindings: { GATEWAY_SECRET: 'bench' } });
  const gateway = await startUdpGateway({ host: '127.0.0.1', port: 0, edge: edge.url, secret: 'bench' });
  // The ceiling: Miniflare's HTTP path alone (GET /health, no tracker work, no Durable Object).
  figures.push(await wrkRun('edge GET /health (Miniflare ceiling)', edge.url.origin, work, '/health'));
  figures.push(await wrkRun('edge (Miniflare + Durable Objects)', edge.url.origin, work));
  figures.push(await udpRun('edge via udp-gateway', gateway.address.port));
  await gateway.close();
  await edge.close();

  // 2. The bittorrent-tracker package's server (in memory).
  const bt = await startBittorrentTracker(18101, 18102);
  children.push(bt);
  figures.push(await wrkRun('bittorrent-tracker 11.2 server', 'http://127.0.0.1:18101', work));
  figures.push(await udpRun('bittorrent-tracker 11.2 server', 18102));
  bt.kill();

  // 3. opentracker (C, in memory), when Debian's package is installed.
  const ot = await startOpentracker(work, SWARMS, 18201);
  if (ot) {
    children.push(ot);
    figures.push(await wrkRun('opentracker', 'http://127.0.0.1:18201', work));
    figures.push(await udpRun('opentracker', 18201));
    ot.kill();
  }
} finally {
  for (const c of children) c.kill();
  await rm(work, { recursive: true, force: true });
}

const reference = (transport: string) => figures.find((f) => f.transport === transport && f.target.startsWith('bittorrent-tracker'))!;
console.log(`\nannounces, ${SECONDS}s per target, ${CONNECTIONS} concurrent clients, ${PEERS} peers over ${SWARMS} swarms, 2 cores shared with the load generator\n`);
console.log('| transport | target | announces/s | vs bittorrent-tracker | p50 ms | p99 ms | failures |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const f of figures) {
  const ratio = (f.perSecond / reference(f.transport).perSecond).toFixed(2);
  console.log(`| ${f.transport} | ${f.target} | ${f.perSecond} | ${ratio}x | ${f.p50ms} | ${f.p99ms} | ${f.failures} |`);
}
process.exit(0);
