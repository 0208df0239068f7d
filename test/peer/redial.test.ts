/**
 * A peer that dialled us is not dialled back. Its socket's port is an ephemeral one; its listen
 * port comes in its BEP 10 handshake (`p`). When a tracker, PEX or the DHT then hands us that
 * listen address, it is a peer we are connected to already. Dialling it again made a second
 * connection that one side hung up on, and in a swarm's first seconds the tie-break for
 * simultaneous connections replaced the working one, dropping its requests and its unchoke:
 * a 20-viewer flash crowd closed 227 connections that way in one traced run. Addresses are
 * compared in one spelling: an IPv4-mapped IPv6 address is its IPv4 one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { Client } from '../../peer-node/client.js';
import { makeContent } from '../helpers/content.js';
import { rawExtensionPeer, until } from '../helpers/raw-peer.js';

test('a peer that dialled us and named its listen port is not dialled again when that address turns up', { timeout: 30_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'redial-'));
  const client = new Client({ port: 0, host: '127.0.0.1' });
  // The raw peer's listening side: it only counts who dials it.
  let dialled = 0;
  const listener = net.createServer((socket) => {
    dialled++;
    socket.on('error', () => undefined);
  });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const listenPort = (listener.address() as net.AddressInfo).port;
  try {
    const content = await makeContent(path.join(root, 'seed'), [100_000]);
    await client.listen();
    const t = await client.add(content.built.torrent, { dir: path.join(root, 'leech') });
    const peer = await rawExtensionPeer(client.port, content.built.torrent.infoHash, new Map([['ut_pex', 1]]), { listenPort });
    await until('the session knows the listen port', () => [...t.sessions.values()].some((s) => s.listenAddress?.port === listenPort));
    // A control first: an address nobody is connected from is dialled, by the same path.
    const other = net.createServer((socket) => socket.destroy());
    other.listen(0, '127.0.0.1');
    await once(other, 'listening');
    let otherDialled = 0;
    other.on('connection', () => otherDialled++);
    t.addPeers([{ host: '127.0.0.1', port: (other.address() as net.AddressInfo).port }], 'tracker');
    t.addPeers([{ host: '127.0.0.1', port: listenPort }], 'tracker');
    // The same address spelled as an IPv4-mapped IPv6 one (a tracker's text `ip`, `peers6`).
    t.addPeers([{ host: '::ffff:127.0.0.1', port: listenPort }], 'pex');
    await until('the control address is dialled', () => otherDialled > 0);
    // Three engine ticks: every chance to dial the known address.
    await new Promise((r) => setTimeout(r, 3_000));
    other.close();
    assert.equal(dialled, 0, 'the connected peer was dialled a second time');
    assert.equal(peer.isClosed(), false, 'the first connection stays');
    assert.equal(t.sessions.size, 1);
    peer.socket.destroy();
  } finally {
    listener.close();
    await client.close();
    await rm(root, { recursive: true, force: true });
  }
});
