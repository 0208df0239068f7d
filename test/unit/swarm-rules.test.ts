import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SwarmRules, type SwarmConfig } from '../../worker/swarm/swarm-rules.js';
import type { AnnounceParams } from '../../shared/tracker/announce-params.js';
import { announceParams, peerIdOf } from '../helpers/announce-params.js';
import { TrackerError } from '../../shared/errors.js';

const config: SwarmConfig = { interval: 900, minInterval: 60, peerTtlMs: 1_860_000, maxPeers: 1000 };
const id = peerIdOf;
const params = announceParams;
const at = (rules: SwarmRules, n: number, over: Partial<AnnounceParams> = {}, now = 0, host = `10.0.0.${n}`) =>
  rules.announce({ params: params(n, over), client: { host }, now });

test('the asker never gets itself; leechers see everyone', () => {
  const rules = new SwarmRules(config);
  assert.equal(at(rules, 1).peers.length, 0);
  at(rules, 2, { left: 0 });
  const r = at(rules, 3);
  assert.deepEqual(ports(r).sort(), [6001, 6002]);
  assert.deepEqual(r.counts, { complete: 1, incomplete: 2, downloaded: 0, downloaders: 2 });
});

test('seeds are not sent to seeds, and partial seeds (BEP 21 paused) get only downloaders', () => {
  const rules = new SwarmRules(config);
  at(rules, 1, { left: 0 });
  at(rules, 2, { left: 0 });
  at(rules, 3, { left: 50, event: 'paused' });
  at(rules, 4, { left: 50 });
  const seed = at(rules, 5, { left: 0 });
  assert.deepEqual(ports(seed), [6004]);
  const partial = at(rules, 3, { left: 50, event: 'paused' });
  assert.deepEqual(ports(partial), [6004]);
  assert.deepEqual(partial.counts, { complete: 3, incomplete: 2, downloaded: 0, downloaders: 1 });
});

test('a completion counts once per peer, however often completed is sent', () => {
  const rules = new SwarmRules(config);
  at(rules, 1);
  at(rules, 1, { left: 0, event: 'completed' });
  at(rules, 1, { left: 0, event: 'completed' });
  at(rules, 1, { left: 0, event: 'none' });
  assert.equal(rules.counts().downloaded, 1);
  // A peer that starts as a seed did not complete here.
  at(rules, 2, { left: 0, event: 'started' });
  assert.equal(rules.counts().downloaded, 1);
  // A client that skips the completed event still counts when left drops to 0.
  at(rules, 3);
  at(rules, 3, { left: 0, event: 'none' });
  assert.equal(rules.counts().downloaded, 2);
});

test('stopped leaves the swarm; the change is reported for persistence', () => {
  const rules = new SwarmRules(config);
  at(rules, 1);
  at(rules, 2);
  const r = at(rules, 1, { event: 'stopped' });
  assert.deepEqual(r.change, { remove: toHexId(1), durable: true });
  assert.equal(rules.size, 1);
  assert.equal(at(rules, 3).peers.length, 1);
});

const ports = (r: { peers: { record: { addresses: { port: number }[] } }[] }) => r.peers.map((p) => p.record.addresses[0]!.port);

function toHexId(n: number): string {
  return Buffer.from(id(n)).toString('hex');
}

test('plain re-announces are batched; joins and state changes are durable', () => {
  const rules = new SwarmRules(config);
  assert.equal(at(rules, 1).change.durable, true);
  assert.equal(at(rules, 1, { event: 'none', uploaded: 5 }).change.durable, false);
  assert.equal(at(rules, 1, { event: 'none', left: 0 }).change.durable, true);
});

test('silent peers expire after the TTL (fake clock: the test sets now)', () => {
  const rules = new SwarmRules({ ...config, peerTtlMs: 1000 });
  at(rules, 1, {}, 0);
  at(rules, 2, {}, 900);
  assert.equal(rules.nextExpiry(), 1000);
  assert.deepEqual(rules.expire(1001), [toHexId(1)]);
  assert.equal(rules.size, 1);
  assert.deepEqual(rules.expire(1900), []);
  assert.deepEqual(rules.expire(1901), [toHexId(2)]);
  assert.equal(rules.nextExpiry(), undefined);
});

test('numwant bounds the sample, and samples are spread over the swarm', () => {
  const rules = new SwarmRules(config);
  for (let n = 1; n <= 100; n++) at(rules, n);
  const seen = new Map<number, number>();
  for (let i = 0; i < 400; i++) {
    const r = at(rules, 101, { numwant: 10, event: 'none' });
    assert.equal(r.peers.length, 10);
    assert.equal(new Set(ports(r)).size, 10);
    for (const port of ports(r)) seen.set(port, (seen.get(port) ?? 0) + 1);
  }
  assert.equal(seen.size, 100, 'every peer was handed out at some point');
  assert.ok(Math.max(...seen.values()) < 80, 'no peer dominates (expected ~40 each)');
});

test('the swarm is capped: newcomers beyond it get peers and a warning but are not stored', () => {
  const rules = new SwarmRules({ ...config, maxPeers: 3 });
  for (let n = 1; n <= 3; n++) at(rules, n);
  const r = at(rules, 4);
  assert.equal(rules.size, 3);
  assert.equal(r.peers.length, 3);
  assert.match(r.warning ?? '', /full/);
  assert.equal(r.change.upsert, undefined);
});

