import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextAnnounceMs, TrackerTiers } from '../../peer-node/tracker/tracker-tiers.js';
import { seeded } from '../helpers/seeded.js';


test('BEP 12: tiers in order, each shuffled once; a tracker that answers leads its tier', () => {
  const list = [['http://a/announce', 'http://b/announce', 'udp://c:80'], ['http://d/announce']];
  const orders = new Set<string>();
  for (let s = 1; s <= 30; s++) orders.add(new TrackerTiers(list, undefined, seeded(s)).tiers[0]!.join(' '));
  assert.ok(orders.size > 1, 'the first tier is shuffled');
  const t = new TrackerTiers(list, undefined, seeded(1));
  assert.equal(t.order().at(-1), 'http://d/announce', 'the second tier comes after the whole first');
  t.succeeded('udp://c:80');
  assert.equal(t.order()[0], 'udp://c:80');
  t.succeeded('http://d/announce');
  assert.equal(t.order()[0], 'udp://c:80', 'success never moves a tracker across tiers');
});

test('announce alone is one tier; duplicates and unknown schemes are left out', () => {
  assert.deepEqual(new TrackerTiers(undefined, 'http://x/announce').order(), ['http://x/announce']);
  assert.deepEqual(new TrackerTiers([['wss://w', 'http://y/announce'], ['http://y/announce']], 'http://z').order(), ['http://y/announce']);
  assert.deepEqual(new TrackerTiers([], undefined).order(), []);
});

test('waiting: interval with min interval as the floor; BEP 31 retry in; doubling backoff; never drops', () => {
  assert.equal(nextAnnounceMs(900, 60), 900_000);
  assert.equal(nextAnnounceMs(30, 60), 60_000);
  const t = new TrackerTiers([['http://a/announce', 'http://b/announce']], undefined);
  assert.equal(t.failed('http://a/announce'), 15_000);
  assert.equal(t.failed('http://a/announce'), 30_000);
  assert.equal(t.failed('http://a/announce', 5), 300_000, 'retry in is minutes');
  for (let i = 0; i < 20; i++) t.failed('http://a/announce');
  assert.equal(t.failed('http://a/announce'), 30 * 60_000, 'capped at 30 minutes');
  t.succeeded('http://a/announce');
  assert.equal(t.failed('http://a/announce'), 15_000, 'a success resets the backoff');
  assert.equal(t.failed('http://b/announce', 'never'), undefined);
  assert.deepEqual(t.order(), ['http://a/announce']);
});
