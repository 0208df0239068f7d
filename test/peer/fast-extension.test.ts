/**
 * BEP 6 as our seed applies it, seen from a scripted raw-socket peer over TCP on 127.0.0.1:
 * have-all instead of a bitfield, the canonical allowed-fast set for the peer's address, pieces
 * of that set served while choked, other requests rejected while choked, a cancel answered with
 * a reject; and without the Fast bit: a full bitfield, and requests while choked dropped silently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '../../peer-node/client.js';
import { allowedFastSet } from '../../shared/wire/allowed-fast.js';
import { encodeHandshake } from '../../shared/wire/handshake.js';
import { encodeMessage, type WireMessage } from '../../shared/wire/messages.js';
import { makeContent } from '../helpers/content.js';
import { onWire, until } from '../helpers/raw-peer.js';

/** A raw peer: handshakes, then collects every message our seed sends. */
async function rawPeer(port: number, infoHash: Uint8Array, reserved: Uint8Array) {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const messages: WireMessage[] = [];
  onWire(socket, { message: (m) => messages.push(m) });
  socket.write(encodeHandshake({ reserved, infoHash, peerId: randomBytes(20) }));
  const settle = () => new Promise((r) => setTimeout(r, 300));
  await settle();
  return { socket, messages, send: (m: WireMessage) => socket.write(encodeMessage(m)), settle };
}

