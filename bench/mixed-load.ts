/**
 * The mixed edge load, run as its own process by bench/edge-soak.ts and
 * test/worker/edge-load.test.ts (so that the load generator's CPU and memory are not the edge's).
 *
 * CONCURRENCY workers on keep-alive connections (undici) send, for SECONDS, a mix of
 *  - announces (BEP 3, compact) over SWARMS x PEERS_PER_SWARM peers: mostly plain re-announces,
 *    some `stopped` followed later by `started`, a third of the peers seeds;
 *  - scrapes (BEP 48) of 1-5 of those swarms and the published torrent;
 *  - BEP 19 range reads of the published files: 16 KiB blocks at piece offsets (what a peer
 *    asks), random ranges up to 1 MiB, and ranges across an 8 MiB storage chunk.
 * Every answer is checked: announces and scrapes 200 and bencoded without `failure reason`
 * (every request is valid, so any failure is an error), range reads 206 with the Content-Range
 * asked for and the bytes of the file on disk. Before the timed load it warms up: every peer
 * announces `started` once and every file is read once, then it prints `warm` on stdout; at
 * the end one JSON line (MixedLoadResult). Progress goes to stderr every 10 s.
 *
 * usage: node --import tsx bench/mixed-load.ts CONFIG_JSON
 */
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'undici';
import { decodeAnnounceResponse, decodeScrapeResponse } from '../shared/tracker/http-response.js';
import { escapeBytes } from '../shared/tracker/http-query.js';
import { fromHex } from '../shared/bytes.js';
import { benchInfoHash, benchPeerId, percentile } from './bench-swarm.js';
import type { KindFigures, MixedLoadConfig, MixedLoadResult, RequestKind } from './edge-load.js';
import { CHUNK_SIZE } from '../worker/publish/content-keys.js';

const CHUNK = CHUNK_SIZE; // the edge's R2 chunk size (worker/NOTES.md)

