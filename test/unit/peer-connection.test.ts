/** Peer-wire connections over real TCP sockets on 127.0.0.1, with scripted raw-socket peers for bad input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { PeerConnection, type ConnectionOptions } from '../../peer-node/wire/peer-connection.js';
import { encodeHandshake, reservedBytes } from '../../shared/wire/handshake.js';
import { encodeMessage, type WireMessage } from '../../shared/wire/messages.js';
import { decodeExtensionHandshake, encodeExtensionHandshake } from '../../shared/wire/extension-handshake.js';
import { bytesEqual } from '../../shared/bytes.js';

const hash = new Uint8Array(20).fill(7);
const id = (n: number) => new TextEncoder().encode(`-ES0100-${String(n).padStart(12, '0')}`);
const caps = { extensionProtocol: true, fast: true, dht: false };
const opts = (n: number, extra: Partial<ConnectionOptions> = {}): ConnectionOptions => ({ peerId: id(n), capabilities: caps, ...extra });

/** A listening server whose accepted connections are PeerConnections for `hash`. */
async function server(extra: Partial<ConnectionOptions> = {}) {
  const accepted: PeerConnection[] = [];
  const srv = net.createServer((socket) => accepted.push(PeerConnection.accept(socket, (h) => bytesEqual(h, hash), opts(1, extra))));
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  return { port, accepted, close: () => srv.close() };
}

function nextMessage(c: PeerConnection): Promise<WireMessage> {
  return new Promise((resolve) => c.once('message', resolve));
}

test('two connections handshake, see each other\'s capabilities, and exchange messages both ways', async () => {
  const s = await server();
  try {
    const client = PeerConnection.connect('127.0.0.1', s.port, hash, opts(2));
    const [remote] = (await once(client, 'handshake')) as [PeerConnection['remote']];
    assert.ok(bytesEqual(remote!.peerId, id(1)));
    assert.deepEqual(remote!.capabilities, caps);
    const srv = s.accepted[0]!;
    assert.ok(bytesEqual(srv.remote!.peerId, id(2)));
    const ext = encodeExtensionHandshake({ m: new Map([['ut_metadata', 3]]), v: 'edge-swarm 0.1', reqq: 250 });
    const got = nextMessage(srv);
    client.send({ type: 'extended', extendedId: 0, payload: ext });
    const m = await got;
    assert.equal(m.type, 'extended');
    const hs = decodeExtensionHandshake((m as { payload: Uint8Array }).payload);
    assert.deepEqual([...hs.m], [['ut_metadata', 3]]);
    assert.equal(hs.reqq, 250);
    const back = nextMessage(client);
    srv.send({ type: 'bitfield', bits: new Uint8Array([0xf0]) });
    assert.deepEqual(await back, { type: 'bitfield', bits: new Uint8Array([0xf0]) });
    client.close('done');
    assert.equal(client.closeReason, 'done');
  } finally {
    s.close();
  }
});

/** A raw socket that sends `bytes` after a valid handshake (or instead of it) and waits for the close. */
async function rawPeer(port: number, bytes: Uint8Array[], handshake = true): Promise<void> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  if (handshake) socket.write(encodeHandshake({ reserved: reservedBytes(caps), infoHash: hash, peerId: id(9) }));
  for (const b of bytes) socket.write(b);
  socket.resume();
  await once(socket, 'close');
}

test('bad peers are closed with a precise reason, and the listener serves the next peer', async () => {
  const s = await server({ maxMessageLength: 1 << 16 });
  try {
    const cases: Array<[string, Uint8Array[], boolean, RegExp]> = [
      ['wrong info-hash', [encodeHandshake({ reserved: new Uint8Array(8), infoHash: new Uint8Array(20).fill(1), peerId: id(9) })], false, /torrent we do not have/],
      ['garbage instead of a handshake', [new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n')], false, /BitTorrent protocol/],
      ['oversized length prefix', [new Uint8Array([0x7f, 0xff, 0xff, 0xff])], true, /over the 65536-byte limit/],
      ['have with a 3-byte payload', [new Uint8Array([0, 0, 0, 4, 4, 0, 0, 1])], true, /have carries 3 payload bytes/],
      ['our own peer id', [encodeHandshake({ reserved: new Uint8Array(8), infoHash: hash, peerId: id(1) })], false, /ourselves/],
    ];
    for (const [name, bytes, handshake, reason] of cases) {
      const before = s.accepted.length;
      await rawPeer(s.port, bytes, handshake);
      const conn = s.accepted[before]!;
      if (!conn.closed) await once(conn, 'close');
      assert.match(conn.closeReason!, reason, name);
    }
    // The listener and the protocol carry on for a good peer.
    const good = PeerConnection.connect('127.0.0.1', s.port, hash, opts(3));
    await once(good, 'handshake');
    const srv = s.accepted.at(-1)!;
    const got = nextMessage(srv);
    good.send({ type: 'interested' });
    assert.deepEqual(await got, { type: 'interested' });
    good.close('done');
  } finally {
    s.close();
  }
});

test('keep-alives go out when quiet, and a silent peer is dropped (short timers, real sockets)', async () => {
  const s = await server({ keepAliveMs: 100, idleTimeoutMs: 10_000 });
  try {
    // This client never sends anything after its handshake: it should receive keep-alives.
    const client = PeerConnection.connect('127.0.0.1', s.port, hash, opts(4, { keepAliveMs: 60_000, idleTimeoutMs: 1_500 }));
    await once(client, 'handshake');
    assert.deepEqual(await nextMessage(client), { type: 'keepAlive' });
    // The server keeps sending keep-alives, so the client is not idle-dropped; now silence the server side.
    const srv = s.accepted[0]!;
    srv.socket.pause();
    (srv as unknown as { send: () => void }).send = () => undefined;
    const [reason] = (await once(client, 'close')) as [string];
    assert.match(reason, /silent for/);
  } finally {
    s.close();
  }
});
