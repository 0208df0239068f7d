/**
 * Two figures of the peer's extensions, each against a reference measured in the same run:
 *
 * 1. Time to first byte of a magnet download: from "go" to the first verified piece, when the
 *    torrent must first come from the seed over ut_metadata (BEP 9, magnet with x.pe), against
 *    the same download started from the .torrent file. The difference is the metadata round
 *    trips. Our seed, our leech, 127.0.0.1.
 * 2. Super-seeding (BEP 16): the seed's upload until the leechers together hold a full copy, and
 *    until all are complete, as a share of the content, against normal seeding with the same
 *    leechers (who all know each other).
 *
 * usage: node --import tsx bench/peer-extensions.ts [RUNS=5] [LEECHERS=6]
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '../peer-node/client.js';
import type { Torrent } from '../peer-node/engine/torrent.js';

import { makeContent, type TestContent } from '../test/helpers/content.js';

const RUNS = Number(process.argv[2] ?? 5);
const LEECHERS = Number(process.argv[3] ?? 6);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** ms from start to the first verified piece; `magnet` fetches the torrent from the seed first. */
async function firstByte(content: TestContent, seedPort: number, dir: string, magnet: boolean): Promise<number> {
  const client = new Client({ port: 0, host: '127.0.0.1' });
  try {
    await client.listen();
    const started = performance.now();
    const seedAddress = { host: '127.0.0.1', port: seedPort };
    let torrent = content.built.torrent;
    if (magnet) {
      const link = { infoHash: torrent.infoHash, trackers: [], webSeeds: [], peers: [seedAddress] };
      torrent = (await client.fetchMetadata(link)).torrent;
    }
    const t = await client.add(torrent, { dir });
    t.addPeers([seedAddress]);
    await once(t, 'piece');
    return performance.now() - started;
  } finally {
    await client.close();
  }
}

async function seedShare(root: string, superSeed: boolean): Promise<{ fullCopy: number; all: number; seconds: number }> {
  const content = await makeContent(path.join(root, 'seed'), [8 * 1024 * 1024], { pieceLength: 64 * 1024 });
  const total = content.built.torrent.info.length;
  const clients = Array.from({ length: LEECHERS + 1 }, () => new Client({ port: 0, host: '127.0.0.1' }));
  try {
    for (const c of clients) await c.listen();
    const seeding = await clients[0]!.add(content.built.torrent, { dir: content.dir, superSeed });
    const ts: Torrent[] = [];
    for (let i = 1; i <= LEECHERS; i++) ts.push(await clients[i]!.add(content.built.torrent, { dir: path.join(root, `l${i}`) }));
    let fullCopy: number | undefined;
    const check = () => {
      if (fullCopy !== undefined) return;
      for (let p = 0; p < content.built.torrent.info.pieceCount; p++) if (!ts.some((t) => t.have.has(p))) return;
      fullCopy = seeding.statsSnapshot().uploaded;
    };
    for (const t of ts) t.on('piece', check);
    const started = performance.now();
    const addresses = clients.map((c) => ({ host: '127.0.0.1', port: c.port }));
    ts.forEach((t, i) => t.addPeers(addresses.filter((_, j) => j !== i + 1)));
    await Promise.all(ts.map((t) => (t.complete ? undefined : once(t, 'done'))));
    return { fullCopy: fullCopy! / total, all: seeding.statsSnapshot().uploaded / total, seconds: (performance.now() - started) / 1000 };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

const root = await mkdtemp(path.join(tmpdir(), 'bench-ext-'));
try {
  // 1. Magnet time to first byte. Many files make an info dictionary of several 16 KiB pieces.
  const content = await makeContent(path.join(root, 'seed'), Array.from({ length: 2000 }, (_, i) => 4096 + i), { pieceLength: 256 * 1024 });
  const seed = new Client({ port: 0, host: '127.0.0.1' });
  await seed.listen();
  await seed.add(content.built.torrent, { dir: content.dir });
  const fromTorrent: number[] = [];
  const fromMagnet: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    fromTorrent.push(await firstByte(content, seed.port, path.join(root, `t${run}`), false));
    fromMagnet.push(await firstByte(content, seed.port, path.join(root, `m${run}`), true));
  }
  await seed.close();
  const metadataPieces = Math.ceil(content.built.torrent.infoBytes.length / 16384);
  console.log(`\nTime to first verified piece, ${content.built.torrent.info.files.length} files, info dictionary ${content.built.torrent.infoBytes.length} bytes (${metadataPieces} metadata pieces), median of ${RUNS}:`);
  console.log(`| start from | ms to first piece | vs .torrent |`);
  console.log(`|---|---:|---:|`);
  console.log(`| .torrent file (reference) | ${median(fromTorrent).toFixed(1)} | 1.00x |`);
  console.log(`| magnet, x.pe only (BEP 9) | ${median(fromMagnet).toFixed(1)} | ${(median(fromMagnet) / median(fromTorrent)).toFixed(2)}x |`);

  // 2. Super-seeding against normal seeding, alternating so drift hits both.
  const superRuns: Awaited<ReturnType<typeof seedShare>>[] = [];
  const normalRuns: Awaited<ReturnType<typeof seedShare>>[] = [];
  for (let run = 0; run < Math.max(1, Math.floor(RUNS / 2)); run++) {
    superRuns.push(await seedShare(path.join(root, `s${run}`), true));
    normalRuns.push(await seedShare(path.join(root, `n${run}`), false));
  }
  const row = (name: string, rs: typeof superRuns) =>
    `| ${name} | ${(median(rs.map((r) => r.fullCopy)) * 100).toFixed(0)}% | ${(median(rs.map((r) => r.all)) * 100).toFixed(0)}% | ${median(rs.map((r) => r.seconds)).toFixed(2)} |`;
  console.log(`\nSeed upload as a share of the 8 MiB content, ${LEECHERS} leechers who all know each other, median of ${superRuns.length}:`);
  console.log(`| seeding | until the swarm holds a full copy | until all complete | seconds to all complete |`);
  console.log(`|---|---:|---:|---:|`);
  console.log(row('normal (reference)', normalRuns));
  console.log(row('super-seeding (BEP 16)', superRuns));
} finally {
  await rm(root, { recursive: true, force: true });
}
