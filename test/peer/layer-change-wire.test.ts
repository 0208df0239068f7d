/**
 * LAYER-CHANGE between peers (`pp_layer`, a BEP 10 extension; shared/wire/layer-change.ts) as
 * our torrent runs it, seen from scripted raw-socket peers over TCP on 127.0.0.1: our layer goes
 * out under the id the peer asked for once its extension handshake offers the message, and again
 * on each change; a peer's good message reaches `peerLayer` and its session; a malformed one, or a
 * layer the asset does not have, closes that connection alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '../../peer-node/client.js';
import type { PeerSession } from '../../peer-node/engine/peer-session.js';
import type { Torrent } from '../../peer-node/engine/torrent.js';
import { encode } from '../../shared/bencode/index.js';
import { decodeLayerChange, encodeLayerChange, LAYER_CHANGE_EXTENSION } from '../../shared/wire/layer-change.js';
import type { WireMessage } from '../../shared/wire/messages.js';
import { makeContent } from '../helpers/content.js';
import { rawExtensionPeer, until } from '../helpers/raw-peer.js';

/** The id our raw peers receive `pp_layer` under: deliberately not the 6 we use ourselves. */
const RAW_PP_LAYER_ID = 13;

/**
 * A raw peer (test/helpers/raw-peer.ts) offering `pp_layer` under RAW_PP_LAYER_ID unless `offer`
 * is false; resolves once our extension handshake is in.
 */
async function rawPeer(port: number, infoHash: Uint8Array, offer = true) {
  const peer = await rawExtensionPeer(port, infoHash, new Map(offer ? [[LAYER_CHANGE_EXTENSION, RAW_PP_LAYER_ID]] : []));
  const extended = () => peer.messages.filter((x): x is Extract<WireMessage, { type: 'extended' }> => x.type === 'extended' && x.extendedId !== 0);
  return {
    socket: peer.socket,
    peerId: peer.peerId,
    /** Layers our torrent sent this peer in pp_layer messages, in order. */
    layersHeard: () => extended().filter((x) => x.extendedId === RAW_PP_LAYER_ID).map((x) => decodeLayerChange(x.payload)),
    /** Every extended message but the handshake, whatever its id. */
    extendedHeard: extended,
    /** Sends a pp_layer message with this payload under the id we asked for. */
    sendLayerPayload: (payload: Uint8Array) => peer.send(LAYER_CHANGE_EXTENSION, payload),
    isClosed: peer.isClosed,
    gone: peer.gone,
  };
}

type RawPeer = Awaited<ReturnType<typeof rawPeer>>;

/** The torrent's session for a raw peer (by the peer id it sent in its handshake). */
function sessionOf(t: Torrent, peer: RawPeer): PeerSession | undefined {
  return [...t.sessions.values()].find((s) => s.connection.remote && Buffer.from(s.connection.remote.peerId).equals(peer.peerId));
}

/** A listening client with one torrent it is downloading (no trackers, nothing on disk). */
async function withTorrent(prefix: string, body: (t: Torrent, port: number) => Promise<void>): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), prefix));
  const client = new Client({ port: 0, host: '127.0.0.1' });
  try {
    const content = await makeContent(path.join(root, 'seed'), [100_000]);
    await client.listen();
    const t = await client.add(content.built.torrent, { dir: path.join(root, 'leech') });
    await body(t, client.port);
  } finally {
    await client.close();
    await rm(root, { recursive: true, force: true });
  }
}

const settle = () => new Promise((r) => setTimeout(r, 300));

test('pp_layer out: our active layer goes under the id the peer asked for once it offers the message, and again on each change', { timeout: 30_000 }, async () => {
  await withTorrent('layer-out-', async (t, port) => {
    const infoHash = t.infoHash;
    assert.equal(t.setActiveLayer(1, 3), 0, 'nobody connected yet: nobody told');
    const offering = await rawPeer(port, infoHash);
    const silent = await rawPeer(port, infoHash, false);
    await until('our layer reaches the offering peer', () => offering.layersHeard().length === 1);
    assert.deepEqual(offering.layersHeard(), [1]);

    assert.equal(t.setActiveLayer(2, 3), 1, 'only the peer that offers pp_layer is told');
    await until('the change reaches it', () => offering.layersHeard().length === 2);
    assert.deepEqual(offering.layersHeard(), [1, 2]);

    assert.equal(t.setActiveLayer(2, 3), 0, 'the same layer again is no change');
    await settle();
    assert.deepEqual(offering.layersHeard(), [1, 2], 'and sends nothing');
    assert.deepEqual(silent.extendedHeard(), [], 'a peer that did not offer pp_layer hears no extension message');
    assert.equal(t.sessions.size, 2);
    offering.socket.destroy();
    silent.socket.destroy();
  });
});

