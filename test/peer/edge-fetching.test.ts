/**
 * EDGE-FETCHING (`pp_fetching`, a BEP 10 extension; shared/wire/edge-fetching.ts) as our torrent
 * runs it, against scripted raw peers over TCP on 127.0.0.1 and a real HTTP web seed: we name each
 * piece we begin to fetch from the web seed to peers that lack it, before its HAVE; a peer's notice
 * holds that piece back from our web seed until the peer's HAVE lets us take it from the peer;
 * a notice nobody delivers costs a delay, never the piece; a malformed notice closes that
 * connection alone. (The rules' timing and bounds: test/unit/edge-fetching.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '../../peer-node/client.js';
import type { Torrent, TorrentOptions } from '../../peer-node/engine/torrent.js';
import type { ParsedTorrent } from '../../shared/metainfo/torrent-file.js';
import { decodeEdgeFetching, EDGE_FETCHING_EXTENSION as PP_FETCHING, encodeEdgeFetching } from '../../shared/wire/edge-fetching.js';
import { makeContent, sameFiles } from '../helpers/content.js';
import { rawExtensionPeer, until } from '../helpers/raw-peer.js';
import { startWebSeedServer, type WebSeedServer } from '../helpers/web-seed-server.js';

const OFFER = new Map([[PP_FETCHING, 11]]);
const PIECE = 16 * 1024;
const PIECES = 12;

/** The pieces a web seed request covered (one file, so byte offsets map to pieces directly). */
function piecesAsked(server: WebSeedServer): number[] {
  return server.requests.map((r) => Number(/^bytes=(\d+)-/.exec(r.range ?? '')?.[1] ?? -1) / PIECE);
}

/** A leech of fresh content whose only source is a local web seed, listening for peers. */
async function withLeech(options: Partial<TorrentOptions>, body: (t: Torrent, port: number, server: WebSeedServer, content: { dir: string; torrent: ParsedTorrent; file: string }) => Promise<void>): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'pp-fetching-'));
  const content = await makeContent(path.join(root, 'src'), [PIECES * PIECE], { single: true, pieceLength: PIECE });
  const server = await startWebSeedServer(content.dir);
  const client = new Client({ port: 0, host: '127.0.0.1', dht: false, lsd: false });
  try {
    await client.listen();
    const torrent: ParsedTorrent = { ...content.built.torrent, urlList: [server.url], httpSeeds: [] };
    const t = await client.add(torrent, { dir: path.join(root, 'out'), trackers: false, ...options });
    await body(t, client.port, server, { dir: path.join(root, 'out'), torrent, file: path.join(content.dir, content.name) });
    if (!t.complete) await once(t, 'done');
    assert.deepEqual(await sameFiles(content, path.join(root, 'out')), [true], 'the file, byte for byte');
  } finally {
    await client.close();
    await server.close();
    await rm(root, { recursive: true, force: true });
  }
}

test('pp_fetching: each piece we fetch from the web seed is named to a peer that lacks it, before its HAVE', { timeout: 30_000 }, async () => {
  await withLeech({ sourcePolicy: { graceMs: 500 } }, async (t, port, server) => {
    const peer = await rawExtensionPeer(port, t.infoHash, OFFER);
    await once(t, 'done');
    await until('the last HAVE', () => peer.messages.filter((m) => m.type === 'have').length === PIECES);
    const named: number[] = [];
    const namedAt = new Map<number, number>();
    const haveAt = new Map<number, number>();
    peer.messages.forEach((m, at) => {
      if (m.type === 'have') haveAt.set(m.index, at);
      if (m.type === 'extended' && m.extendedId === OFFER.get(PP_FETCHING)) {
        for (const index of decodeEdgeFetching(m.payload, PIECES)) {
          named.push(index);
          if (!namedAt.has(index)) namedAt.set(index, at);
        }
      }
    });
    assert.deepEqual([...new Set(piecesAsked(server))].sort((a, b) => a - b), [...Array(PIECES).keys()], 'every piece came from the web seed');
    assert.deepEqual([...new Set(named)].sort((a, b) => a - b), [...Array(PIECES).keys()], 'and each was named');
    for (const [index, at] of namedAt) assert.ok(at < haveAt.get(index)!, `piece ${index}: named before its HAVE`);
    assert.ok(t.edgeFetchNotices.told >= 1);
  });
});

test('pp_fetching: a peer\'s notice keeps our web seed off that piece, which then comes from the peer; a notice never delivered costs a delay, not the piece', { timeout: 30_000 }, async () => {
  // Grace 1 s: the peer is connected and has spoken before the web seed starts, which then
  // fetches every piece but the two held back within a few milliseconds. Holds of 5 s leave the
  // peer room for its HAVE on a busy machine.
  await withLeech({ sourcePolicy: { graceMs: 1000 }, edgeFetchHoldMs: 5000 }, async (t, port, server, content) => {
    const data = await readFile(content.file);
    const peer = await rawExtensionPeer(port, t.infoHash, OFFER);
    // Piece 5: the peer says it is fetching it, then has it and sends it when asked. Piece 9:
    // named twice and never delivered.
    peer.send(PP_FETCHING, encodeEdgeFetching([5, 9]));
    peer.send(PP_FETCHING, encodeEdgeFetching([9]));
    await until('the notices were taken', () => t.edgeFetchNotices.held === 2);
    assert.deepEqual(Object.values(t.edgeFetchNotices.refused), [0, 0, 0, 0, 0], 'piece 9 named again while held: nothing new');
    // The web seed serves every other piece meanwhile; then the peer has piece 5.
    await until('the web seed served the other pieces', () => new Set(piecesAsked(server)).size >= PIECES - 2);
    peer.write({ type: 'have', index: 5 });
    peer.write({ type: 'unchoke' });
    let served = 0;
    const answer = setInterval(() => {
      for (; served < peer.messages.length; served++) {
        const m = peer.messages[served]!;
        if (m.type === 'request') peer.write({ type: 'piece', index: m.index, begin: m.begin, block: data.subarray(m.index * PIECE + m.begin, m.index * PIECE + m.begin + m.length) });
      }
    }, 20);
    try {
      await once(t, 'done');
    } finally {
      clearInterval(answer);
    }
    const fromSeed = piecesAsked(server);
    assert.ok(!fromSeed.includes(5), `the web seed never served piece 5 (it served ${fromSeed.join(',')})`);
    assert.ok(fromSeed.includes(9), 'piece 9, never delivered, came from the web seed once its hold ran out');
    assert.equal(t.statsSnapshot().bytesFromPeers, PIECE, 'piece 5 from the peer');
  });
});

test('pp_fetching: a malformed notice closes that connection alone; the download carries on', { timeout: 30_000 }, async () => {
  await withLeech({ sourcePolicy: { graceMs: 500 } }, async (t, port) => {
    const good = await rawExtensionPeer(port, t.infoHash, OFFER);
    const bad = await rawExtensionPeer(port, t.infoHash, OFFER);
    bad.send(PP_FETCHING, encodeEdgeFetching([PIECES + 3]).subarray(0, 5)); // cut short: not bencode
    await bad.gone;
    const past = await rawExtensionPeer(port, t.infoHash, OFFER);
    past.send(PP_FETCHING, encodeEdgeFetching([PIECES])); // a piece past the end
    await past.gone;
    assert.equal(good.isClosed(), false, 'the other peer stays');
    assert.equal(t.edgeFetchNotices.held, 0);
  });
});
