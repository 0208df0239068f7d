/**
 * Peer exchange (BEP 11) between our peers over TCP on 127.0.0.1: a peer learns a third one only
 * through PEX and connects to it; private torrents send and take no PEX; a malformed PEX
 * message closes that connection; PEX more often than every 30 s is ignored.
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
import { encode } from '../../shared/bencode/index.js';
import { decodeExtensionHandshake, encodeExtensionHandshake } from '../../shared/wire/extension-handshake.js';
import { MessageFramer } from '../../shared/wire/framer.js';
import { encodeHandshake, HANDSHAKE_LENGTH } from '../../shared/wire/handshake.js';
import { encodeMessage, type WireMessage } from '../../shared/wire/messages.js';
import { encodePexMessage } from '../../shared/wire/ut-pex.js';
import { until } from '../helpers/raw-peer.js';
import { makeContent } from '../helpers/content.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');


for (const isPrivate of [false, true]) {
  test(
    isPrivate ? 'a private torrent sends and takes no PEX: the third peer stays unknown' : 'a peer learns a third peer only through PEX and connects to it',
    { timeout: 30_000 },
    async () => {
      const root = await mkdtemp(path.join(tmpdir(), 'pex-'));
      const clients = [0, 1, 2].map(() => new Client({ port: 0, host: '127.0.0.1' }));
      try {
        const content = await makeContent(path.join(root, 'seed'), [500_000], { private: isPrivate });
        for (const c of clients) await c.listen();
        // The hub has nothing either: all three stay leechers, and connected, while PEX runs.
        const hub = await clients[0]!.add(content.built.torrent, { dir: path.join(root, 'hub') });
        const b = await clients[1]!.add(content.built.torrent, { dir: path.join(root, 'b') });
        const c = await clients[2]!.add(content.built.torrent, { dir: path.join(root, 'c') });
        const met = (t: Torrent) => new Set([...t.sessions.values()].map((s) => hex(s.connection.remote!.peerId)));
        b.addPeers([{ host: '127.0.0.1', port: clients[0]!.port }]);
        c.addPeers([{ host: '127.0.0.1', port: clients[0]!.port }]);
        await until('both connected to the hub', () => hub.sessions.size === 2);
        const cAddress = `127.0.0.1:${clients[2]!.port}`;
        if (isPrivate) {
          await new Promise((r) => setTimeout(r, 5000)); // past the first PEX round (3 s)
          assert.equal(b.peerSource(cAddress), undefined);
          assert.ok(!met(b).has(hex(clients[2]!.peerId)));
          assert.ok(![...b.sessions.values()].some((s) => s.extensions?.m.has('ut_pex')), 'nobody offered ut_pex on a private torrent');
        } else {
          await until('B meets C', () => met(b).has(hex(clients[2]!.peerId)) || met(c).has(hex(clients[1]!.peerId)));
          assert.ok(b.peerSource(cAddress) === 'pex' || c.peerSource(`127.0.0.1:${clients[1]!.port}`) === 'pex', 'the address came from PEX');
        }
      } finally {
        await Promise.all(clients.map((c) => c.close()));
        await rm(root, { recursive: true, force: true });
      }
    },
  );
}

/** A raw peer that offers ut_pex, waits for our BEP 10 handshake, then sends `messages` under our id. */
async function pexPeer(port: number, infoHash: Uint8Array, payloads: Uint8Array[]) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const closed = once(socket, 'close').then(() => true);
  await once(socket, 'connect');
  socket.write(encodeHandshake({ reserved: Uint8Array.from([0, 0, 0, 0, 0, 0x10, 0, 0]), infoHash, peerId: randomBytes(20) }));
  socket.write(encodeMessage({ type: 'extended', extendedId: 0, payload: encodeExtensionHandshake({ m: new Map([['ut_pex', 9]]) }) }));
  const framer = new MessageFramer();
  let head = Buffer.alloc(0);
  let ourPex = 0;
  await new Promise<void>((resolve) => {
    socket.on('data', (d: Buffer) => {
      head = Buffer.concat([head, d]);
      if (head.length < HANDSHAKE_LENGTH) return;
      for (const m of framer.push(head.subarray(HANDSHAKE_LENGTH)) as WireMessage[]) {
        if (m.type === 'extended' && m.extendedId === 0) {
          ourPex = decodeExtensionHandshake(m.payload).m.get('ut_pex') ?? 0;
          resolve();
        }
      }
      head = head.subarray(0, HANDSHAKE_LENGTH);
    });
  });
  assert.ok(ourPex > 0, 'we offer ut_pex');
  for (const payload of payloads) socket.write(encodeMessage({ type: 'extended', extendedId: ourPex, payload }));
  return { socket, closed: Promise.race([closed, new Promise<boolean>((r) => setTimeout(() => r(false), 1000))]) };
}

test('PEX input: a malformed message closes the connection; a second message within 30 s is ignored; at most 50 peers are taken', { timeout: 30_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'pex-bad-'));
  const client = new Client({ port: 0, host: '127.0.0.1' });
  try {
    const content = await makeContent(path.join(root, 'seed'), [100_000]);
    await client.listen();
    const t = await client.add(content.built.torrent, { dir: path.join(root, 'leech') });
    const reasons: string[] = [];
    t.on('peerClosed', (_: string, r: string) => reasons.push(r));

    const broken = await pexPeer(client.port, content.built.torrent.infoHash, [encode({ added: new Uint8Array(7) })]);
    assert.equal(await broken.closed, true);
    assert.match(reasons.at(-1)!, /ut_pex peers: compact IPv4 peers: 7 bytes/);

    const many = Array.from({ length: 50 }, (_, i) => ({ host: `10.0.${i}.1`, port: 6881, flags: 0 }));
    const later = [{ host: '10.9.9.9', port: 6881, flags: 0 }];
    const polite = await pexPeer(client.port, content.built.torrent.infoHash, [encodePexMessage({ added: many, dropped: [] }), encodePexMessage({ added: later, dropped: [] })]);
    assert.equal(await polite.closed, false, 'well-formed PEX keeps the connection');
    assert.equal(t.peerSource('10.0.49.1:6881'), 'pex');
    assert.equal(t.peerSource('10.9.9.9:6881'), undefined, 'the second message came too soon and was ignored');
    polite.socket.destroy();
  } finally {
    await client.close();
    await rm(root, { recursive: true, force: true });
  }
});