test('pp_layer in: a good message makes the torrent emit peerLayer and sets the session\'s peerLayer', { timeout: 30_000 }, async () => {
  await withTorrent('layer-in-', async (t, port) => {
    const heard: [PeerSession, number][] = [];
    t.on('peerLayer', (s: PeerSession, layer: number) => heard.push([s, layer]));
    const peer = await rawPeer(port, t.infoHash);
    await until('the session is up', () => sessionOf(t, peer) !== undefined);
    const session = sessionOf(t, peer)!;
    assert.equal(session.peerLayer, undefined, 'no layer before the peer says one');

    peer.sendLayerPayload(encodeLayerChange(2));
    await until('peerLayer for 2', () => heard.length === 1);
    assert.equal(heard[0]![0], session);
    assert.equal(heard[0]![1], 2);
    assert.equal(session.peerLayer, 2);

    // Without layer info (no setActiveLayer), any layer the codec allows is taken.
    peer.sendLayerPayload(encodeLayerChange(7));
    await until('peerLayer for 7', () => heard.length === 2);
    assert.equal(heard[1]![1], 7);
    assert.equal(session.peerLayer, 7);
    assert.equal(peer.isClosed(), false);
    assert.equal(t.sessions.size, 1);
    peer.socket.destroy();
  });
});

const MALFORMED: [string, Uint8Array, RegExp][] = [
  ['not bencode', new TextEncoder().encode('layer=2'), /layer change is not bencode/],
  ['layer 99', encode({ layer: 99 }), /layer change names layer 99/],
  ['layer "x"', encode({ layer: 'x' }), /layer change names layer/],
];

test('pp_layer in: a malformed message (not bencode, layer 99, layer "x") closes that connection; another stays up', { timeout: 30_000 }, async () => {
  await withTorrent('layer-bad-', async (t, port) => {
    const reasons = new Map<string, string>();
    t.on('peerClosed', (id: string, reason: string) => reasons.set(id, reason));
    let emitted = 0;
    t.on('peerLayer', () => emitted++);
    const good = await rawPeer(port, t.infoHash);
    await until('the good session is up', () => sessionOf(t, good) !== undefined);
    const goodSession = sessionOf(t, good)!;

    for (const [what, payload, reason] of MALFORMED) {
      const bad = await rawPeer(port, t.infoHash);
      await until(`the ${what} session is up`, () => sessionOf(t, bad) !== undefined);
      const badSession = sessionOf(t, bad)!;
      bad.sendLayerPayload(payload);
      await bad.gone;
      await until(`the torrent drops the ${what} session`, () => !t.sessions.has(badSession.id));
      assert.match(reasons.get(badSession.id) ?? '', reason, what);
      assert.equal(badSession.peerLayer, undefined, `${what}: no layer taken`);
      assert.equal(t.sessions.get(goodSession.id), goodSession, `${what}: the other connection stays`);
      assert.equal(good.isClosed(), false);
    }
    assert.equal(emitted, 0);

    // The survivor still talks LAYER-CHANGE.
    good.sendLayerPayload(encodeLayerChange(1));
    await until('the good peer is heard', () => goodSession.peerLayer === 1);
    assert.equal(emitted, 1);
    good.socket.destroy();
  });
});

test('pp_layer in: with the layer count known, a layer past it closes the connection with a reason naming the layer', { timeout: 30_000 }, async () => {
  await withTorrent('layer-unknown-', async (t, port) => {
    const reasons = new Map<string, string>();
    t.on('peerClosed', (id: string, reason: string) => reasons.set(id, reason));
    let emitted = 0;
    t.on('peerLayer', () => emitted++);
    t.setActiveLayer(0, 3);
    const peer = await rawPeer(port, t.infoHash);
    await until('our layer reaches the peer', () => peer.layersHeard().length === 1);
    assert.deepEqual(peer.layersHeard(), [0]);
    const session = sessionOf(t, peer)!;

    peer.sendLayerPayload(encodeLayerChange(5));
    await peer.gone;
    await until('the torrent drops the session', () => !t.sessions.has(session.id));
    assert.match(reasons.get(session.id) ?? '', /layer 5\b.*3 layers/);
    assert.equal(session.peerLayer, undefined);
    assert.equal(emitted, 0);

    // A layer inside the count is still fine from another peer.
    const other = await rawPeer(port, t.infoHash);
    await until('the other session is up', () => sessionOf(t, other) !== undefined);
    other.sendLayerPayload(encodeLayerChange(2));
    await until('layer 2 taken', () => sessionOf(t, other)?.peerLayer === 2);
    assert.equal(emitted, 1);
    other.socket.destroy();
  });
});
