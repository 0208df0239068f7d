/**
 * PPSP Have Piece and Not Interested as our torrent sends them (BEP 3 ids 4 and 3), seen by
 * scripted raw peers over TCP on 127.0.0.1: after a piece arrives and passes its hash we send
 * `have` to every connected peer, and none for a piece that failed; once a peer holds nothing
 * more we want we tell it `not interested`, and stay interested in a peer that still has some.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '../../peer-node/client.js';
import type { Torrent } from '../../peer-node/engine/torrent.js';
import type { WireMessage } from '../../shared/wire/messages.js';
import { makeContent } from '../helpers/content.js';
import { rawExtensionPeer, until } from '../helpers/raw-peer.js';

const PIECE = 16 * 1024; // one block a piece: one request, one answer
const PIECES = 4;
const NO_EXTENSIONS = new Map<string, number>();

/** A BEP 3 bitfield of PIECES pieces with `pieces` set. */
function bitsOf(pieces: number[]): Uint8Array {
  const bits = new Uint8Array(Math.ceil(PIECES / 8));
  for (const i of pieces) bits[i >> 3]! |= 0x80 >> (i & 7);
  return bits;
}

const haves = (messages: WireMessage[]) => messages.flatMap((m) => (m.type === 'have' ? [m.index] : []));
const position = (messages: WireMessage[], type: WireMessage['type']) => messages.findIndex((m) => m.type === type);

/** A listening client downloading fresh content with no other source; `bytes` is the content. */
async function withLeech(prefix: string, body: (t: Torrent, port: number, bytes: Uint8Array) => Promise<void>): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), prefix));
  const client = new Client({ port: 0, host: '127.0.0.1', dht: false, lsd: false, localTrackerDiscovery: false });
  try {
    const content = await makeContent(path.join(root, 'seed'), [PIECES * PIECE], { single: true, pieceLength: PIECE });
    await client.listen();
    const t = await client.add(content.built.torrent, { dir: path.join(root, 'leech'), trackers: false, webSeeds: false });
    await body(t, client.port, content.files[0]!.bytes);
  } finally {
    await client.close();
    await rm(root, { recursive: true, force: true });
  }
}

test('Have Piece: after a piece passes its hash we send `have` to every peer; a piece that failed gets none', { timeout: 30_000 }, () =>
  withLeech('have-piece-', async (t, port, bytes) => {
    // The source holds pieces 1 and 2; the watcher holds nothing and only listens.
    const source = await rawExtensionPeer(port, t.infoHash, NO_EXTENSIONS);
    const watcher = await rawExtensionPeer(port, t.infoHash, NO_EXTENSIONS);
    source.write({ type: 'bitfield', bits: bitsOf([1, 2]) });
    source.write({ type: 'unchoke' });
    await until('our requests for pieces 1 and 2', () => [1, 2].every((i) => source.messages.some((m) => m.type === 'request' && m.index === i)));
    assert.deepEqual(haves(watcher.messages), [], 'no have before any piece is verified');

    // Piece 1 comes back wrong (fails its SHA-1), piece 2 right.
    const wrong = Uint8Array.from(bytes.subarray(PIECE, 2 * PIECE), (b) => b ^ 0xff);
    source.write({ type: 'piece', index: 1, begin: 0, block: wrong });
    source.write({ type: 'piece', index: 2, begin: 0, block: bytes.subarray(2 * PIECE, 3 * PIECE) });
    await until('a have for piece 2 at the watcher', () => haves(watcher.messages).includes(2));
    await until('and at the source', () => haves(source.messages).includes(2));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(haves(watcher.messages), [2], 'piece 1 failed its hash: no have for it');
    assert.deepEqual(haves(source.messages), [2]);
    assert.equal(t.statsSnapshot().done, PIECE, 'exactly the one verified piece is held');
  }),
);

test('Not Interested: once a peer holds nothing more we want we tell it so; a peer with more keeps our interest', { timeout: 30_000 }, () =>
  withLeech('not-interested-', async (t, port, bytes) => {
    // `only` holds piece 2 alone; `more` holds pieces 2 and 3 but chokes us, so piece 2 comes from `only`.
    const only = await rawExtensionPeer(port, t.infoHash, NO_EXTENSIONS);
    const more = await rawExtensionPeer(port, t.infoHash, NO_EXTENSIONS);
    more.write({ type: 'bitfield', bits: bitsOf([2, 3]) });
    only.write({ type: 'bitfield', bits: bitsOf([2]) });
    await until('interested in both', () => position(only.messages, 'interested') >= 0 && position(more.messages, 'interested') >= 0);
    only.write({ type: 'unchoke' });
    await until('our request for piece 2', () => only.messages.some((m) => m.type === 'request' && m.index === 2));
    only.write({ type: 'piece', index: 2, begin: 0, block: bytes.subarray(2 * PIECE, 3 * PIECE) });
    await until('not interested sent to the peer that has nothing more for us', () => position(only.messages, 'notInterested') >= 0);
    assert.ok(position(only.messages, 'interested') < position(only.messages, 'notInterested'), 'interested first, then not interested');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(position(more.messages, 'notInterested'), -1, 'piece 3 is still wanted from the other peer');
    assert.equal(only.messages.filter((m) => m.type === 'interested').length, 1, 'and no change of mind');
    assert.ok(!only.messages.some((m) => m.type === 'request' && m.index !== 2));
  }),
);
