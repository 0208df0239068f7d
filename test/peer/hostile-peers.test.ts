/**
 * Bad input from scripted raw-socket peers on 127.0.0.1: each breaks one rule of BEP 3/6, and
 * each time that connection alone is closed with a logged reason while the seed keeps serving
 * others. A peer whose data fails the hash check is banned and its pieces are fetched again
 * from an honest seed; nothing verified is lost.
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
import type { Torrent } from '../../peer-node/engine/torrent.js';
import { encodeHandshake, HANDSHAKE_LENGTH } from '../../shared/wire/handshake.js';
import { encodeMessage } from '../../shared/wire/messages.js';
import { makeContent, sameFiles } from '../helpers/content.js';
import { onWire } from '../helpers/raw-peer.js';

const FAST_AND_EXT = Uint8Array.from([0, 0, 0, 0, 0, 0x10, 0, 0x04]);
/** Piece length of the torrents the lying seeds serve. */
const PIECE = 32 * 1024;

function frame(id: number, payload: number[] | Uint8Array = []): Uint8Array {
  const body = Uint8Array.from([id, ...payload]);
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

function u32(n: number): number[] {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

/** Connects, handshakes for `infoHash`, sends `after`, and resolves with whether our side closed it and what it got. */
async function rawPeer(port: number, infoHash: Uint8Array, after: Uint8Array, reserved = FAST_AND_EXT): Promise<{ closed: boolean; received: number }> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let received = 0;
  const closing = once(socket, 'close').then(() => true);
  socket.on('data', (d: Buffer) => (received += d.length));
  socket.on('error', () => undefined);
  socket.write(encodeHandshake({ reserved, infoHash, peerId: randomBytes(20) }));
  // Let the handshake be answered first, so the bad bytes arrive as messages.
  await new Promise((r) => setTimeout(r, 100));
  socket.write(after);
  const closed = await Promise.race([closing, new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
  socket.destroy();
  return { closed, received };
}

test('each broken rule closes that connection only, with a logged reason; the seed keeps serving', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'hostile-'));
  const seed = new Client({ port: 0, host: '127.0.0.1' });
  const leech = new Client({ port: 0, host: '127.0.0.1' });
  try {
    const pieceLength = 32 * 1024;
    const content = await makeContent(path.join(root, 'seed'), [200_000, 50_000], { pieceLength });
    const { infoHash } = content.built.torrent;
    const pieces = content.built.torrent.info.pieceCount; // 8 pieces: a 1-byte bitfield with 0 spare bits... 250000/32768 -> 8
    await seed.listen();
    const seeding = await seed.add(content.built.torrent, { dir: content.dir });
    const reasons: string[] = [];
    seeding.on('peerClosed', (_id: string, reason: string) => reasons.push(reason));
    const bitfieldBytes = Math.ceil(pieces / 8);

    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['an oversized length prefix', Uint8Array.from([0x7f, 0xff, 0xff, 0xff, 7]), /length prefix .* over/],
      ['a request past the end of a piece', frame(6, [...u32(0), ...u32(pieceLength - 100), ...u32(16384)]), /outside the piece/],
      ['a request for a piece that does not exist', frame(6, [...u32(pieces), ...u32(0), ...u32(16384)]), /outside the piece/],
      ['a bitfield of the wrong length', frame(5, new Uint8Array(bitfieldBytes + 1)), /bitfield of .* bytes/],
      ['a have for a piece that does not exist', frame(4, u32(pieces + 5)), /have for piece/],
      ['an unknown message id', frame(99, [1, 2, 3]), /unknown message id 99/],
      ['garbage after the handshake', new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), /length prefix/],
      ['a reject for a request never sent', frame(16, [...u32(0), ...u32(0), ...u32(16384)]), /reject for a request we never sent/],
    ];
    if (pieces % 8 !== 0) cases.push(['a bitfield with spare bits set', frame(5, new Uint8Array(bitfieldBytes).fill(0xff)), /spare bits/]);
    for (const [what, bytes, reason] of cases) {
      const before = reasons.length;
      const r = await rawPeer(seed.port, infoHash, bytes);
      assert.equal(r.closed, true, `${what}: the connection is closed`);
      await new Promise((res) => setTimeout(res, 20));
      assert.equal(reasons.length, before + 1, `${what}: one close logged`);
      assert.match(reasons.at(-1)!, reason, what);
    }

    // The Fast extension's messages from a peer that did not set the Fast bit close it too.
    const noFast = await rawPeer(seed.port, infoHash, frame(14), new Uint8Array(8));
    assert.equal(noFast.closed, true, "have-all without the Fast bit closes");
    assert.match(reasons.at(-1)!, /without the Fast extension/);

    // A handshake for a torrent we do not have: refused before we answer with ours.
    const wrong = await rawPeer(seed.port, randomBytes(20), new Uint8Array(0));
    assert.equal(wrong.closed, true, "wrong info-hash closes");
    assert.ok(wrong.received < HANDSHAKE_LENGTH, 'no handshake is sent back for an unknown info-hash');

    // The seed carries on: an honest leecher downloads everything.
    await leech.listen();
    const t = await leech.add(content.built.torrent, { dir: path.join(root, 'leech') });
    t.addPeers([{ host: '127.0.0.1', port: seed.port }]);
    if (!t.complete) await once(t, 'done');
    assert.deepEqual(await sameFiles(content, path.join(root, 'leech')), [true, true]);
  } finally {
    await leech.close();
    await seed.close();
    await rm(root, { recursive: true, force: true });
  }
});

