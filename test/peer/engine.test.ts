/**
 * The engine end to end over real TCP on 127.0.0.1: our seed to our leecher (multi-file,
 * byte-identical), resume from what is on disk, selective download, and a swarm of our peers
 * that find each other through the edge tracker on Miniflare.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { cp, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '../../peer-node/client.js';
import type { Torrent } from '../../peer-node/engine/torrent.js';
import { makeContent, sameFiles } from '../helpers/content.js';
import { withEdge } from '../helpers/edge.js';

async function tempDir(prefix: string) {
  return mkdtemp(path.join(tmpdir(), prefix));
}

async function done(t: Torrent): Promise<void> {
  if (!t.complete) await once(t, 'done');
}

test('our seed and our leecher trade a multi-file torrent over TCP; the files are byte-identical', { timeout: 60_000 }, async () => {
  const root = await tempDir('engine-');
  const seed = new Client({ port: 0, host: '127.0.0.1' });
  const leech = new Client({ port: 0, host: '127.0.0.1' });
  try {
    const content = await makeContent(path.join(root, 'seed'), [300_000, 1, 0, 777_777, 65_536], { pieceLength: 64 * 1024 });
    const total = content.built.torrent.info.length;
    await seed.listen();
    await leech.listen();
    const seeding = await seed.add(content.built.torrent, { dir: content.dir });
    assert.equal(seeding.complete, true, 'the seed verified its content');
    const t = await leech.add(content.built.torrent, { dir: path.join(root, 'leech') });
    assert.equal(t.have.count, 0);
    t.addPeers([{ host: '127.0.0.1', port: seed.port }]);
    await done(t);
    assert.deepEqual(await sameFiles(content, path.join(root, 'leech')), [true, true, true, true, true]);
    const s = t.statsSnapshot();
    assert.equal(s.done, total);
    assert.equal(s.bytesFromPeers, total, 'one seed, no endgame duplicates: every byte once');
    assert.equal(s.hashFailures, 0);
    assert.equal(seeding.statsSnapshot().uploaded, total);
  } finally {
    await leech.close();
    await seed.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('a restart resumes from disk: pieces already verified are not fetched again', { timeout: 60_000 }, async () => {
  const root = await tempDir('engine-resume-');
  const seed = new Client({ port: 0, host: '127.0.0.1' });
  const leech = new Client({ port: 0, host: '127.0.0.1' });
  try {
    const content = await makeContent(path.join(root, 'seed'), [500_000, 400_000], { pieceLength: 32 * 1024 });
    const info = content.built.torrent.info;
    // The first file is already there (a download stopped half way): its whole pieces verify.
    await cp(path.join(content.dir, 'content', 'f0.bin'), path.join(root, 'leech', 'content', 'f0.bin'));
    await seed.listen();
    await leech.listen();
    await seed.add(content.built.torrent, { dir: content.dir });
    const t = await leech.add(content.built.torrent, { dir: path.join(root, 'leech') });
    const resumed = Math.floor(500_000 / info.pieceLength);
    assert.equal(t.have.count, resumed, 'every piece wholly inside the first file verified from disk');
    t.addPeers([{ host: '127.0.0.1', port: seed.port }]);
    await done(t);
    assert.deepEqual(await sameFiles(content, path.join(root, 'leech')), [true, true]);
    const missing = info.length - resumed * info.pieceLength;
    assert.equal(t.statsSnapshot().bytesFromPeers, missing, 'only the pieces not on disk came over the wire');
  } finally {
    await leech.close();
    await seed.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('selective download fetches the pieces of the chosen file only, and completes', { timeout: 60_000 }, async () => {
  const root = await tempDir('engine-select-');
  const seed = new Client({ port: 0, host: '127.0.0.1' });
  const leech = new Client({ port: 0, host: '127.0.0.1' });
  try {
    const content = await makeContent(path.join(root, 'seed'), [400_000, 100_000, 400_000], { pieceLength: 32 * 1024 });
    const info = content.built.torrent.info;
    await seed.listen();
    await leech.listen();
    await seed.add(content.built.torrent, { dir: content.dir });
    const t = await leech.add(content.built.torrent, { dir: path.join(root, 'leech'), files: [1] });
    t.addPeers([{ host: '127.0.0.1', port: seed.port }]);
    await done(t);
    const [, middle] = await sameFiles(content, path.join(root, 'leech'));
    assert.equal(middle, true, 'the chosen file is complete');
    const f = info.files[1]!;
    const first = Math.floor(f.offset / info.pieceLength);
    const last = Math.floor((f.offset + f.length - 1) / info.pieceLength);
    let expected = 0;
    for (let i = first; i <= last; i++) expected += t.geometry.pieceSize(i);
    assert.equal(t.statsSnapshot().bytesFromPeers, expected, 'only the pieces that overlap the chosen file');
    assert.ok(t.have.count < info.pieceCount);
    // The other files were at most touched where they share a piece with the chosen one.
    const size0 = (await stat(path.join(root, 'leech', 'content', 'f0.bin'))).size;
    assert.ok(size0 <= 400_000);
  } finally {
    await leech.close();
    await seed.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('a seed and three leechers find each other through the edge tracker and all complete', { timeout: 120_000 }, async () => {
  await withEdge({}, async (edge) => {
    const root = await tempDir('engine-swarm-');
    const clients: Client[] = [];
    try {
      const announce = new URL('/announce', edge.url).href;
      const content = await makeContent(path.join(root, 'seed'), [1_500_000, 600_000], { pieceLength: 32 * 1024, announceList: [[announce]] });
      const seedClient = new Client({ port: 0, host: '127.0.0.1' });
      clients.push(seedClient);
      await seedClient.listen();
      const seeding = await seedClient.add(content.built.torrent, { dir: content.dir });
      // The leechers start after the seed has announced, so the tracker knows it.
      await new Promise((r) => setTimeout(r, 500));
      const leechers: Torrent[] = [];
      const seenPeers: Set<string>[] = [];
      for (let i = 0; i < 3; i++) {
        const c = new Client({ port: 0, host: '127.0.0.1' });
        clients.push(c);
        await c.listen();
        const seen = new Set<string>();
        seenPeers.push(seen);
        c.on('torrent', (t: Torrent) => t.on('peer', (s) => seen.add(Buffer.from(s.connection.remote!.peerId).toString('hex'))));
        leechers.push(await c.add(content.built.torrent, { dir: path.join(root, `leech${i}`) }));
      }
      await Promise.all(leechers.map(done));
      for (let i = 0; i < 3; i++) assert.deepEqual(await sameFiles(content, path.join(root, `leech${i}`)), [true, true], `leecher ${i}`);
      // Every peer came from the tracker: each leecher met the seed.
      const seedId = Buffer.from(seedClient.peerId).toString('hex');
      for (const seen of seenPeers) assert.ok(seen.has(seedId));
      const total = content.built.torrent.info.length;
      // Conservation: every byte a leecher received was uploaded by someone in this swarm.
      const received = leechers.reduce((sum, t) => sum + t.statsSnapshot().bytesFromPeers, 0);
      const uploaded = [seeding, ...leechers].reduce((sum, t) => sum + t.statsSnapshot().uploaded, 0);
      assert.ok(received >= 3 * total, `received ${received}`);
      assert.ok(uploaded >= received, `uploaded ${uploaded} < received ${received}`);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await rm(root, { recursive: true, force: true });
    }
  });
});
