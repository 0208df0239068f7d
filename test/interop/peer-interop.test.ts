/**
 * Our peer with real clients over TCP on 127.0.0.1, both directions: it downloads a multi-file
 * torrent from a libtorrent seed and from a Transmission seed; libtorrent and qBittorrent-nox
 * download from our seed; and a mixed swarm (a libtorrent seed and leech, two of our peers, the
 * edge tracker on Miniflare) completes with every file byte-identical everywhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '../../peer-node/client.js';
import type { Torrent } from '../../peer-node/engine/torrent.js';
import { parseMagnet } from '../../shared/metainfo/index.js';
import { parsePeerIdPrefix } from '../../shared/peer-id.js';
import { makeContent, sameFiles, type TestContent } from '../helpers/content.js';
import { withEdge } from '../helpers/edge.js';
import { runLtLeech, startLtSeed } from '../helpers/libtorrent.js';
import { startQbittorrent } from '../helpers/qbittorrent.js';
import { missingTools, SYSTEM_PYTHON } from '../helpers/real-tools.js';
import { startTransmissionSeed } from '../helpers/transmission.js';

/** Uneven sizes (pieces straddle files), an empty file, and a nested folder. */
const SIZES = [700_001, 0, 1_234_567, 517, 300_000];
const ALL_SAME = SIZES.map(() => true);