/**
 * A seed that claims every piece and answers every request with random bytes, or, given the
 * real content, with the real bytes except for the first block of each piece.
 */
async function lyingSeed(infoHash: Uint8Array, peerId: Uint8Array, real?: Buffer): Promise<{ port: number; close(): void; served: () => number }> {
  let served = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    onWire(socket, {
      handshake() {
        socket.write(encodeHandshake({ reserved: FAST_AND_EXT, infoHash, peerId }));
        socket.write(encodeMessage({ type: 'haveAll' }));
        socket.write(encodeMessage({ type: 'unchoke' }));
      },
      message(m) {
        if (m.type !== 'request') return;
        served++;
        const at = m.index * PIECE + m.begin;
        const block = real && m.begin !== 0 ? real.subarray(at, at + m.length) : randomBytes(m.length);
        socket.write(encodeMessage({ type: 'piece', index: m.index, begin: m.begin, block }));
      },
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    served: () => served,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

test('a peer whose pieces fail the hash check is banned; an honest seed supplies them; nothing verified is lost', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'hostile-ban-'));
  const seed = new Client({ port: 0, host: '127.0.0.1' });
  const leech = new Client({ port: 0, host: '127.0.0.1' });
  const liarId = randomBytes(20);
  try {
    const content = await makeContent(path.join(root, 'seed'), [600_000], { pieceLength: 32 * 1024 });
    const { infoHash } = content.built.torrent;
    const liar = await lyingSeed(infoHash, liarId);
    await seed.listen();
    await leech.listen();
    await seed.add(content.built.torrent, { dir: content.dir });
    const t: Torrent = await leech.add(content.built.torrent, { dir: path.join(root, 'leech') });
    const bans: string[] = [];
    t.on('ban', (_id: string, reason: string) => bans.push(reason));
    let haveCount = 0;
    t.on('piece', () => assert.ok(t.have.count > haveCount && (haveCount = t.have.count) > 0, 'verified pieces only ever grow'));

    t.addPeers([{ host: '127.0.0.1', port: liar.port }]);
    await once(t, 'ban');
    assert.match(bans[0]!, /failed the hash check/);
    assert.ok(t.statsSnapshot().hashFailures >= 2, 'two pieces it sent alone failed');
    assert.equal(t.have.count, 0);

    // The liar cannot come back, not even by dialling us.
    const back = net.connect(leech.port, '127.0.0.1');
    const backClosed = new Promise((resolve) => back.on('close', resolve));
    back.on('error', () => undefined); // a reset is as good as a close here
    back.resume(); // read (and drop) our handshake, or the socket never sees the end
    back.write(encodeHandshake({ reserved: FAST_AND_EXT, infoHash, peerId: liarId }));
    await backClosed;
    assert.equal(t.sessions.size, 0);

    t.addPeers([{ host: '127.0.0.1', port: seed.port }]);
    if (!t.complete) await once(t, 'done');
    assert.deepEqual(await sameFiles(content, path.join(root, 'leech')), [true]);
    liar.close();
  } finally {
    await leech.close();
    await seed.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('a peer that spoils one block of every piece is banned itself, and cannot get the honest seed that completes them banned', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'hostile-spoil-'));
  const seed = new Client({ port: 0, host: '127.0.0.1' });
  const leech = new Client({ port: 0, host: '127.0.0.1' });
  const spoilerId = randomBytes(20);
  let spoiler: Awaited<ReturnType<typeof lyingSeed>> | undefined;
  try {
    const content = await makeContent(path.join(root, 'seed'), [40 * PIECE], { pieceLength: PIECE });
    spoiler = await lyingSeed(content.built.torrent.infoHash, spoilerId, content.files[0]!.bytes);
    await seed.listen();
    await leech.listen();
    await seed.add(content.built.torrent, { dir: content.dir });
    const t = await leech.add(content.built.torrent, { dir: path.join(root, 'leech') });
    const banned: string[] = [];
    const reasons: string[] = [];
    t.on('ban', (id: string, reason: string) => {
      banned.push(id);
      reasons.push(reason);
    });
    t.addPeers([{ host: '127.0.0.1', port: spoiler.port }, { host: '127.0.0.1', port: seed.port }]);
    if (!t.complete) await once(t, 'done');
    assert.deepEqual(await sameFiles(content, path.join(root, 'leech')), [true]);
    const honest = [...t.sessions.values()].find((s) => Buffer.from(s.connection.remote!.peerId).equals(Buffer.from(seed.peerId)));
    assert.ok(!banned.some((id) => honest && id === honest.id), 'the honest seed was never banned');
    assert.ok(!t.banned.has(`peer:${Buffer.from(seed.peerId).toString('hex')}`));
    // The spoiler itself is banned: every piece it sends alone fails (two strikes each), and a
    // piece that failed with several senders is fetched next from one peer only (parole), so it
    // cannot hide behind the honest seed. On loopback the ban is by peer id.
    assert.match(t.banned.get(`peer:${spoilerId.toString('hex')}`) ?? 'not banned', /failed the hash check/, `the spoiler was banned (bans: ${reasons.join('; ') || 'none'})`);
    assert.deepEqual([...t.banned.keys()], [`peer:${spoilerId.toString('hex')}`], 'no one else is banned');
    assert.ok(reasons.every((r) => /failed the hash check/.test(r)), reasons.join('; '));
  } finally {
    spoiler?.close();
    await leech.close();
    await seed.close();
    await rm(root, { recursive: true, force: true });
  }
});
