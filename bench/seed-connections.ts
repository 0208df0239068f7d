/**
 * One of our seeds under 200 simultaneous connections (issue 11, load): the seed runs alone in a
 * child process (so its RSS is its own); this process opens the connections from a scripted
 * raw-socket client (test/helpers/raw-flood.ts: 160 greedy downloaders that never finish, 20
 * idle, 20 half-open that never handshake) right after three of our real leechers joined, and
 * keeps them for SECONDS. Prints what happened to the connections, how the seed's upload was
 * spread over the greedy peers it kept, the real leechers' completion times, and the seed's
 * memory (VmRSS every 250 ms, VmHWM at the end).
 *
 * usage: node --import tsx bench/seed-connections.ts [SECONDS=60] [UPLOAD_LIMIT_BYTES=4194304, 0 = none]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '../peer-node/client.js';
import type { Torrent } from '../peer-node/engine/torrent.js';
import { parseTorrent } from '../shared/metainfo/index.js';
import { makeContent, sameFiles } from '../test/helpers/content.js';
import { rawFlood, serviceSpread } from '../test/helpers/raw-flood.js';

// The seed child: seeds TORRENT from DIR, prints its port, then its session count twice a second.
if (process.argv[2] === '--seed') {
  const [torrentPath, dir, limit] = process.argv.slice(3) as [string, string, string];
  const seed = new Client({ port: 0, host: '127.0.0.1', dht: false, ...(Number(limit) > 0 ? { uploadRateLimit: Number(limit) } : {}) });
  await seed.listen();
  const torrent = await seed.add(await parseTorrent(await readFile(torrentPath)), { dir, trackers: false, webSeeds: false });
  await new Promise<void>((resolve) => (torrent.statsSnapshot().complete ? resolve() : torrent.once('ready', () => resolve())));
  console.log(JSON.stringify({ port: seed.port }));
  setInterval(() => {
    const s = torrent.statsSnapshot();
    console.log(JSON.stringify({ peers: s.peers, uploaded: s.uploaded, heapMiB: Math.round(process.memoryUsage().heapUsed / 1048576) }));
  }, 500);
  process.on('SIGTERM', () => void seed.close().then(() => process.exit(0)));
} else {
  await main();
}

async function main(): Promise<void> {
  const SECONDS = Number(process.argv[2] ?? 60);
  const LIMIT = Number(process.argv[3] ?? 4 * 1024 * 1024);
  const root = await mkdtemp(path.join(tmpdir(), 'bench-seed-conn-'));
  const clients: Client[] = [];
  const child = { proc: undefined as ReturnType<typeof spawn> | undefined };
  try {
    const content = await makeContent(path.join(root, 'seed'), [12 * 1024 * 1024, 4 * 1024 * 1024 + 777], { pieceLength: 256 * 1024 });
    const whole = Buffer.concat(content.files.map((f) => f.bytes));
    const proc = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--seed', content.torrentPath, content.dir, String(LIMIT)], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.proc = proc;
    const lines = createInterface({ input: proc.stdout! });
    const status = { peers: 0, maxPeers: 0, uploaded: 0, heapMiB: 0 };
    const port = await new Promise<number>((resolve) => {
      lines.on('line', (line) => {
        const m = JSON.parse(line) as { port?: number; peers?: number; uploaded?: number; heapMiB?: number };
        if (m.port) resolve(m.port);
        else {
          Object.assign(status, m);
          status.maxPeers = Math.max(status.maxPeers, m.peers ?? 0);
        }
      });
    });
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
    const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
    const rssBefore = rss();

    const leechers: { torrent: Torrent; doneAt?: number }[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) {
      const c = new Client({ port: 0, host: '127.0.0.1', dht: false });
      clients.push(c);
      await c.listen();
      const torrent = await c.add(content.built.torrent, { dir: path.join(root, `leech-${i}`), trackers: false, webSeeds: false });
      const entry: { torrent: Torrent; doneAt?: number } = { torrent };
      torrent.once('done', () => (entry.doneAt = performance.now() - t0));
      leechers.push(entry);
    }
    // The leechers know the seed and each other, as a tracker would have told them.
    for (const l of leechers) l.torrent.addPeers([{ host: '127.0.0.1', port }, ...clients.map((c) => ({ host: '127.0.0.1', port: c.port }))]);
    // The flood hits a seed that is already serving them (each has received bytes).
    while (!leechers.every((l) => l.torrent.statsSnapshot().bytesFromPeers > 0)) await new Promise((r) => setTimeout(r, 20));
    const floodAt = performance.now() - t0;
    const flood = await rawFlood({ port, infoHash: content.built.torrent.infoHash, pieceLength: content.built.torrent.info.pieceLength, length: whole.length, greedy: 160, idle: 20, silent: 20, expected: whole });
    let maxRss = 0;
    let maxRawOpen = 0;
    const sampler = setInterval(() => {
      maxRss = Math.max(maxRss, rss());
      maxRawOpen = Math.max(maxRawOpen, flood.openHandshaken());
    }, 250);
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    clearInterval(sampler);
    const uploadedDuring = status.uploaded;
    const spread = serviceSpread(flood.peers);
    const peers = flood.peers;
    const greedy = peers.filter((p) => p.kind === 'greedy');
    const served = greedy.filter((p) => p.handshaken && !p.closed && p.bytes > 0).map((p) => p.bytes).sort((a, b) => a - b);
    const admittedBytes = greedy.filter((p) => p.handshaken && !p.closed).map((p) => p.bytes);
    // Jain's fairness index over the admitted greedy peers: 1 = equal bytes, 1/n = one got all.
    const jain = admittedBytes.reduce((a, b) => a + b, 0) ** 2 / (admittedBytes.length * admittedBytes.reduce((a, b) => a + b * b, 0) || 1);
    const q = (p: number) => (served.length ? (served[Math.min(served.length - 1, Math.floor(p * served.length))]! / 1048576).toFixed(1) : '-');
    const complete = await Promise.all(leechers.map((_, i) => sameFiles(content, path.join(root, `leech-${i}`))));
    flood.close();
    const endRss = rss();
    const peakRss = hwm();

    const limit = LIMIT > 0 ? `${(LIMIT / 1048576).toFixed(0)} MiB/s upload cap` : 'no upload cap';
    console.log(`\n200 simultaneous connections to one seed for ${SECONDS} s (${limit}; a ${(whole.length / 1048576).toFixed(0)} MiB torrent, 256 KiB pieces; per-torrent limit 50, half-open limit 50, handshake timeout 10 s); 2 cores shared\n`);
    console.log('| connections | count |');
    console.log('|---|---:|');
    console.log(`| opened (TCP accepted) | ${peers.filter((p) => p.connected).length} |`);
    console.log(`| closed before any handshake (half-open limit, or the 10 s handshake timeout; 20 never sent one) | ${peers.filter((p) => !p.handshaken && p.closed).length} |`);
    console.log(`| refused after the handshake (too many peers) | ${peers.filter((p) => p.handshaken && p.closed).length} |`);
    console.log(`| kept to the end: greedy / idle | ${greedy.filter((p) => p.handshaken && !p.closed).length} / ${peers.filter((p) => p.kind === 'idle' && p.handshaken && !p.closed).length} |`);
    console.log(`| most sessions at once, seed side / raw side | ${status.maxPeers} (with the 3 leechers) / ${maxRawOpen} |`);
    console.log('\n| service to the greedy peers kept | value |');
    console.log('|---|---:|');
    console.log(`| got bytes / kept | ${spread.served} / ${spread.admitted} |`);
    console.log(`| bytes to them, MiB (rate MiB/s) | ${(spread.totalBytes / 1048576).toFixed(0)} (${(spread.totalBytes / 1048576 / SECONDS).toFixed(1)}) |`);
    console.log(`| per served peer, MiB: min / p50 / p90 / max | ${q(0)} / ${q(0.5)} / ${q(0.9)} / ${q(1)} |`);
    console.log(`| largest share / top 4 shares | ${(spread.maxShare * 100).toFixed(1)}% / ${spread.shares.slice(0, 4).map((s) => (s * 100).toFixed(1) + '%').join(', ')} |`);
    console.log(`| Jain's index over the kept (1 = equal, ${(1 / Math.max(1, spread.admitted)).toFixed(2)} = one takes all) | ${jain.toFixed(2)} |`);
    console.log(`| wrong blocks | ${peers.reduce((n, p) => n + p.badBlocks, 0)} |`);
    console.log(`\nreal leechers: complete and byte-identical ${complete.filter((c) => c.every(Boolean)).length}/3, done ${leechers.map((l) => (l.doneAt === undefined ? 'never' : `${((l.doneAt - floodAt) / 1000).toFixed(1)} s`)).join(', ')} after the flood began (${(floodAt / 1000).toFixed(2)} s after they joined)`);
    console.log(`seed upload during the run: ${(uploadedDuring / 1048576).toFixed(0)} MiB`);
    console.log(`seed memory: RSS ${rssBefore.toFixed(0)} MiB before, max ${maxRss.toFixed(0)} MiB sampled, ${endRss.toFixed(0)} MiB at the end, VmHWM ${peakRss.toFixed(0)} MiB; heap ${status.heapMiB} MiB`);
    console.log(`greedy peers ever unchoked: ${greedy.filter((p) => p.unchokes > 0).length}; unchokes per 10 s: ${Array.from({ length: Math.ceil(SECONDS / 10) }, (_, i) => greedy.reduce((n, p) => n + p.unchokedAt.filter((t) => t >= i * 10_000 && t < (i + 1) * 10_000).length, 0)).join(' ')}`);
  } finally {
    child.proc?.kill('SIGTERM');
    await Promise.all(clients.map((c) => c.close()));
    await rm(root, { recursive: true, force: true });
  }
  process.exit(0);
}
