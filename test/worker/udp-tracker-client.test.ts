/** Our BEP 15 client against our edge over real UDP through the gateway, and through a lossy relay. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { once } from 'node:events';
import { startUdpGateway } from '../../peer-node/gateway/udp-gateway.js';
import { UdpTrackerClient } from '../../peer-node/tracker/udp-tracker-client.js';
import { toHex } from '../../shared/bytes.js';
import { decodeUdpRequest, encodeUdpResponse, UDP_ACTION } from '../../shared/tracker/udp-packets.js';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';
import { infoHash, peerId } from '../helpers/tracker-client.js';

const announce = (peer: number, left = 100) => ({ infoHash: infoHash(1), peerId: peerId(peer), port: 7000 + peer, uploaded: 0, downloaded: 0, left, event: 'started' as const, key: peer });

test('BEP 15 client: connect, announce and scrape against the edge through the gateway', async () => {
  await withEdge({}, async (edge) => {
    const gateway = await startUdpGateway({ host: '127.0.0.1', port: 0, edge: edge.url, secret: TEST_SECRETS.GATEWAY_SECRET });
    const client = new UdpTrackerClient();
    try {
      const url = `udp://127.0.0.1:${gateway.address.port}/announce`;
      const first = await client.announce(url, announce(1));
      assert.deepEqual(first.peers, []);
      assert.equal(first.interval, 900);
      const second = await client.announce(url, announce(2, 0));
      assert.deepEqual(second.peers, [{ host: '127.0.0.1', port: 7001 }]);
      assert.deepEqual([second.seeders, second.leechers], [1, 1]);
      const [counts] = await client.scrape(url, [infoHash(1)]);
      assert.deepEqual(counts, { seeders: 1, completed: 0, leechers: 1 });
      // One connect served all three requests (the ID lives a minute).
      assert.equal(gateway.stats.received, 4);
    } finally {
      client.close();
      await gateway.close();
    }
  });
});

test('BEP 15 client retransmits on the 15*2^n schedule through a lossy relay (test controls loss and time)', async () => {
  await withEdge({}, async (edge) => {
    const gateway = await startUdpGateway({ host: '127.0.0.1', port: 0, edge: edge.url, secret: TEST_SECRETS.GATEWAY_SECRET });
    // A relay that drops the first two datagrams from the client, then forwards both ways.
    const relay = createSocket('udp4');
    relay.bind(0, '127.0.0.1');
    await once(relay, 'listening');
    let fromClient = 0;
    let client: RemoteInfo | undefined;
    const sentAt: number[] = [];
    relay.on('message', (msg, rinfo) => {
      if (rinfo.port === gateway.address.port) {
        relay.send(msg, client!.port, client!.address);
        return;
      }
      client = rinfo;
      sentAt.push(Date.now());
      if (++fromClient <= 2) return;
      relay.send(msg, gateway.address.port, gateway.address.host);
    });
    const udp = new UdpTrackerClient({ baseTimeoutMs: 100 });
    try {
      const result = await udp.announce(`udp://127.0.0.1:${relay.address().port}`, announce(3));
      assert.equal(result.interval, 900);
      assert.equal(fromClient, 4, 'connect lost, connect lost, connect, announce');
      // Waits double: about 100 ms, then about 200 ms.
      assert.ok(sentAt[1]! - sentAt[0]! >= 90 && sentAt[2]! - sentAt[1]! >= 190, `resend gaps ${sentAt[1]! - sentAt[0]!} and ${sentAt[2]! - sentAt[1]!} ms`);
      // A tracker that never answers: the client gives up after its tries with a clear error.
      const silent = createSocket('udp4');
      silent.bind(0, '127.0.0.1');
      await once(silent, 'listening');
      const quick = new UdpTrackerClient({ baseTimeoutMs: 20, maxRetries: 2 });
      await assert.rejects(quick.announce(`udp://127.0.0.1:${silent.address().port}`, announce(4)), /no answer .* after 3 tries/);
      quick.close();
      silent.close();
    } finally {
      udp.close();
      relay.close();
      await gateway.close();
    }
  });
});

/** A relay in front of `to` that keeps a copy of every datagram the client sends through it. */
async function recordingRelay(to: { host: string; port: number }) {
  const relay = createSocket('udp4');
  relay.bind(0, '127.0.0.1');
  await once(relay, 'listening');
  const sent: Uint8Array[] = [];
  let client: RemoteInfo | undefined;
  relay.on('message', (msg, rinfo) => {
    if (rinfo.port === to.port) {
      relay.send(msg, client!.port, client!.address);
      return;
    }
    client = rinfo;
    sent.push(new Uint8Array(msg));
    relay.send(msg, to.port, to.host);
  });
  /** The announces the client sent, as raw bytes (connects and scrapes left out). */
  const announces = () => sent.filter((p) => p.length >= 16 && new DataView(p.buffer, p.byteOffset).getUint32(8) === UDP_ACTION.announce);
  return { port: relay.address().port, announces, close: () => relay.close() };
}

