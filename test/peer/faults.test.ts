/**
 * Faults under load (issue 11, point 3), on 127.0.0.1: a download killed with SIGKILL resumes
 * from disk and fetches only what was not verified; the local edge killed and restarted in the
 * middle of a swarm keeps its swarm and published content, and the peers carry on; a tracker
 * that goes away sends peers to the next tier, and a leecher whose trackers all stop answering
 * finds a seed through the DHT.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, type ClientOptions } from '../../peer-node/client.js';
import type { Torrent } from '../../peer-node/engine/torrent.js';
import type { PeerSession } from '../../peer-node/engine/peer-session.js';
import { DhtNode } from '../../peer-node/dht/dht-node.js';
import { publishPath } from '../../peer-node/publish/publish-client.js';
import { parseTorrent } from '../../shared/metainfo/index.js';
import { fromHex, toHex } from '../../shared/bytes.js';
import type { WireMessage } from '../../shared/wire/messages.js';
import { makeContent, sameFiles } from '../helpers/content.js';
import { startLocalEdge, type LocalEdge } from '../../scripts/local-edge.js';
import { TEST_SECRETS, startTestEdge, tempStateDir } from '../helpers/edge.js';
import { PEER_NODE_BIN, runProcess } from '../helpers/local-process.js';
import { until } from '../helpers/raw-peer.js';
import { scrape } from '../helpers/tracker-client.js';

async function done(t: Torrent, timeoutMs = 90_000): Promise<void> {
  if (t.complete) return;
  await Promise.race([once(t, 'done'), new Promise((_, reject) => setTimeout(() => reject(new Error(`${t.name} not done in ${timeoutMs} ms`)), timeoutMs).unref())]);
}

/** Calls `onRequest` for every block request a peer sends to `seeding`. */
function watchRequests(seeding: Torrent, onRequest: (session: PeerSession, index: number, length: number) => void): void {
  seeding.on('peer', (s: PeerSession) => {
    s.connection.on('message', (m: WireMessage) => {
      if (m.type === 'request') onRequest(s, m.index, m.length);
    });
  });
}

