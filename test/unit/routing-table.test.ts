/** BEP 5 routing table: splitting only around our id, the 15-minute node states (with a fake clock), replacement of bad nodes, closest-first lookups. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { distance, RoutingTable } from '../../peer-node/dht/routing-table.js';

const idWith = (first: number) => {
  const id = new Uint8Array(randomBytes(20));
  id[0] = first;
  return id;
};
const node = (id: Uint8Array, i = 0) => ({ id, host: '10.0.0.1', port: 1000 + i, failures: 0 });

test('only the bucket holding our id splits: far nodes beyond k wait in the cache, near ones keep coming in', () => {
  const own = new Uint8Array(20); // id 0: the low half of the space is "near"
  const table = new RoutingTable(own);
  const far = Array.from({ length: 20 }, () => idWith(0x80 | Math.floor(Math.random() * 0x7f)));
  const results = far.map((id, i) => table.add(node(id, i), true));
  assert.equal(results.filter((r) => r === 'added').length, 8, 'the far half keeps k = 8 nodes');
  assert.equal(results.filter((r) => r === 'cached').length, 12, 'the rest wait as replacements');
  // Endpoints of their own: the table keeps one node per address and port.
  for (let i = 0; i < 30; i++) table.add(node(idWith(Math.floor(Math.random() * 0x80)), 100 + i), true);
  assert.ok(table.bucketCount > 2, 'the near buckets split');
  assert.ok(table.size <= 8 * table.bucketCount);
  assert.ok(table.size >= 8 + 16, 'near nodes were taken in as buckets split');
  assert.equal(table.add(node(own), true), 'ignored', 'never ourselves');
});

test('node states follow the 15-minute rule (fake clock); a bad node is replaced by a waiting one', () => {
  let now = 1_000_000;
  const table = new RoutingTable(new Uint8Array(20).fill(0xff), 8, 2, () => now);
  const ids = Array.from({ length: 9 }, () => idWith(0x01)); // all in the far bucket (own id is all ones)
  ids.slice(0, 8).forEach((id, i) => assert.equal(table.add(node(id, i), true), 'added'));
  const first = table.find(ids[0]!)!;
  assert.equal(table.state(first), 'good');
  now += 15 * 60_000;
  assert.equal(table.state(first), 'questionable', 'silent for 15 minutes');
  table.add(node(ids[0]!), false); // it queried us: good again, having answered before
  assert.equal(table.state(first), 'good');
  assert.equal(table.add(node(ids[8]!, 8), true), 'cached', 'the bucket is full of live nodes');
  now += 15 * 60_000;
  assert.ok(table.questionable().length >= 7, 'questionable nodes of a bucket with newcomers waiting are to be pinged');
  table.failed(ids[1]!);
  assert.notEqual(table.state(table.find(ids[1]!)!), 'bad', 'one miss is not enough');
  table.failed(ids[1]!);
  assert.equal(table.find(ids[1]!), undefined, 'two misses in a row: bad, and replaced');
  assert.ok(table.find(ids[8]!), 'by the node that was waiting');
  assert.equal(table.staleBuckets().length, table.bucketCount - 1, 'every bucket untouched for 15 minutes wants a refresh');
});

test('closest returns nodes by XOR distance to the target and never bad ones', () => {
  const table = new RoutingTable(new Uint8Array(20));
  const ids = Array.from({ length: 40 }, () => new Uint8Array(randomBytes(20)));
  ids.forEach((id, i) => table.add(node(id, i), true));
  const target = new Uint8Array(randomBytes(20));
  const got = table.closest(target, 8);
  assert.equal(got.length, 8);
  for (let i = 1; i < got.length; i++) assert.ok(distance(got[i - 1]!.id, target) <= distance(got[i]!.id, target));
  const held = ids.filter((id) => table.find(id));
  const best = held.sort((a, b) => (distance(a, target) < distance(b, target) ? -1 : 1)).slice(0, 8);
  assert.deepEqual(got.map((x) => Buffer.from(x.id).toString('hex')), best.map((id) => Buffer.from(id).toString('hex')));
  table.failed(got[0]!.id);
  table.failed(got[0]!.id);
  assert.ok(!table.closest(target, 8).some((x) => x.id === got[0]!.id), 'a bad node is not handed out');
});
