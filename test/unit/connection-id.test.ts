import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkConnectionId, importKey, issueConnectionId, shardFor, TICK_MS } from '../../worker/connection-ids/connection-id.js';

const client = { host: '127.0.0.1', port: 51413 };
const key = () => importKey(crypto.getRandomValues(new Uint8Array(32)));

test('an id is accepted from its client for two minutes and no longer (fake clock: the test sets now)', async () => {
  const k = await key();
  const issuedAt = 1_700_000_000_000;
  const id = await issueConnectionId(k, client, issuedAt);
  assert.equal(id.length, 8);
  assert.equal(await checkConnectionId([k], id, client, issuedAt), true);
  assert.equal(await checkConnectionId([k], id, client, issuedAt + 120_000), true);
  assert.equal(await checkConnectionId([k], id, client, issuedAt + 125_000 + TICK_MS), false);
  // The 16-bit tick counter wraps every ~73 hours; keys rotate hourly and only the previous
  // one is kept, so by then the id's key is gone and it cannot come back to life.
  const rotated = [await key(), await key()];
  assert.equal(await checkConnectionId(rotated, id, client, issuedAt + 0x10000 * TICK_MS), false);
});

test('an id is bound to the address (not the port, which NATs move), and to the key', async () => {
  const k = await key();
  const now = Date.now();
  const id = await issueConnectionId(k, client, now);
  assert.equal(await checkConnectionId([k], id, { host: '127.0.0.2', port: 51413 }, now), false);
  assert.equal(await checkConnectionId([k], id, { host: '127.0.0.1', port: 51414 }, now), true);
  assert.equal(await checkConnectionId([k], id, { host: '::ffff:127.0.0.1', port: 51413 }, now), false);
  assert.equal(await checkConnectionId([await key()], id, client, now), false);
  // After a rotation the previous key still accepts ids issued just before it.
  assert.equal(await checkConnectionId([await key(), k], id, client, now), true);
  const forged = id.slice();
  forged[7]! ^= 1;
  assert.equal(await checkConnectionId([k], forged, client, now), false);
});

test('ids for different clients at the same moment all differ', async () => {
  const k = await key();
  const ids = new Set<string>();
  for (let i = 0; i < 1000; i++) ids.add(Buffer.from(await issueConnectionId(k, { host: `10.0.${i >> 8}.${i & 255}`, port: 1 }, 0)).toString('hex'));
  assert.equal(ids.size, 1000);
});

test('shards spread addresses', () => {
  const counts = new Array(16).fill(0);
  for (let i = 0; i < 1600; i++) counts[shardFor(`10.0.${i >> 8}.${i & 255}`, 16)]++;
  assert.ok(Math.min(...counts) > 50, counts.join(','));
});