test('a peer id cannot be taken over or stopped from another address without its key', () => {
  const rules = new SwarmRules(config);
  at(rules, 1, { key: 'k1' }, 0, '10.0.0.1');
  assert.throws(() => at(rules, 1, { key: 'other' }, 1, '10.9.9.9'), TrackerError);
  // A stop from elsewhere is ignored (peer ids are public through compact=0 answers).
  at(rules, 1, { event: 'stopped' }, 1, '10.9.9.9');
  assert.equal(rules.size, 1);
  assert.equal(at(rules, 1, { key: 'k1' }, 2, '10.0.0.77').change.upsert?.addresses[0]?.host, '10.0.0.77');
  // A peer that never sent a key cannot be moved at all.
  at(rules, 2, {}, 0, '10.0.0.2');
  assert.throws(() => at(rules, 2, { key: 'mine-now' }, 1, '10.6.6.6'), TrackerError);
});

test('one peer per endpoint: a restarted client with a new peer id replaces its old entry', () => {
  const rules = new SwarmRules(config);
  at(rules, 1, { port: 7000 }, 0, '10.0.0.1');
  const r = at(rules, 2, { port: 7000 }, 1, '10.0.0.1');
  assert.equal(rules.size, 1);
  assert.deepEqual(rules.takeEvicted(), [toHexId(1)]);
  assert.equal(r.peers.length, 0);
});

test('one address may hold only so many peers of a swarm', () => {
  const rules = new SwarmRules({ ...config, maxPeersPerIp: 3 });
  for (let n = 1; n <= 4; n++) at(rules, n, {}, 0, '10.0.0.1');
  assert.equal(rules.size, 3);
  assert.equal(at(rules, 5, {}, 0, '10.0.0.5').change.upsert !== undefined, true);
});

test('a late plain re-announce (answered elsewhere, fake clock) cannot undo a stop or a newer state', () => {
  const rules = new SwarmRules(config);
  at(rules, 1, {}, 100);
  at(rules, 1, { event: 'stopped' }, 200);
  at(rules, 1, { event: 'none' }, 150);
  assert.equal(rules.size, 0, 'the stop stands');
  at(rules, 2, { left: 10 }, 100);
  at(rules, 2, { left: 0, event: 'completed' }, 300);
  at(rules, 2, { left: 10, event: 'none' }, 250);
  assert.equal(rules.counts().complete, 1, 'still a seed');
  at(rules, 2, { left: 0, event: 'none' }, 400);
  assert.equal(rules.counts().downloaded, 1);
});

test('a late re-announce stamped in the same millisecond as an event loses to it (coarse Worker clocks)', () => {
  const rules = new SwarmRules(config);
  at(rules, 2, { left: 10 }, 100);
  at(rules, 2, { left: 0, event: 'completed' }, 300);
  rules.announce({ params: params(2, { left: 5, event: 'none' }), client: { host: '10.0.0.2' }, now: 300, late: true });
  assert.equal(rules.counts().complete, 1, 'still a seed');
  // A direct re-announce in the same millisecond is a real announce and counts.
  at(rules, 2, { left: 5, event: 'none' }, 300);
  assert.equal(rules.counts().complete, 0);
});

test('BEP 3 ip and BEP 7 ipv4/ipv6 are ignored, of either family: a peer is listed only at the address its request came from', () => {
  const rules = new SwarmRules(config);
  // An IPv4 client naming a third party of each family (the reflection attack of the issue).
  const spoofs = [{ host: '2001:db8::9', port: 7000 }, { host: '6.6.6.6', port: 80 }, { host: '2001:db8::1', port: 6001 }];
  at(rules, 1, { otherAddresses: spoofs });
  // An IPv6 client naming an IPv4 third party.
  at(rules, 3, { otherAddresses: [{ host: '203.0.113.9', port: 6003 }] }, 0, '2001:db8::3');
  const r = at(rules, 2);
  const listed = r.peers.map((p) => p.record.addresses.map((a) => `${a.host}|${a.port}`));
  assert.deepEqual(listed.sort(), [['10.0.0.1|6001'], ['2001:db8::3|6003']]);
  // Nothing of the spoofed addresses is in either compact family (BEP 23 / BEP 7).
  const one = r.peers.find((p) => p.record.peerId === toHexId(1))!;
  assert.deepEqual([one.v4?.length, one.v6], [6, undefined]);
  const three = r.peers.find((p) => p.record.peerId === toHexId(3))!;
  assert.deepEqual([three.v4, three.v6?.length], [undefined, 18]);
  // A spoofed endpoint cannot push out the peer listed there either.
  at(rules, 4, { otherAddresses: [{ host: '2001:db8::3', port: 6003 }] });
  assert.ok(at(rules, 5).peers.some((p) => p.record.peerId === toHexId(3)), 'the peer at [2001:db8::3]:6003 is still listed');
  // Records stored by an older version with an extra address are cut to the announcing one.
  const restored = new SwarmRules(config);
  restored.load([{ peerId: toHexId(7), addresses: [{ host: '10.0.0.7', port: 6007 }, { host: '2001:db8::9', port: 7000 }], left: 10, uploaded: 0, downloaded: 0, paused: false, completed: false, lastSeen: 0 }], 0);
  const seen = at(restored, 8);
  assert.deepEqual(seen.peers.map((p) => [p.record.addresses.length, p.v6]), [[1, undefined]]);
});

test('the address the trusted UDP gateway names for a sender is listed, in its family (IPv4 and IPv6)', () => {
  // The gateway's X-Gateway-Client (believed only with its secret) becomes `client.host`.
  const rules = new SwarmRules(config);
  at(rules, 1, {}, 0, '198.51.100.20');
  at(rules, 2, {}, 0, '2001:db8::20');
  const r = at(rules, 3);
  assert.deepEqual(r.peers.map((p) => `${p.record.addresses[0]!.host}|${p.record.addresses[0]!.port}`).sort(), ['198.51.100.20|6001', '2001:db8::20|6002']);
  assert.deepEqual(r.peers.map((p) => (p.v4 ? 4 : 0) + (p.v6 ? 6 : 0)).sort(), [4, 6]);
});