test('SIGKILL mid-download: the restarted CLI resumes from disk, fetches only pieces not verified before, and ends byte-identical', { timeout: 120_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'fault-kill-'));
  // The seed's upload cap makes the download take about 10 s, so that the kill lands mid-way.
  const seed = new Client({ port: 0, host: '127.0.0.1', dht: false, uploadRateLimit: 200_000 });
  try {
    const pieceLength = 16 * 1024;
    const content = await makeContent(path.join(root, 'seed'), [2_000_000], { pieceLength, single: true, name: 'movie.bin' });
    const info = content.built.torrent.info;
    const bytes = content.files[0]!.bytes;
    await seed.listen();
    const seeding = await seed.add(content.built.torrent, { dir: content.dir });
    let run = 1;
    const requested = [new Set<number>(), new Set<number>()];
    const requestedBytes = [0, 0];
    watchRequests(seeding, (_s, index, length) => {
      requested[run - 1]!.add(index);
      requestedBytes[run - 1]! += length;
    });
    const out = path.join(root, 'out');
    const args = [PEER_NODE_BIN, 'download', content.torrentPath, '--out', out, '--host', '127.0.0.1', '--port', '0', '--no-dht', '--no-web-seeds', '--peer', `127.0.0.1:${seed.port}`];

    // Run 1: killed with SIGKILL (no chance to flush or say goodbye) once about 40% was served.
    const first = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let firstErr = '';
    first.stderr.on('data', (d) => (firstErr += d));
    const exited = once(first, 'exit');
    await until('40% served to the first run', () => seeding.statsSnapshot().uploaded >= info.length * 0.4, 60_000);
    first.kill('SIGKILL');
    const [code, signal] = (await exited) as [number | null, string | null];
    assert.equal(signal, 'SIGKILL', `the first run was killed (exit ${code}): ${firstErr}`);
    await until('the seed saw the connection go', () => seeding.sessions.size === 0);

    // What the first run left verified on disk: the pieces whose bytes are the content's.
    let onDisk = Buffer.alloc(0);
    try {
      onDisk = await readFile(path.join(out, 'movie.bin'));
    } catch {
      // nothing written yet
    }
    const verified = new Set<number>();
    for (let i = 0; i < info.pieceCount; i++) {
      const from = i * pieceLength;
      const to = Math.min(from + pieceLength, info.length);
      if (onDisk.length >= to && onDisk.subarray(from, to).equals(bytes.subarray(from, to))) verified.add(i);
    }
    assert.ok(verified.size > 0 && verified.size < info.pieceCount, `some pieces but not all were verified before the kill (${verified.size} of ${info.pieceCount})`);

    // Run 2: resumes.
    run = 2;
    const uploadedBefore = seeding.statsSnapshot().uploaded;
    const second = await runProcess(process.execPath, args, 90_000);
    assert.equal(second.code, 0, second.stderr);
    const checked = /checked .*: (\d+) of (\d+) pieces already there/.exec(second.stderr);
    assert.ok(checked, second.stderr);
    assert.equal(Number(checked[1]), verified.size, 'the restart found exactly the verified pieces on disk');
    assert.deepEqual(await sameFiles(content, out), [true], 'byte-identical');
    const refetched = [...requested[1]!].filter((i) => verified.has(i));
    assert.deepEqual(refetched, [], 'no piece verified by the first run was asked for again');
    let missingBytes = 0;
    for (let i = 0; i < info.pieceCount; i++) if (!verified.has(i)) missingBytes += Math.min(pieceLength, info.length - i * pieceLength);
    assert.equal(requestedBytes[1], missingBytes, 'the second run asked for exactly the missing pieces, once');
    assert.equal(seeding.statsSnapshot().uploaded - uploadedBefore, missingBytes, 'and the seed served exactly those bytes');
  } finally {
    await seed.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('the local edge killed and restarted mid-swarm on the same port: swarm state and published content survive, the peers finish byte-identical', { timeout: 180_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'fault-edge-'));
  const state = await tempStateDir();
  let edge: LocalEdge = await startTestEdge(state.dir, { ANNOUNCE_INTERVAL: '30', MIN_ANNOUNCE_INTERVAL: '30' });
  const port = Number(edge.url.port);
  const peers = [0, 1, 2].map(() => new Client({ port: 0, host: '127.0.0.1', dht: false, downloadRateLimit: 150_000 }));
  try {
    const file = path.join(root, 'clip.bin');
    const bytes = randomBytes(1_500_000);
    await writeFile(file, bytes);
    const published = await publishPath({ path: file, edge: edge.url, token: TEST_SECRETS.PUBLISH_TOKEN, pieceLength: 32 * 1024 });
    const metainfo = await parseTorrent(published.torrent);
    const hash = fromHex(published.infoHash)!;
    const torrents: Torrent[] = [];
    for (const [i, c] of peers.entries()) {
      await c.listen();
      torrents.push(await c.add(metainfo, { dir: path.join(root, `peer${i}`) }));
    }
    const swarmCounts = async () => {
      const r = await scrape(edge.url, [hash]);
      if ('failure' in r) throw new Error(r.failure);
      return r.get(published.infoHash);
    };
    await until('three peers in the swarm', async () => (await swarmCounts())?.incomplete === 3, 30_000);
    await until('every peer has some pieces', () => torrents.every((t) => t.have.count > 0), 60_000);
    assert.ok(torrents.every((t) => !t.complete), 'nobody is done yet: the kill is mid-swarm');
    // `/stats/:hash` has its figures under `swarm` (worker/stats/swarm-stats.ts).
    const swarmStats = async () => ((await (await fetch(new URL(`/stats/${published.infoHash}`, edge.url))).json()) as { swarm: { seeds: number; leechers: number } }).swarm;
    const statsBefore = await swarmStats();
    assert.equal(statsBefore.leechers, 3, `the three peers are in /stats: ${JSON.stringify(statsBefore)}`);

    // Kill: Miniflare is disposed (its workerd process ends); peers lose tracker and web seed.
    await edge.close();
    await new Promise((r) => setTimeout(r, 2000));
    const haveWhileDown = torrents.map((t) => t.have.count);
    edge = await startLocalEdge({ port, persistDir: state.dir, bindings: { ...TEST_SECRETS, ANNOUNCE_INTERVAL: '30', MIN_ANNOUNCE_INTERVAL: '30' } });
    assert.equal(Number(edge.url.port), port, 'the same port, so the torrents\' URLs still lead to it');

    // Swarm state survived: the three peers are still members (read from the Durable Object).
    const after = await swarmCounts();
    assert.equal(after?.incomplete, 3, 'the swarm\'s peers survived the restart');
    const statsAfter = await swarmStats();
    assert.deepEqual([statsAfter.seeds, statsAfter.leechers], [statsBefore.seeds, statsBefore.leechers], '/stats figures survived');
    // Published content survived: the .torrent and the bytes from R2.
    const torrentFile = await fetch(new URL(`/t/${published.infoHash}.torrent`, edge.url));
    assert.equal(torrentFile.status, 200);
    assert.equal((await parseTorrent(new Uint8Array(await torrentFile.arrayBuffer()))).infoHashHex, published.infoHash);
    const range = await fetch(new URL(`/seed/${published.infoHash}/clip.bin`, edge.url), { headers: { range: 'bytes=1000000-1000999' } });
    assert.equal(range.status, 206);
    assert.deepEqual(Buffer.from(await range.arrayBuffer()), bytes.subarray(1_000_000, 1_001_000));

    // The peers carry on and finish, nothing verified lost (have counts only grew).
    await Promise.all(torrents.map((t) => done(t, 150_000)));
    for (const [i, t] of torrents.entries()) {
      assert.ok(t.have.count >= haveWhileDown[i]!);
      assert.ok((await readFile(path.join(root, `peer${i}`, 'clip.bin'))).equals(bytes), `peer ${i} byte-identical`);
      assert.equal(t.statsSnapshot().hashFailures, 0);
    }
    await until('the completions reached the restarted tracker', async () => (await swarmCounts())?.downloaded === 3, 60_000);
  } finally {
    await Promise.all(peers.map((c) => c.close()));
    await edge.close();
    await state.remove();
    await rm(root, { recursive: true, force: true });
  }
});

