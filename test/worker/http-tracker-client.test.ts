/** Our HTTP tracker client (undici) against the edge's tracker on Miniflare. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpAnnounce, httpScrape, scrapeUrl } from '../../peer-node/tracker/http-tracker-client.js';
import { escapeBytes } from '../../shared/tracker/http-query.js';
import { toHex } from '../../shared/bytes.js';
import { withEdge } from '../helpers/edge.js';
import { infoHash, peerId } from '../helpers/tracker-client.js';

const announce = (peer: number, left = 100, event: 'started' | 'none' | 'stopped' = 'started') => ({ infoHash: infoHash(5), peerId: peerId(peer), port: 7100 + peer, uploaded: 0, downloaded: 0, left, event });

test('BEP 48 scrape URLs and byte-wise escaping', () => {
  assert.equal(scrapeUrl('http://t.example/announce'), 'http://t.example/scrape');
  assert.equal(scrapeUrl('http://t.example/p/abc/announce.php?x=1'), 'http://t.example/p/abc/scrape.php?x=1');
  assert.equal(scrapeUrl('http://t.example/a'), undefined);
  assert.equal(escapeBytes(new Uint8Array([0x41, 0x20, 0xff, 0x2e])), 'A%20%ff.');
});

test('HTTP tracker client: announce, see the other peer, scrape, and a failure reason comes back as data', async () => {
  await withEdge({}, async (edge) => {
    const url = new URL('/announce', edge.url).toString();
    const first = await httpAnnounce(url, announce(1));
    assert.ok(!('failure' in first));
    assert.equal(first.externalIp, '127.0.0.1');
    const second = await httpAnnounce(url, announce(2, 0));
    assert.ok(!('failure' in second));
    assert.deepEqual(second.peers, [{ host: '127.0.0.1', port: 7101 }]);
    const counts = await httpScrape(url, [infoHash(5)]);
    assert.ok(!('failure' in counts));
    assert.deepEqual(counts.get(toHex(infoHash(5))), { complete: 1, incomplete: 1, downloaded: 0, downloaders: 1 });
    const refused = await httpAnnounce(new URL('/p/not-a-passkey/announce', edge.url).toString(), announce(3));
    assert.ok('failure' in refused && refused.failure.length > 0);
    await assert.rejects(httpAnnounce('http://127.0.0.1:9/announce', announce(4), 2000), /unreachable/);
  });
});
