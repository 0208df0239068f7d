/** LAYER-CHANGE in the swarm rules (worker/swarm/layer-state.ts, swarm-rules.ts), without Cloudflare. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SwarmRules, type SwarmConfig } from '../../worker/swarm/swarm-rules.js';
import type { AnnounceParams } from '../../shared/tracker/announce-params.js';
import { announceParams, peerIdOf } from '../helpers/announce-params.js';
import { TrackerError } from '../../shared/errors.js';
import { toHex } from '../../shared/bytes.js';

const config: SwarmConfig = { interval: 900, minInterval: 60, peerTtlMs: 1_860_000, maxPeers: 10_000, maxPeersPerIp: 10_000 };
const id = peerIdOf;
const params = announceParams;
const at = (rules: SwarmRules, n: number, over: Partial<AnnounceParams> = {}, now = 0) => rules.announce({ params: params(n, over), client: { host: '10.0.0.1' }, now });
const peersOf = (r: { peers: { record: { addresses: { port: number }[] } }[] }) => r.peers.map((p) => p.record.addresses[0]!.port - 6000);
const sorted = (xs: Iterable<number>) => [...xs].sort((a, b) => a - b);

/** Asserts that every peer of `first` comes before any other, and that the answer is exactly `first` + `rest`. */
function firstThenRest(got: number[], first: number[], rest: number[]): void {
  assert.deepEqual(sorted(got.slice(0, first.length)), sorted(first), `holders first: ${got.join(',')}`);
  assert.deepEqual(sorted(got.slice(first.length)), sorted(rest), `then the rest: ${got.join(',')}`);
}

test('a LAYER-CHANGE to a layer the asset lacks is refused and changes nothing', () => {
  const rules = new SwarmRules(config);
  rules.layers.summary = { layers: 2, mode: 'cumulative' };
  at(rules, 1, { layer: 1 });
  assert.throws(() => at(rules, 1, { layer: 2, left: 0, event: 'completed' }, 5), (e: unknown) => e instanceof TrackerError && e.message === 'layer 2 does not exist (the asset has 2 layers)');
  assert.throws(() => at(rules, 2, { layer: 7 }), TrackerError);
  assert.deepEqual(rules.activeLayers(), { peers: 1, byLayer: { 1: 1 } });
  assert.deepEqual(rules.counts(), { complete: 0, incomplete: 1, downloaded: 0, downloaders: 1 }, 'not completed either');
});

test('the active layer stays across announces without one; a change is written at once', () => {
  const rules = new SwarmRules(config);
  assert.equal(at(rules, 1, { layer: 3 }).change.upsert?.layer, 3);
  const plain = at(rules, 1, { event: 'none' }, 10);
  assert.equal(plain.change.upsert?.layer, 3);
  assert.equal(plain.change.durable, false, 'a plain re-announce may be batched');
  const moved = at(rules, 1, { event: 'none', layer: 4 }, 20);
  assert.equal(moved.change.durable, true);
  assert.deepEqual(rules.activeLayers(), { peers: 1, byLayer: { 4: 1 } });
});

test('cumulative: peers at the asker layer or above, and seeds, come first', () => {
  for (let round = 0; round < 20; round++) {
    const rules = new SwarmRules(config);
    at(rules, 1, { layer: 0 });
    at(rules, 2, { layer: 1 });
    at(rules, 3, { layer: 2 });
    at(rules, 4);
    at(rules, 5, { left: 0 }); // a seed holds every layer, whatever it plays
    at(rules, 6, { layer: 0, left: 0 });
    at(rules, 7, { layer: 1, left: 50, event: 'paused' });
    at(rules, 8, { layer: 0, left: 50, event: 'paused' });
    firstThenRest(peersOf(at(rules, 9, { layer: 1 })), [2, 3, 5, 6, 7], [1, 4, 8]);
    const few = peersOf(at(rules, 9, { layer: 1, numwant: 3 }));
    assert.equal(few.length, 3);
    assert.ok(few.every((p) => [2, 3, 5, 6, 7].includes(p)), `only holders when they fill numwant: ${few}`);
  }
});

test('simulcast: only peers at the same layer (and seeds) come first', () => {
  const rules = new SwarmRules(config);
  rules.layers.summary = { layers: 3, mode: 'simulcast' };
  at(rules, 1, { layer: 0 });
  at(rules, 2, { layer: 1 });
  at(rules, 3, { layer: 2 });
  at(rules, 4, { left: 0 });
  firstThenRest(peersOf(at(rules, 9, { layer: 1 })), [2, 4], [1, 3]);
});

test('an asker that only uploads gets downloaders only, those that play its layer first', () => {
  const rules = new SwarmRules(config);
  at(rules, 1, { layer: 0 });
  at(rules, 2, { layer: 2 });
  at(rules, 3);
  at(rules, 4, { left: 0 });
  at(rules, 5, { layer: 2, left: 50, event: 'paused' });
  firstThenRest(peersOf(at(rules, 9, { layer: 2, left: 0 })), [2], [1, 3]);
  firstThenRest(peersOf(at(rules, 8, { layer: 2, left: 50, event: 'paused' })), [2], [1, 3]);
});

test('a large swarm: the few holders first, then a distinct random sample of the rest, never the asker', () => {
  const rules = new SwarmRules(config);
  for (let n = 1; n <= 300; n++) at(rules, n, { layer: 0 });
  for (let n = 1001; n <= 1010; n++) at(rules, n, { layer: 2 });
  for (let round = 0; round < 20; round++) {
    const got = peersOf(at(rules, 1001, { layer: 2, event: 'none' }, round));
    assert.equal(got.length, 50);
    assert.equal(new Set(got).size, 50);
    assert.ok(!got.includes(1001));
    assert.deepEqual(sorted(got.slice(0, 9)), [1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010]);
    assert.ok(got.slice(9).every((p) => p <= 300));
  }
});

test('peers that leave or expire leave their layer count; a restored swarm counts again', () => {
  const rules = new SwarmRules(config);
  at(rules, 1, { layer: 0 }, 0);
  at(rules, 2, { layer: 1 }, 1_000_000);
  at(rules, 3, { layer: 1 }, 1_000_000);
  at(rules, 3, { event: 'stopped' }, 1_000_001);
  assert.deepEqual(rules.activeLayers(), { peers: 2, byLayer: { 0: 1, 1: 1 } });
  assert.deepEqual(rules.expire(1_860_001), [toHex(id(1))]);
  assert.deepEqual(rules.activeLayers(), { peers: 1, byLayer: { 1: 1 } });
  const restored = new SwarmRules(config);
  restored.load([{ peerId: 'aa', addresses: [{ host: '10.0.0.2', port: 1 }], left: 0, uploaded: 0, downloaded: 0, paused: false, completed: false, lastSeen: 0, layer: 5 }], 0);
  assert.deepEqual(restored.activeLayers(), { peers: 1, byLayer: { 5: 1 } });
});
