/**
 * Bitfield Request / Response (`pp_bitfield`, a BEP 10 extension; shared/wire/bitfield-request.ts)
 * as our torrent runs it, against scripted raw peers over TCP on 127.0.0.1: our seed answers with
 * have-all to a Fast peer and with the bits otherwise, a peer holding nothing with have-none,
 * once per interval (more requests are ignored and counted, a flood closes the connection); a
 * super-seed does not answer and counts the refusal; we ask peers, and the pieces an answer
 * names become requests; unsolicited answers are counted, malformed ones close that connection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '../../peer-node/client.js';
import type { Torrent } from '../../peer-node/engine/torrent.js';
import { BITFIELD_FLOOD_LIMIT } from '../../peer-node/extensions/bitfield-request.js';
import { BITFIELD_REQUEST_EXTENSION as PP_BITFIELD, decodeBitfieldRequestMessage, encodeBitfieldRequest, encodeBitfieldResponse } from '../../shared/wire/bitfield-request.js';
import { makeContent } from '../helpers/content.js';
import { rawExtensionPeer, until } from '../helpers/raw-peer.js';

const OFFER = new Map([[PP_BITFIELD, 9]]);
const PIECE = 16 * 1024;
const PIECES = 20;

/** A listening client with one torrent: seeding it (content on disk) or downloading it (nothing). */
async function withTorrent(role: 'seed' | 'leech', body: (t: Torrent, port: number) => Promise<void>, options: { superSeed?: boolean } = {}): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), `pp-bitfield-${role}-`));
  const client = new Client({ port: 0, host: '127.0.0.1', dht: false });
  try {
    const content = await makeContent(path.join(root, 'seed'), [PIECES * PIECE], { single: true, pieceLength: PIECE });
    await client.listen();
    const t = await client.add(content.built.torrent, { dir: role === 'seed' ? content.dir : path.join(root, 'leech'), trackers: false, webSeeds: false, ...options });
    if (role === 'seed') await until('the seed has verified its content', () => t.complete);
    await body(t, client.port);
  } finally {
    await client.close();
    await rm(root, { recursive: true, force: true });
  }
}

const settle = () => new Promise((r) => setTimeout(r, 300));

test('pp_bitfield: a seed answers a Fast peer with have-all and others with every bit; a second request inside the interval is ignored and counted', { timeout: 30_000 }, async () => {
  await withTorrent('seed', async (t, port) => {
    const fast = await rawExtensionPeer(port, t.infoHash, OFFER, { fast: true });
    fast.send(PP_BITFIELD, encodeBitfieldRequest());
    await until('an answer', () => fast.heard(PP_BITFIELD).length === 1);
    assert.deepEqual(decodeBitfieldRequestMessage(fast.heard(PP_BITFIELD)[0]!, PIECES), { type: 'response', have: 'all' });

    const plain = await rawExtensionPeer(port, t.infoHash, OFFER);
    plain.send(PP_BITFIELD, encodeBitfieldRequest());
    await until('an answer', () => plain.heard(PP_BITFIELD).length === 1);
    const answer = decodeBitfieldRequestMessage(plain.heard(PP_BITFIELD)[0]!, PIECES);
    assert.ok('bitfield' in answer);
    assert.deepEqual([...answer.bitfield], [0xff, 0xff, 0xf0], '20 pieces: 20 bits set, the 4 spare bits clear');

    plain.send(PP_BITFIELD, encodeBitfieldRequest());
    await settle();
    assert.equal(plain.heard(PP_BITFIELD).length, 1, 'no second answer inside the interval');
    assert.equal(t.bitfieldRequests.answered, 2);
    assert.equal(t.bitfieldRequests.refused['rate-limited'], 1);
    assert.equal(plain.isClosed(), false, 'one extra request is not a flood');
  });
});

test('pp_bitfield: a peer holding nothing answers a Fast peer with have-none and others with every bit clear', { timeout: 30_000 }, async () => {
  await withTorrent('leech', async (t, port) => {
    assert.equal(t.statsSnapshot().done, 0, 'nothing on disk');
    const fast = await rawExtensionPeer(port, t.infoHash, OFFER, { fast: true });
    fast.send(PP_BITFIELD, encodeBitfieldRequest());
    await until('an answer', () => fast.heard(PP_BITFIELD).length === 1);
    assert.deepEqual(decodeBitfieldRequestMessage(fast.heard(PP_BITFIELD)[0]!, PIECES), { type: 'response', have: 'none' });

    const plain = await rawExtensionPeer(port, t.infoHash, OFFER);
    plain.send(PP_BITFIELD, encodeBitfieldRequest());
    await until('an answer', () => plain.heard(PP_BITFIELD).length === 1);
    const answer = decodeBitfieldRequestMessage(plain.heard(PP_BITFIELD)[0]!, PIECES);
    assert.ok('bitfield' in answer, 'BEP 6 have-none is for Fast peers only');
    assert.deepEqual([...answer.bitfield], [0, 0, 0]);
    assert.equal(t.bitfieldRequests.answered, 2);
  });
});

