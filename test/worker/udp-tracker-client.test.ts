/** Our BEP 15 client against our edge over real UDP through the gateway, and through a lossy relay. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { once } from 'node:events';
import { startUdpGateway } from '../../peer-node/gateway/udp-gateway.js';
import { UdpTrackerClient } from '../../peer-node/tracker/udp-tracker-client.js';
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