async function withDir<T>(prefix: string, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Our leecher fetching `content` from the one peer at `port`; resolves with its stats when done. */
async function ourDownload(content: TestContent, saveDir: string, port: number) {
  const client = new Client({ port: 0, host: '127.0.0.1' });
  try {
    await client.listen();
    const t = await client.add(content.built.torrent, { dir: saveDir });
    const clients = new Set<string>();
    t.on('peer', (s) => clients.add(parsePeerIdPrefix(s.connection.remote!.peerId)?.client ?? '?'));
    t.addPeers([{ host: '127.0.0.1', port }]);
    if (!t.complete) await once(t, 'done');
    return { stats: t.statsSnapshot(), clients };
  } finally {
    await client.close();
  }
}

async function ourSeed(content: TestContent): Promise<{ client: Client; torrent: Torrent }> {
  const client = new Client({ port: 0, host: '127.0.0.1' });
  await client.listen();
  const torrent = await client.add(content.built.torrent, { dir: content.dir });
  assert.equal(torrent.complete, true);
  return { client, torrent };
}

const ltSkip = missingTools([], true);

test('our peer downloads a multi-file torrent from a libtorrent seed', { skip: ltSkip, timeout: 90_000 }, () =>
  withDir('peer-from-lt-', async (dir) => {
    const content = await makeContent(path.join(dir, 'seed'), SIZES);
    const seed = await startLtSeed(content.torrentPath, content.dir);
    try {
      const { stats, clients } = await ourDownload(content, path.join(dir, 'ours'), seed.port);
      assert.deepEqual(await sameFiles(content, path.join(dir, 'ours')), ALL_SAME);
      assert.equal(stats.bytesFromPeers, content.built.torrent.info.length);
      assert.deepEqual([...clients], ['LT'], 'the peer was libtorrent (-LT....-)');
    } finally {
      seed.stop();
    }
  }),
);

test('our peer downloads from a libtorrent seed with only a magnet: the torrent from libtorrent (BEP 9), then the files', { skip: ltSkip, timeout: 90_000 }, () =>
  withDir('magnet-from-lt-', async (dir) => {
    const content = await makeContent(path.join(dir, 'seed'), SIZES);
    const seed = await startLtSeed(content.torrentPath, content.dir);
    const client = new Client({ port: 0, host: '127.0.0.1' });
    try {
      await client.listen();
      const magnet = parseMagnet(`magnet:?xt=urn:btih:${content.built.torrent.infoHashHex}&x.pe=127.0.0.1:${seed.port}`);
      const { torrent, peers } = await client.fetchMetadata(magnet, 30_000);
      assert.deepEqual(Buffer.from(torrent.infoBytes), Buffer.from(content.built.torrent.infoBytes), 'the info dictionary, byte for byte');
      const t = await client.add(torrent, { dir: path.join(dir, 'ours') });
      t.addPeers(peers);
      if (!t.complete) await once(t, 'done');
      assert.deepEqual(await sameFiles(content, path.join(dir, 'ours')), ALL_SAME);
    } finally {
      await client.close();
      seed.stop();
    }
  }),
);

test('our peer downloads a multi-file torrent from a Transmission seed', { skip: missingTools(['transmission-daemon'], false), timeout: 90_000 }, () =>
  withDir('peer-from-tr-', async (dir) => {
    const content = await makeContent(path.join(dir, 'seed'), SIZES);
    const seed = await startTransmissionSeed(content.torrentPath, content.dir);
    try {
      // Transmission unchokes on a 10-second cycle: our peer stays interested until then.
      const { stats, clients } = await ourDownload(content, path.join(dir, 'ours'), seed.port);
      assert.deepEqual(await sameFiles(content, path.join(dir, 'ours')), ALL_SAME);
      assert.equal(stats.bytesFromPeers, content.built.torrent.info.length);
      assert.deepEqual([...clients], ['TR'], 'the peer was Transmission (-TR....-)');
      assert.ok((await seed.status()).uploadedEver >= content.built.torrent.info.length);
    } finally {
      await seed.stop();
    }
  }),
);

test('libtorrent downloads a multi-file torrent from our seed', { skip: ltSkip, timeout: 90_000 }, () =>
  withDir('lt-from-peer-', async (dir) => {
    const content = await makeContent(path.join(dir, 'seed'), SIZES);
    const { client, torrent } = await ourSeed(content);
    try {
      const result = await runLtLeech(content.torrentPath, path.join(dir, 'lt'), '127.0.0.1', client.port);
      assert.equal(result.complete, true, JSON.stringify(result));
      assert.deepEqual(await sameFiles(content, path.join(dir, 'lt')), ALL_SAME);
      assert.equal(torrent.statsSnapshot().uploaded, content.built.torrent.info.length);
    } finally {
      await client.close();
    }
  }),
);

test('libtorrent downloads from our seed with only a magnet: it gets the torrent from us (BEP 9)', { skip: ltSkip, timeout: 90_000 }, () =>
  withDir('lt-magnet-from-peer-', async (dir) => {
    const content = await makeContent(path.join(dir, 'seed'), SIZES);
    const { client } = await ourSeed(content);
    try {
      const magnet = `magnet:?xt=urn:btih:${content.built.torrent.infoHashHex}&dn=content`;
      const result = await runLtLeech(magnet, path.join(dir, 'lt'), '127.0.0.1', client.port);
      assert.equal(result.complete, true, JSON.stringify(result));
      assert.deepEqual(await sameFiles(content, path.join(dir, 'lt')), ALL_SAME);
    } finally {
      await client.close();
    }
  }),
);

test('our super-seed (BEP 16) feeds two libtorrent leechers to completion', { skip: ltSkip, timeout: 120_000 }, () =>
  withDir('superseed-lt-', async (dir) => {
    const content = await makeContent(path.join(dir, 'seed'), SIZES);
    const client = new Client({ port: 0, host: '127.0.0.1' });
    try {
      await client.listen();
      const seeding = await client.add(content.built.torrent, { dir: content.dir, superSeed: true });
      assert.equal(seeding.superSeeding, true);
      // Both dial us; they find each other through our peer exchange and trade what we showed them.
      const results = await Promise.all([0, 1].map((i) => runLtLeech(content.torrentPath, path.join(dir, `lt${i}`), '127.0.0.1', client.port, 100)));
      for (const [i, r] of results.entries()) {
        assert.equal(r.complete, true, JSON.stringify(r));
        assert.deepEqual(await sameFiles(content, path.join(dir, `lt${i}`)), ALL_SAME);
      }
    } finally {
      await client.close();
    }
  }),
);

test('qBittorrent-nox downloads a multi-file torrent from our seed', { skip: missingTools(['qbittorrent-nox'], false), timeout: 90_000 }, () =>
  withDir('qbt-from-peer-', async (dir) => {
    const content = await makeContent(path.join(dir, 'seed'), SIZES);
    const { client, torrent } = await ourSeed(content);
    // Plaintext from the first dial: our peer does not speak MSE encryption.
    const qbt = await startQbittorrent({ encryption: 'disable' });
    try {
      const saveDir = path.join(dir, 'qbt');
      const hash = await qbt.addTorrent(content.built.bytes, saveDir);
      await qbt.addPeer(hash, `127.0.0.1:${client.port}`);
      const info = await qbt.waitComplete(hash, 60_000);
      assert.equal(info.progress, 1);
      assert.deepEqual(await sameFiles(content, saveDir), ALL_SAME);
      assert.equal(torrent.statsSnapshot().uploaded, content.built.torrent.info.length);
    } finally {
      await qbt.stop();
      await client.close();
    }
  }),
);

test('our peer learns a third peer from libtorrent peer exchange (BEP 11) and connects to it', { skip: ltSkip, timeout: 120_000 }, () =>
  withDir('pex-from-lt-', async (dir) => {
    const content = await makeContent(path.join(dir, 'seed'), [300_000]);
    // A libtorrent peer with none of the data: our two peers dial it, and stay (nothing to trade).
    const hub = spawn(SYSTEM_PYTHON, [path.join(import.meta.dirname, 'tools', 'lt_hub.py'), content.torrentPath, path.join(dir, 'hub'), '100'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const clients = [new Client({ port: 0, host: '127.0.0.1' }), new Client({ port: 0, host: '127.0.0.1' })];
    try {
      let line = '';
      while (!line.includes('\n')) line += String((await once(hub.stdout!, 'data'))[0]);
      const { port } = JSON.parse(line) as { port: number };
      const [a, c] = await Promise.all(
        clients.map(async (client, i) => {
          await client.listen();
          return client.add(content.built.torrent, { dir: path.join(dir, `ours${i}`) });
        }),
      );
      a!.addPeers([{ host: '127.0.0.1', port }]);
      c!.addPeers([{ host: '127.0.0.1', port }]);
      const cId = Buffer.from(clients[1]!.peerId).toString('hex');
      const aId = Buffer.from(clients[0]!.peerId).toString('hex');
      const metEachOther = () =>
        [...a!.sessions.values()].some((s) => Buffer.from(s.connection.remote!.peerId).toString('hex') === cId) ||
        [...c!.sessions.values()].some((s) => Buffer.from(s.connection.remote!.peerId).toString('hex') === aId);
      const until = Date.now() + 100_000;
      while (!metEachOther() && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
      assert.ok(metEachOther(), 'our two peers found each other');
      const fromPex = a!.peerSource(`127.0.0.1:${clients[1]!.port}`) === 'pex' || c!.peerSource(`127.0.0.1:${clients[0]!.port}`) === 'pex';
      assert.ok(fromPex, 'and the address came from libtorrent\'s PEX');
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      hub.stdin!.end();
      hub.kill();
    }
  }),
);

test('a mixed swarm (libtorrent seed and leech, two of our peers, the edge tracker) completes byte-identical everywhere', { skip: ltSkip, timeout: 120_000 }, () =>
  withEdge({}, (edge) =>
    withDir('mixed-swarm-', async (dir) => {
      const announce = new URL('/announce', edge.url).href;
      const content = await makeContent(path.join(dir, 'seed'), [3_000_000, 1_500_001, 0, 99], { announceList: [[announce]] });
      const ltSeed = await startLtSeed(content.torrentPath, content.dir);
      const ours = [new Client({ port: 0, host: '127.0.0.1' }), new Client({ port: 0, host: '127.0.0.1' })];
      try {
        const torrents: Torrent[] = [];
        const met: Set<string>[] = [];
        for (const [i, c] of ours.entries()) {
          await c.listen();
          const seen = new Set<string>();
          met.push(seen);
          c.on('torrent', (t: Torrent) => t.on('peer', (s) => seen.add(parsePeerIdPrefix(s.connection.remote!.peerId)?.client ?? '?')));
          torrents.push(await c.add(content.built.torrent, { dir: path.join(dir, `ours${i}`) }));
        }
        // The first of ours is pointed at the libtorrent seed; everyone else meets through the
        // tracker, and the libtorrent leech dials our second peer, which may hold only part.
        torrents[0]!.addPeers([{ host: '127.0.0.1', port: ltSeed.port }]);
        const ltLeech = runLtLeech(content.torrentPath, path.join(dir, 'lt'), '127.0.0.1', ours[1]!.port, 90);
        await Promise.all(torrents.map((t) => (t.complete ? undefined : once(t, 'done'))));
        const result = await ltLeech;
        assert.equal(result.complete, true, JSON.stringify(result));
        const same = [1, 1, 1, 1].map(() => true);
        assert.deepEqual(await sameFiles(content, path.join(dir, 'ours0')), same);
        assert.deepEqual(await sameFiles(content, path.join(dir, 'ours1')), same);
        assert.deepEqual(await sameFiles(content, path.join(dir, 'lt')), same);
        // Our second peer was given no address: it found the swarm through the tracker.
        assert.ok(met[1]!.size > 0 && torrents[1]!.statsSnapshot().bytesFromPeers > 0);
        assert.ok([...met[0]!, ...met[1]!].includes('LT'), 'our peers traded with libtorrent');
      } finally {
        await Promise.all(ours.map((c) => c.close()));
        ltSeed.stop();
      }
    }),
  ),
);