test('a tracker that goes away: peers fall back to the next tier; a leecher whose trackers all stop answering finds a seed through the DHT and finishes', { timeout: 180_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'fault-tiers-'));
  const states = [await tempStateDir(), await tempStateDir()];
  // A 30 s interval (the client's floor) so that the seed re-announces within the test.
  const vars = { ANNOUNCE_INTERVAL: '30', MIN_ANNOUNCE_INTERVAL: '30' };
  const first = await startTestEdge(states[0]!.dir, vars);
  const second = await startTestEdge(states[1]!.dir, vars);
  const clients: Client[] = [];
  const router = new DhtNode({ host: '127.0.0.1', queryTimeoutMs: 1000 });
  const client = (dht: boolean, more: Partial<ClientOptions> = {}) => {
    const c = new Client({ port: 0, host: '127.0.0.1', dht, ...(dht ? { dhtBootstrap: [{ host: '127.0.0.1', port: router.port }] } : {}), ...more });
    clients.push(c);
    return c;
  };
  let firstClosed = false;
  let secondClosed = false;
  try {
    await router.listen();
    const tier1 = new URL('/announce', first.url).href;
    const tier2 = new URL('/announce', second.url).href;
    const content = await makeContent(path.join(root, 'seed'), [400_000, 123_456], { announceList: [[tier1], [tier2]] });
    const hash = content.built.torrent.infoHash;
    const countsAt = async (edge: LocalEdge) => {
      const r = await scrape(edge.url, [hash]);
      if ('failure' in r) throw new Error(r.failure);
      return r.get(toHex(hash)) ?? { complete: 0, incomplete: 0, downloaded: 0, downloaders: 0 };
    };

    // The seed announces to tier 1, which answers: tier 2 never hears of it.
    const seed = client(false);
    await seed.listen();
    const seeding = await seed.add(content.built.torrent, { dir: content.dir });
    const warnings: string[] = [];
    seeding.on('warning', (w: string) => warnings.push(w));
    await until('the seed on tier 1', async () => (await countsAt(first)).complete === 1, 30_000);
    assert.equal((await countsAt(second)).complete, 0);

    // Tier 1 goes away. A new leecher falls through to tier 2; at its next announce so does the
    // seed, which learns of the leecher there and connects.
    await first.close();
    firstClosed = true;
    const leech = client(false);
    await leech.listen();
    const t = await leech.add(content.built.torrent, { dir: path.join(root, 'leech') });
    await until('the leecher on tier 2', async () => (await countsAt(second)).incomplete >= 1, 30_000);
    await done(t, 120_000);
    assert.deepEqual(await sameFiles(content, path.join(root, 'leech')), [true, true]);
    // The leecher may finish before the seed's next announce (its 30 s interval) meets the dead
    // tier: a CI run saw the download done with no warning yet. The report comes at that announce.
    await until('the seed to report the dead tier 1', () => warnings.some((w) => w.includes(new URL(tier1).host)), 60_000);
    await until('both on tier 2', async () => (await countsAt(second)).complete === 2, 60_000);

    // From the trackers to the DHT: a seed that is in the DHT only (a trackerless client), and a
    // leecher with the DHT on that joins through tier 2 and starts downloading from the peers the
    // tracker gave it. Then its last tracker stops answering and those peers leave: it must find
    // the seed through the DHT (BEP 5) and finish.
    const dhtSeed = client(true);
    await dhtSeed.listen();
    const dhtSeeding = await dhtSeed.add(content.built.torrent, { dir: content.dir, trackers: false });
    await until('the seed announced in the DHT', async () => (await router.getPeers(hash)).peers.length > 0 || (await dhtSeed.dht!.getPeers(hash)).peers.length > 0, 30_000);
    // Capped, so that it is still downloading when its trackers go.
    const mover = client(true, { downloadRateLimit: 60_000 });
    await mover.listen();
    const t2 = await mover.add(content.built.torrent, { dir: path.join(root, 'mover') });
    await until('the DHT leecher on tier 2 and downloading', async () => t2.have.count > 0 && (await countsAt(second)).incomplete === 1, 30_000);
    assert.equal(t2.peerSource(`127.0.0.1:${seed.port}`), 'tracker', 'it heard of the first seed from tier 2');
    await second.close();
    secondClosed = true;
    for (const gone of [seed, leech]) {
      clients.splice(clients.indexOf(gone), 1);
      await gone.close();
    }
    const haveAtCut = t2.have.count;
    assert.ok(!t2.complete, `still downloading when its trackers and their peers went (${haveAtCut} of ${content.built.torrent.info.pieceCount} pieces)`);
    await done(t2, 90_000);
    assert.deepEqual(await sameFiles(content, path.join(root, 'mover')), [true, true]);
    assert.equal(t2.peerSource(`127.0.0.1:${dhtSeed.port}`), 'dht', 'it found the DHT-only seed through the DHT');
    assert.ok(dhtSeeding.statsSnapshot().uploaded > 0, 'the DHT-found seed served it');
    assert.equal(t2.statsSnapshot().hashFailures, 0);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    router.close();
    if (!firstClosed) await first.close();
    if (!secondClosed) await second.close();
    for (const s of states) await s.remove();
    await rm(root, { recursive: true, force: true });
  }
});