test('Fast extension: have-all, the canonical allowed-fast set, allowed pieces served while choked, the rest rejected, cancels rejected', { timeout: 30_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'fast-'));
  const seed = new Client({ port: 0, host: '127.0.0.1' });
  try {
    const pieceLength = 16 * 1024;
    const content = await makeContent(path.join(root, 'seed'), [40 * pieceLength], { pieceLength });
    const { infoHash, info } = content.built.torrent;
    await seed.listen();
    // No upload slots: the raw peer stays choked for this test (the first rechoke is 10 s away).
    const t = await seed.add(content.built.torrent, { dir: content.dir, uploadSlots: 0 });
    const peer = await rawPeer(seed.port, infoHash, Uint8Array.from([0, 0, 0, 0, 0, 0x10, 0, 0x04]));
    assert.equal(peer.messages[0]?.type, 'haveAll', 'a seed says have-all under Fast');
    const allowed = peer.messages.filter((m) => m.type === 'allowedFast').map((m) => (m as { index: number }).index);
    assert.deepEqual(allowed, await allowedFastSet(Uint8Array.from([127, 0, 0, 1]), infoHash, info.pieceCount, 10));

    peer.send({ type: 'interested' });
    const notAllowed = [...Array(info.pieceCount).keys()].find((i) => !allowed.includes(i))!;
    peer.send({ type: 'request', index: allowed[0]!, begin: 0, length: 16384 });
    peer.send({ type: 'request', index: notAllowed, begin: 0, length: 16384 });
    await peer.settle();
    assert.ok(!peer.messages.some((m) => m.type === 'unchoke'), 'still choked');
    const piece = peer.messages.find((m) => m.type === 'piece') as Extract<WireMessage, { type: 'piece' }> | undefined;
    assert.equal(piece?.index, allowed[0], 'an allowed-fast piece is served while choked');
    assert.ok(Buffer.from(piece!.block).equals(content.files[0]!.bytes.subarray(allowed[0]! * pieceLength, (allowed[0]! + 1) * pieceLength)));
    const reject = peer.messages.find((m) => m.type === 'rejectRequest') as Extract<WireMessage, { type: 'rejectRequest' }> | undefined;
    assert.equal(reject?.index, notAllowed, 'any other request is rejected while choked');
    assert.equal(t.sessions.size, 1, 'and the connection stays');
    peer.socket.destroy();
  } finally {
    await seed.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('without the Fast bit: a full bitfield, no Fast messages, and requests while choked are dropped without a reply', { timeout: 30_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'nofast-'));
  const seed = new Client({ port: 0, host: '127.0.0.1' });
  try {
    const content = await makeContent(path.join(root, 'seed'), [100_000], { pieceLength: 16 * 1024 });
    await seed.listen();
    const t = await seed.add(content.built.torrent, { dir: content.dir, uploadSlots: 0 });
    const peer = await rawPeer(seed.port, content.built.torrent.infoHash, new Uint8Array(8));
    const first = peer.messages[0] as Extract<WireMessage, { type: 'bitfield' }>;
    assert.equal(first.type, 'bitfield');
    assert.deepEqual([...first.bits], [0xfe], '7 pieces: seven bits set, the spare bit clear');
    assert.ok(!peer.messages.some((m) => m.type === 'allowedFast' || m.type === 'haveAll' || m.type === 'extended'));
    peer.send({ type: 'interested' });
    peer.send({ type: 'request', index: 0, begin: 0, length: 16384 });
    await peer.settle();
    assert.ok(!peer.messages.some((m) => m.type === 'piece' || m.type === 'rejectRequest'));
    assert.equal(t.sessions.size, 1);
    peer.socket.destroy();
  } finally {
    await seed.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('a cancel under Fast is answered with a reject when the request is still queued', { timeout: 30_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'fast-cancel-'));
  const seed = new Client({ port: 0, host: '127.0.0.1' });
  try {
    const content = await makeContent(path.join(root, 'seed'), [64 * 16384], { pieceLength: 16384 });
    await seed.listen();
    await seed.add(content.built.torrent, { dir: content.dir });
    const peer = await rawPeer(seed.port, content.built.torrent.infoHash, Uint8Array.from([0, 0, 0, 0, 0, 0x10, 0, 0x04]));
    peer.send({ type: 'interested' });
    await peer.settle();
    assert.ok(peer.messages.some((m) => m.type === 'unchoke'), 'a free slot unchokes at once');
    // Many requests then cancels in one write: the tail is still queued when the cancels land.
    const batch: Uint8Array[] = [];
    for (let i = 0; i < 64; i++) batch.push(encodeMessage({ type: 'request', index: i, begin: 0, length: 16384 }));
    for (let i = 0; i < 64; i++) batch.push(encodeMessage({ type: 'cancel', index: i, begin: 0, length: 16384 }));
    peer.socket.write(Buffer.concat(batch));
    await peer.settle();
    const pieces = peer.messages.filter((m) => m.type === 'piece').length;
    const rejects = peer.messages.filter((m) => m.type === 'rejectRequest').length;
    assert.equal(pieces + rejects, 64, 'every request got exactly one answer: the piece or a reject');
    assert.ok(rejects > 0, 'cancelled requests were rejected');
    peer.socket.destroy();
  } finally {
    await seed.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('a block cancelled twice and asked a third time: a reject answers each cancel in order, and the piece the third request', { timeout: 30_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'fast-recancel-'));
  const leech = new Client({ port: 0, host: '127.0.0.1' });
  try {
    // One piece of one block: every request our side sends is for the same block.
    const content = await makeContent(path.join(root, 'seed'), [16384], { pieceLength: 16384 });
    await leech.listen();
    // A short request timeout: the silent peer's request times out (a cancel), is asked again,
    // times out again (a second cancel of the same block) and is asked a third time. Streaming
    // preemption cancels and re-asks the same way.
    const t = await leech.add(content.built.torrent, { dir: path.join(root, 'leech'), requestTimeoutMs: 500 });
    const closes: string[] = [];
    t.on('peerClosed', (_: string, reason: string) => closes.push(reason));
    const peer = await rawPeer(leech.port, content.built.torrent.infoHash, Uint8Array.from([0, 0, 0, 0, 0, 0x10, 0, 0x04]));
    peer.send({ type: 'haveAll' });
    peer.send({ type: 'unchoke' });
    const sequence = () => peer.messages.filter((m) => m.type === 'request' || m.type === 'cancel').map((m) => m.type);
    const deadline = Date.now() + 15_000;
    while (sequence().length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(sequence().slice(0, 5), ['request', 'cancel', 'request', 'cancel', 'request']);
    // BEP 6: each cancelled request is answered, in order (here with a reject); the third gets the
    // block. Taking the second reject for the third request rested the piece and threw its block
    // away as unasked; with no third request out it closed the connection ("never sent").
    peer.send({ type: 'rejectRequest', index: 0, begin: 0, length: 16384 });
    peer.send({ type: 'rejectRequest', index: 0, begin: 0, length: 16384 });
    peer.send({ type: 'piece', index: 0, begin: 0, block: content.files[0]!.bytes });
    await until('the piece is in', () => t.complete, 5_000);
    // Complete, our side hangs up on a seed; nothing else may have closed it.
    assert.deepEqual(closes.filter((r) => !r.startsWith('both sides are seeds')), []);
    peer.socket.destroy();
  } finally {
    await leech.close();
    await rm(root, { recursive: true, force: true });
  }
});