test('pp_bitfield: a super-seed does not answer (it shows pieces one peer at a time); the refusal is counted', { timeout: 30_000 }, async () => {
  await withTorrent(
    'seed',
    async (t, port) => {
      assert.equal(t.superSeeding, true);
      const peer = await rawExtensionPeer(port, t.infoHash, OFFER, { fast: true });
      peer.send(PP_BITFIELD, encodeBitfieldRequest());
      await until('the refusal is counted', () => t.bitfieldRequests.refused['super-seeding'] === 1);
      await settle();
      assert.deepEqual(peer.heard(PP_BITFIELD), [], 'no answer');
      assert.equal(t.bitfieldRequests.answered, 0);
      assert.equal(t.bitfieldRequests.refused['rate-limited'], 0);
      assert.equal(peer.messages.filter((m) => m.type === 'have').length, 1, 'still one piece shown, as BEP 16 wants');
      assert.ok(!peer.messages.some((m) => m.type === 'haveAll' || m.type === 'bitfield'));
      assert.equal(peer.isClosed(), false, 'a refusal, not a violation');
    },
    { superSeed: true },
  );
});

test('pp_bitfield: a flood of requests closes that connection alone', { timeout: 30_000 }, async () => {
  await withTorrent('seed', async (t, port) => {
    const flooder = await rawExtensionPeer(port, t.infoHash, OFFER, { fast: true });
    const calm = await rawExtensionPeer(port, t.infoHash, OFFER, { fast: true });
    for (let i = 0; i < BITFIELD_FLOOD_LIMIT + 2; i++) flooder.send(PP_BITFIELD, encodeBitfieldRequest());
    await flooder.gone;
    assert.equal(flooder.heard(PP_BITFIELD).length, 1, 'only the first was answered');
    assert.equal(t.bitfieldRequests.refused['rate-limited'], BITFIELD_FLOOD_LIMIT + 1);
    calm.send(PP_BITFIELD, encodeBitfieldRequest());
    await until('the other peer is still answered', () => calm.heard(PP_BITFIELD).length === 1);
    assert.equal(calm.isClosed(), false);
  });
});

test('pp_bitfield: we ask, and the pieces an answer names (never HAVE-d) become requests; an unsolicited answer is counted and changes nothing', { timeout: 30_000 }, async () => {
  await withTorrent('leech', async (t, port) => {
    const peer = await rawExtensionPeer(port, t.infoHash, OFFER, { fast: true });
    // The peer claims nothing at first (have none), so we are not interested.
    peer.write({ type: 'haveNone' });
    peer.write({ type: 'unchoke' });
    const bits = new Uint8Array(Math.ceil(PIECES / 8));
    bits[0] = 0x80 >> 3; // piece 3 only
    peer.send(PP_BITFIELD, encodeBitfieldResponse({ bitfield: bits }));
    await settle();
    assert.equal(t.bitfieldRequests.refused.unsolicited, 1);
    assert.ok(!peer.messages.some((m) => m.type === 'interested'), 'an unsolicited answer teaches nothing');

    assert.equal(t.requestPeerBitfields(), 1);
    await until('our request', () => peer.heard(PP_BITFIELD).some((p) => decodeBitfieldRequestMessage(p, PIECES).type === 'request'));
    peer.send(PP_BITFIELD, encodeBitfieldResponse({ bitfield: bits }));
    await until('we ask the peer for piece 3', () => peer.messages.some((m) => m.type === 'request' && m.index === 3));
    assert.ok(peer.messages.some((m) => m.type === 'interested'));
    assert.ok(!peer.messages.some((m) => m.type === 'request' && m.index !== 3), 'only the piece it named');
  });
});

test('pp_bitfield: malformed messages close that connection with the reason', { timeout: 30_000 }, async () => {
  await withTorrent('leech', async (t, port) => {
    const bad = [
      new TextEncoder().encode('d8:msg_typei7ee'), // unknown type
      new TextEncoder().encode('not bencode'),
      encodeBitfieldResponse({ bitfield: new Uint8Array(2) }), // wrong length for 20 pieces
      encodeBitfieldResponse({ bitfield: Uint8Array.from([0, 0, 0x01]) }), // a spare bit set
    ];
    for (const payload of bad) {
      const peer = await rawExtensionPeer(port, t.infoHash, OFFER, { fast: true });
      // Asked first, so that the malformed answers are judged as answers, not ignored as unsolicited.
      t.requestPeerBitfields();
      await until('our request', () => peer.heard(PP_BITFIELD).length > 0);
      peer.send(PP_BITFIELD, payload);
      await peer.gone;
    }
    const healthy = await rawExtensionPeer(port, t.infoHash, OFFER, { fast: true });
    await settle();
    assert.equal(healthy.isClosed(), false, 'other connections carry on');
  });
});
