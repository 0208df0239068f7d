/**
 * The `bittorrent-tracker` package's client (webtorrent's) announces and scrapes against our
 * tracker over HTTP and over UDP through the gateway, and sees the other client as a peer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { startUdpGateway } from '../../peer-node/gateway/udp-gateway.js';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';
import { importJsClient, missingJsClients } from '../helpers/js-clients.js';

interface TrackerClient extends EventEmitter {
  start(): void;
  complete(): void;
  scrape(): void;
  destroy(cb?: () => void): void;
}
type ClientClass = new (opts: { infoHash: string; peerId: string; announce: string[]; port: number; getAnnounceOpts?: () => object }) => TrackerClient;

const skip = missingJsClients();
const INFO_HASH = 'aa'.repeat(20);

async function scenario(announceUrl: string): Promise<void> {
  const { Client } = await importJsClient<{ Client: ClientClass }>('bittorrent-tracker');
  const seed = new Client({ infoHash: INFO_HASH, peerId: '2d5745303130302d' + '11'.repeat(12), announce: [announceUrl], port: 6881, getAnnounceOpts: () => ({ left: 0 }) });
  const leech = new Client({ infoHash: INFO_HASH, peerId: '2d5745303130302d' + '22'.repeat(12), announce: [announceUrl], port: 6882, getAnnounceOpts: () => ({ left: 1000 }) });
  const failures: string[] = [];
  for (const c of [seed, leech]) {
    c.on('error', (err: Error) => failures.push(err.message));
    c.on('warning', (err: Error) => failures.push(err.message));
  }
  try {
    seed.start();
    const [seedUpdate] = (await once(seed, 'update')) as [{ complete: number; incomplete: number }];
    assert.equal(seedUpdate.complete, 1);
    const peer = once(leech, 'peer');
    leech.start();
    const [leechUpdate] = (await once(leech, 'update')) as [{ complete: number; incomplete: number }];
    assert.deepEqual([leechUpdate.complete, leechUpdate.incomplete], [1, 1]);
    const [address] = (await peer) as [string];
    assert.equal(address, '127.0.0.1:6881', 'the leecher learned the seed from our tracker');
    leech.scrape();
    const [scraped] = (await once(leech, 'scrape')) as [{ complete: number; incomplete: number; downloaded: number }];
    assert.deepEqual([scraped.complete, scraped.incomplete, scraped.downloaded], [1, 1, 0]);
    assert.deepEqual(failures, []);
  } finally {
    await Promise.all([seed, leech].map((c) => new Promise<void>((r) => c.destroy(() => r()))));
  }
}

test('bittorrent-tracker client: announce, peers and scrape over our HTTP tracker', { skip }, async () => {
  await withEdge({}, async (edge) => scenario(new URL('/announce', edge.url).href));
});

test('bittorrent-tracker client: announce, peers and scrape over our UDP tracker via the gateway', { skip }, async () => {
  await withEdge({}, async (edge) => {
    const gateway = await startUdpGateway({ host: '127.0.0.1', port: 0, edge: edge.url, secret: TEST_SECRETS.GATEWAY_SECRET });
    try {
      await scenario(`udp://127.0.0.1:${gateway.address.port}`);
    } finally {
      await gateway.close();
    }
  });
});
