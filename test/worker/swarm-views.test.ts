/**
 * Plain re-announces answered from the Worker isolate's snapshot of a swarm, with the updates
 * reaching the swarm's Durable Object in a batch shortly after (worker/tracker/swarm-views.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../shared/bytes.js';
import type { AnnounceResponse, TrackerFailure } from '../../shared/tracker/index.js';
import { withEdge } from '../helpers/edge.js';
import { announce, infoHash, scrape } from '../helpers/tracker-client.js';

function ok(r: AnnounceResponse | TrackerFailure): AnnounceResponse {
  if ('failure' in r) assert.fail(`tracker refused: ${r.failure}`);
  return r;
}

async function countsAfterBatch(base: URL, hash: Uint8Array, want: (c: { complete: number; incomplete: number }) => boolean) {
  for (let i = 0; i < 40; i++) {
    const all = await scrape(base, [hash]);
    assert.ok(!('failure' in all));
    const c = all.get(toHex(hash))!;
    if (want(c)) return c;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail('the batched re-announces never reached the swarm object');
}

test('a plain re-announce is answered from the snapshot and reaches the swarm object in a batch', async () => {
  await withEdge({}, async (edge) => {
    const hash = infoHash(40);
    ok(await announce(edge.url, { hash, peer: 1, event: 'started' }));
    ok(await announce(edge.url, { hash, peer: 2, event: 'started', left: 0 }));
    // No event: answered in the isolate. Its counts are the snapshot's (without peer 3 itself),
    // which is how we can tell; the object would have counted it.
    const fast = ok(await announce(edge.url, { hash, peer: 3 }));
    assert.deepEqual([fast.complete, fast.incomplete], [1, 1]);
    assert.deepEqual(fast.peers.map((p) => p.port).sort(), [6001, 6002]);
    assert.equal(fast.externalIp, '127.0.0.1');
    const counts = await countsAfterBatch(edge.url, hash, (c) => c.incomplete === 2);
    assert.deepEqual([counts.complete, counts.incomplete], [1, 2]);
  });
});

test('snapshot answers never return the asker, and give seeds only downloaders', async () => {
  await withEdge({}, async (edge) => {
    const hash = infoHash(41);
    ok(await announce(edge.url, { hash, peer: 1, event: 'started', left: 0 }));
    ok(await announce(edge.url, { hash, peer: 2, event: 'started', left: 0 }));
    ok(await announce(edge.url, { hash, peer: 3, event: 'started', left: 10 }));
    await countsAfterBatch(edge.url, hash, (c) => c.complete === 2 && c.incomplete === 1);
    for (let i = 0; i < 5; i++) {
      const seed = ok(await announce(edge.url, { hash, peer: 1, left: 0 }));
      assert.deepEqual(seed.peers.map((p) => p.port), [6003], 'a seed gets only the leecher');
      const leech = ok(await announce(edge.url, { hash, peer: 3, left: 10 }));
      assert.deepEqual(leech.peers.map((p) => p.port).sort(), [6001, 6002], 'never itself');
    }
  });
});

test('events always reach the swarm object at once: a stop is seen by the next asker', async () => {
  await withEdge({}, async (edge) => {
    const hash = infoHash(42);
    ok(await announce(edge.url, { hash, peer: 1, event: 'started' }));
    ok(await announce(edge.url, { hash, peer: 2, event: 'started' }));
    ok(await announce(edge.url, { hash, peer: 1, event: 'stopped' }));
    const counts = await scrape(edge.url, [hash]);
    assert.ok(!('failure' in counts));
    assert.equal(counts.get(toHex(hash))?.incomplete, 1);
  });
});

test('registered-only mode: plain re-announces to an unregistered torrent are refused too', async () => {
  await withEdge({ TRACKER_MODE: 'registered' }, async (edge) => {
    const hash = infoHash(43);
    for (let i = 0; i < 3; i++) {
      const r = await announce(edge.url, { hash, peer: 1 });
      assert.ok('failure' in r && /unregistered/.test(r.failure));
    }
  });
});

test('an event after a queued re-announce stands: a stop stays a stop, a completion stays a seed', async () => {
  await withEdge({}, async (edge) => {
    const hash = infoHash(44);
    ok(await announce(edge.url, { hash, peer: 1, event: 'started' }));
    ok(await announce(edge.url, { hash, peer: 2, event: 'started' }));
    ok(await announce(edge.url, { hash, peer: 1 })); // queued in the isolate
    ok(await announce(edge.url, { hash, peer: 1, event: 'stopped' })); // overtakes it
    ok(await announce(edge.url, { hash, peer: 2, left: 5 })); // queued
    ok(await announce(edge.url, { hash, peer: 2, left: 0, event: 'completed' }));
    await new Promise((r) => setTimeout(r, 400)); // the batch has reached the object by now
    const counts = await scrape(edge.url, [hash]);
    assert.ok(!('failure' in counts));
    assert.deepEqual(counts.get(toHex(hash)), { complete: 1, incomplete: 0, downloaded: 1, downloaders: 0 });
  });
});