const config = JSON.parse(process.argv[2] ?? '{}') as MixedLoadConfig;
const mix = config.mix ?? { announce: 0.7, scrape: 0.1, range: 0.2 };
const timeoutMs = config.timeoutMs ?? 10_000;
const agent = new Agent({ connections: config.concurrency, keepAliveTimeout: 60_000, pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
const files = await Promise.all(config.files.map(async (f) => ({ ...f, bytes: await readFile(f.localPath) })));
const publishedHash = fromHex(config.infoHash)!;
const peerCount = config.swarms * config.peersPerSwarm;
/** Peers that sent `stopped` last: their next announce is `started`. */
const stopped = new Set<number>();
/** Peers with an announce in flight. */
const busy = new Set<number>();

const latencies: Record<RequestKind, number[]> = { announce: [], scrape: [], range: [] };
const figures = Object.fromEntries(
  (['announce', 'scrape', 'range'] as const).map((k) => [k, { count: 0, errors: 0, timeouts: 0, p50ms: 0, p99ms: 0, maxms: 0, bytes: 0, samples: [] as string[] }]),
) as Record<RequestKind, KindFigures>;

function fail(kind: RequestKind, what: string): void {
  figures[kind].errors++;
  if (figures[kind].samples.length < 5) figures[kind].samples.push(what);
}

const rand = (n: number) => Math.floor(Math.random() * n);

function announcePath(peer: number, event?: 'started' | 'stopped'): string {
  const swarm = peer % config.swarms;
  const left = peer % 3 === 0 ? 0 : 1000;
  return (
    `/announce?info_hash=${escapeBytes(benchInfoHash(swarm))}&peer_id=${escapeBytes(benchPeerId(peer))}` +
    `&port=${1024 + (peer % 60000)}&uploaded=${rand(1 << 20)}&downloaded=0&left=${left}&numwant=50&compact=1&key=${peer.toString(16)}` +
    (event ? `&event=${event}` : '')
  );
}

async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const res = await request(config.base + path, { dispatcher: agent, headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

async function announce(peer: number, event?: 'started' | 'stopped'): Promise<void> {
  const r = await get(announcePath(peer, event));
  if (r.status !== 200) return fail('announce', `status ${r.status}`);
  const decoded = decodeAnnounceResponse(r.body);
  if ('failure' in decoded) return fail('announce', `failure reason: ${decoded.failure}`);
  if (!(decoded.interval > 0)) fail('announce', 'no interval');
}

async function scrape(): Promise<void> {
  const asked = new Set<number>();
  const n = 1 + rand(5);
  while (asked.size < n) asked.add(rand(config.swarms));
  const hashes = [...asked].map((s) => benchInfoHash(s));
  hashes.push(publishedHash);
  const r = await get(`/scrape?${hashes.map((h) => `info_hash=${escapeBytes(h)}`).join('&')}`);
  if (r.status !== 200) return fail('scrape', `status ${r.status}`);
  const decoded = decodeScrapeResponse(r.body);
  if (decoded instanceof Map) {
    // Every bench swarm has peers after the warm-up, and the published torrent is seeded.
    const missing = hashes.filter((h) => !decoded.has(Buffer.from(h).toString('hex')));
    if (missing.length) fail('scrape', `${missing.length} of ${hashes.length} info-hashes missing`);
  } else fail('scrape', `failure reason: ${decoded.failure}`);
}

/** A random range of a random file: a 16 KiB block, up to 1 MiB anywhere, or across a chunk. */
function pickRange(): { file: (typeof files)[number]; from: number; to: number } {
  const file = files[rand(files.length)]!;
  const size = file.bytes.length;
  const shape = Math.random();
  let from: number;
  let length: number;
  if (shape < 0.6) {
    from = Math.min(size - 1, rand(Math.ceil(size / config.pieceLength)) * config.pieceLength + rand(config.pieceLength / 16384) * 16384);
    length = 16384;
  } else if (shape < 0.9 || size <= CHUNK) {
    from = rand(size);
    length = 1 + rand(1 << 20);
  } else {
    const boundary = CHUNK * (1 + rand(Math.floor((size - 1) / CHUNK)));
    from = Math.max(0, boundary - 1 - rand(256 * 1024));
    length = 2 + rand(512 * 1024);
  }
  return { file, from, to: Math.min(size, from + length) - 1 };
}

async function rangeRead(file = pickRange()): Promise<void> {
  const { from, to } = file;
  const r = await get(file.file.urlPath, { range: `bytes=${from}-${to}` });
  if (r.status !== 206) return fail('range', `status ${r.status} for bytes=${from}-${to}`);
  const expected = `bytes ${from}-${to}/${file.file.bytes.length}`;
  if (r.headers['content-range'] !== expected) return fail('range', `Content-Range ${String(r.headers['content-range'])}, asked ${expected}`);
  if (!r.body.equals(file.file.bytes.subarray(from, to + 1))) return fail('range', `wrong bytes for ${expected}`);
  figures.range.bytes += r.body.length;
}

async function timed(kind: RequestKind, job: () => Promise<void>): Promise<void> {
  const started = performance.now();
  try {
    await job();
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') figures[kind].timeouts++;
    else fail(kind, `${e.code ?? e.name}: ${e.message}`);
  }
  figures[kind].count++;
  latencies[kind].push(performance.now() - started);
}

function nextJob(): [RequestKind, () => Promise<void>] {
  const x = Math.random();
  if (x < mix.announce) {
    // One request per peer at a time, as a real client does (else a `stopped` could overtake
    // the `started` before it and the swarm's final counts would be a matter of luck).
    let peer = rand(peerCount);
    while (busy.has(peer)) peer = rand(peerCount);
    let event: 'started' | 'stopped' | undefined;
    if (stopped.delete(peer)) event = 'started';
    else if (Math.random() < 0.03) {
      event = 'stopped';
      stopped.add(peer);
    }
    busy.add(peer);
    return ['announce', () => announce(peer, event).finally(() => busy.delete(peer))];
  }
  if (x < mix.announce + mix.scrape) return ['scrape', scrape];
  return ['range', () => rangeRead()];
}

// Warm-up: every peer joins once, every file is read once (the chunk cache fills).
const warmStart = performance.now();
const warmupErrors: string[] = [];
let warmupErrorCount = 0;
{
  let next = 0;
  const jobs: (() => Promise<void>)[] = [];
  for (let p = 0; p < peerCount; p++) jobs.push(() => timed('announce', () => announce(p, 'started')));
  for (const file of files) {
    for (let from = 0; from < file.bytes.length; from += 1 << 20) {
      jobs.push(() => timed('range', () => rangeRead({ file, from, to: Math.min(file.bytes.length, from + (1 << 20)) - 1 })));
    }
  }
  await Promise.all(
    Array.from({ length: config.concurrency }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
  // The warm-up's figures are not the load's; its errors are reported apart.
  for (const k of ['announce', 'scrape', 'range'] as const) {
    warmupErrors.push(...figures[k].samples);
    warmupErrorCount += figures[k].errors + figures[k].timeouts;
    latencies[k] = [];
    figures[k] = { count: 0, errors: 0, timeouts: 0, p50ms: 0, p99ms: 0, maxms: 0, bytes: 0, samples: [] };
  }
}
const warmupMs = Math.round(performance.now() - warmStart);
process.stdout.write('warm\n');

const start = performance.now();
const end = start + config.seconds * 1000;
const perTenSeconds: number[] = [];
const total = () => figures.announce.count + figures.scrape.count + figures.range.count;
let lastTotal = 0;
const progress = setInterval(() => {
  const now = total();
  perTenSeconds.push(now - lastTotal);
  lastTotal = now;
  const errs = figures.announce.errors + figures.scrape.errors + figures.range.errors;
  console.error(`mixed-load: ${Math.round((performance.now() - start) / 1000)} s, ${now} requests, ${errs} errors`);
}, 10_000);
await Promise.all(
  Array.from({ length: config.concurrency }, async () => {
    while (performance.now() < end) {
      const [kind, job] = nextJob();
      await timed(kind, job);
    }
  }),
);
clearInterval(progress);
for (const k of ['announce', 'scrape', 'range'] as const) {
  const sorted = latencies[k].sort((a, b) => a - b);
  figures[k].p50ms = percentile(sorted, 0.5);
  figures[k].p99ms = percentile(sorted, 0.99);
  figures[k].maxms = Math.round((sorted.at(-1) ?? 0) * 100) / 100;
}
// What every swarm must hold now: each peer that did not leave last, seeds apart (a third).
const swarmCounts = Array.from({ length: config.swarms }, () => ({ complete: 0, incomplete: 0 }));
for (let p = 0; p < peerCount; p++) {
  if (stopped.has(p)) continue;
  const counts = swarmCounts[p % config.swarms]!;
  if (p % 3 === 0) counts.complete++;
  else counts.incomplete++;
}
const result: MixedLoadResult = { seconds: Math.round((performance.now() - start) / 100) / 10, kinds: figures, perTenSeconds, warmupMs, warmupErrors: warmupErrorCount, warmupErrorSamples: warmupErrors.slice(0, 5), swarmCounts };
process.stdout.write(JSON.stringify(result) + '\n');
await agent.close();
process.exit(0);
