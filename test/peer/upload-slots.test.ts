/**
 * A free upload slot goes to a waiting peer at once, not at the next rechoke: when a peer that
 * holds one leaves or loses interest, one of the interested peers we choke is unchoked. Scripted
 * raw peers against our seed (2 upload slots) over TCP on 127.0.0.1; everything here happens
 * within the first seconds, before the torrent's first rechoke (10 s after it starts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '../../peer-node/client.js';
import { makeContent } from '../helpers/content.js';
import { rawExtensionPeer, until } from '../helpers/raw-peer.js';

type RawPeer = Awaited<ReturnType<typeof rawExtensionPeer>>;

const unchoked = (p: RawPeer) => p.messages.filter((m) => m.type === 'unchoke').length > p.messages.filter((m) => m.type === 'choke').length;

test('a slot freed by a peer that leaves or loses interest goes to a waiting peer at once', { timeout: 30_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'upload-slots-'));
  const client = new Client({ port: 0, host: '127.0.0.1', dht: false, lsd: false, localTrackerDiscovery: false });
  try {
    const content = await makeContent(path.join(root, 'seed'), [20 * 16384], { single: true, pieceLength: 16384 });
    await client.listen();
    const t = await client.add(content.built.torrent, { dir: content.dir, trackers: false, webSeeds: false, uploadSlots: 2 });
    await until('the seed has verified its content', () => t.complete);
    const startedAt = Date.now();
    const peers: RawPeer[] = [];
    for (let i = 0; i < 4; i++) {
      const p = await rawExtensionPeer(client.port, t.infoHash, new Map(), { fast: true });
      p.write({ type: 'haveNone' });
      p.write({ type: 'interested' });
      peers.push(p);
      // One at a time: the first two take the two slots as they ask.
      if (i < 2) await until(`peer ${i} unchoked`, () => unchoked(p));
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(peers.map(unchoked), [true, true, false, false], 'two slots, two waiting');

    peers[0]!.socket.destroy();
    await until('a waiting peer takes the slot of the one that left', () => unchoked(peers[2]!) || unchoked(peers[3]!));
    assert.equal([peers[2]!, peers[3]!].filter(unchoked).length, 1, 'one slot, one peer');

    peers[1]!.write({ type: 'notInterested' });
    await until('the last waiting peer takes the slot of the one that lost interest', () => unchoked(peers[2]!) && unchoked(peers[3]!));
    assert.ok(Date.now() - startedAt < 10_000, 'before the first rechoke: the slots moved at once, not at a rotation');
    for (const p of peers.slice(1)) p.socket.destroy();
  } finally {
    await client.close();
    await rm(root, { recursive: true, force: true });
  }
});