/** The BEP 41 options after the 98-byte announce, as [type, payload] pairs up to and including end-of-options. */
function options(packet: Uint8Array): [number, string][] {
  const out: [number, string][] = [];
  for (let i = 98; i < packet.length; ) {
    const type = packet[i]!;
    if (type === 0) {
      out.push([0, '']);
      break;
    }
    const length = packet[i + 1]!;
    out.push([type, String.fromCharCode(...packet.subarray(i + 2, i + 2 + length))]);
    i += 2 + length;
  }
  return out;
}

test('BEP 15 client: LAYER-CHANGE goes as layer=N in the BEP 41 URL data, and only when the announce has a layer', async () => {
  await withEdge({}, async (edge) => {
    const gateway = await startUdpGateway({ host: '127.0.0.1', port: 0, edge: edge.url, secret: TEST_SECRETS.GATEWAY_SECRET });
    const relay = await recordingRelay(gateway.address);
    const client = new UdpTrackerClient();
    const hash = infoHash(41);
    const activeLayers = async () => {
      const r = await fetch(new URL(`/layers/${toHex(hash)}/active`, edge.url));
      assert.equal(r.status, 200);
      return r.json();
    };
    try {
      const url = `udp://127.0.0.1:${relay.port}/announce`;
      await client.announce(url, { ...announce(1), infoHash: hash, layer: 2 });
      assert.deepEqual(await activeLayers(), { peers: 1, byLayer: { 2: 1 } });
      const [withLayer] = relay.announces();
      assert.deepEqual(options(withLayer!), [
        [2, '/announce?layer=2'],
        [0, ''],
      ]);
      const decoded = decodeUdpRequest(withLayer!);
      assert.equal(decoded.action === 'announce' ? decoded.urlData : undefined, '/announce?layer=2');

      // No layer in the announce: no URL data at all for a plain /announce URL, and the edge keeps
      // the layer it was told last.
      await client.announce(url, { ...announce(1), infoHash: hash, event: 'none' });
      const plain = relay.announces()[1]!;
      assert.equal(plain.length, 98, 'a bare BEP 15 announce, no options');
      assert.deepEqual(await activeLayers(), { peers: 1, byLayer: { 2: 1 } });

      // A URL with a query of its own: the layer is appended with '&', the rest goes along.
      await client.announce(`udp://127.0.0.1:${relay.port}/announce?source=test`, { ...announce(2), infoHash: hash, layer: 0 });
      assert.deepEqual(options(relay.announces()[2]!), [
        [2, '/announce?source=test&layer=0'],
        [0, ''],
      ]);
      assert.deepEqual(await activeLayers(), { peers: 2, byLayer: { 0: 1, 2: 1 } });
      await client.announce(`udp://127.0.0.1:${relay.port}/announce?source=test`, { ...announce(2), infoHash: hash, event: 'none' });
      assert.deepEqual(options(relay.announces()[3]!), [
        [2, '/announce?source=test'],
        [0, ''],
      ]);
    } finally {
      client.close();
      relay.close();
      await gateway.close();
    }
  });
});

test('BEP 15 client: URL data longer than 255 bytes (a long path plus layer=) is split into several BEP 41 options', async () => {
  // A scripted tracker: hands out a connection id and answers every announce with no peers.
  const tracker = createSocket('udp4');
  tracker.bind(0, '127.0.0.1');
  await once(tracker, 'listening');
  const received: Uint8Array[] = [];
  tracker.on('message', (msg, rinfo) => {
    const request = decodeUdpRequest(new Uint8Array(msg));
    received.push(new Uint8Array(msg));
    const reply =
      request.action === 'connect'
        ? encodeUdpResponse({ action: 'connect', transactionId: request.transactionId, connectionId: new Uint8Array(8).fill(7) })
        : encodeUdpResponse({ action: 'announce', transactionId: request.transactionId, interval: 60, leechers: 0, seeders: 0, peers: [] });
    tracker.send(reply, rinfo.port, rinfo.address);
  });
  const client = new UdpTrackerClient();
  try {
    const path = `/p/${'k'.repeat(300)}/announce`;
    await client.announce(`udp://127.0.0.1:${tracker.address().port}${path}`, { ...announce(1), layer: 3 });
    const packet = received.find((p) => new DataView(p.buffer, p.byteOffset).getUint32(8) === UDP_ACTION.announce)!;
    const parts = options(packet);
    assert.deepEqual(
      parts.map(([type, data]) => [type, data.length]),
      [
        [2, 255],
        [2, path.length + '?layer=3'.length - 255],
        [0, 0],
      ],
    );
    assert.equal(parts.map(([, data]) => data).join(''), `${path}?layer=3`);
    const decoded = decodeUdpRequest(packet);
    assert.equal(decoded.action === 'announce' ? decoded.urlData : undefined, `${path}?layer=3`);
  } finally {
    client.close();
    tracker.close();
  }
});
