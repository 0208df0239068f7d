/**
 * The dashboard's pure parts: how peer-reported bytes are counted (SwarmRules.peerBytes), the
 * bounded time series, and the publisher's peer summary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SwarmRules, type SwarmConfig } from '../../worker/swarm/swarm-rules.js';
import type { AnnounceParams } from '../../shared/tracker/announce-params.js';
import { announceParams } from '../helpers/announce-params.js';
import { MAX_SAMPLES, SAMPLE_BUCKET_MS, TrafficSeries } from '../../worker/stats/traffic-series.js';
import { clientOf, summarizePeers } from '../../worker/stats/peer-summary.js';
import { offloadOf } from '../../worker/stats/swarm-stats.js';
import { toHex } from '../../shared/bytes.js';

const config: SwarmConfig = { interval: 900, minInterval: 60, peerTtlMs: 1_860_000, maxPeers: 3 };
const at = (rules: SwarmRules, n: number, over: Partial<AnnounceParams>, now: number) =>
  rules.announce({ params: announceParams(n, { event: 'none', ...over }), client: { host: `10.0.0.${n}` }, now });

test('peer bytes: a first announce is a baseline, rises count, a reset starts a new baseline, a stop counts', () => {
  const rules = new SwarmRules(config);
  assert.equal(at(rules, 1, { uploaded: 5000, event: 'started' }, 1).change.uploaded, undefined);
  assert.equal(at(rules, 1, { uploaded: 5600 }, 2).change.uploaded, 600);
  assert.equal(at(rules, 1, { uploaded: 5600 }, 3).change.uploaded, undefined);
  assert.equal(at(rules, 1, { uploaded: 100 }, 4).change.uploaded, undefined, 'a client that restarted its counter');
  assert.equal(at(rules, 1, { uploaded: 130 }, 5).change.uploaded, 30);
  assert.equal(at(rules, 1, { uploaded: 200, event: 'stopped' }, 6).change.uploaded, 70);
  assert.equal(rules.peerBytes, 700);
  // Back after the stop: a baseline again.
  at(rules, 1, { uploaded: 9999, event: 'started' }, 7);
  assert.equal(rules.peerBytes, 700);
});

test('peer bytes: a stale late re-announce and a peer that is not stored count nothing', () => {
  const rules = new SwarmRules(config);
  at(rules, 1, { uploaded: 0, event: 'started' }, 10);
  at(rules, 1, { uploaded: 50 }, 20);
  // Answered elsewhere before the announce at 20, applied after it: ignored.
  const late = rules.announce({ params: announceParams(1, { event: 'none', uploaded: 40 }), client: { host: '10.0.0.1' }, now: 15, late: true });
  assert.equal(late.change.uploaded, undefined);
  assert.equal(rules.peerBytes, 50);
  at(rules, 2, {}, 30);
  at(rules, 3, {}, 30);
  // The swarm is full (maxPeers 3): peer 4 gets peers but is not listed, so it has no baseline.
  at(rules, 4, { uploaded: 10 }, 40);
  at(rules, 4, { uploaded: 1000 }, 50);
  assert.equal(rules.peerBytes, 50);
  // A restart of the object loads the stored figure.
  const reloaded = new SwarmRules(config);
  reloaded.load([...rules.records()], rules.downloaded, rules.peerBytes);
  assert.equal(reloaded.peerBytes, 50);
  assert.equal(reloaded.announce({ params: announceParams(1, { event: 'none', uploaded: 80 }), client: { host: '10.0.0.1' }, now: 60 }).change.uploaded, 30);
});

test('the time series keeps one sample per 10 s bucket, at most MAX_SAMPLES, oldest dropped', () => {
  const series = new TrafficSeries();
  const figures = (n: number) => ({ seeds: n, leechers: n, edgeBytes: n, peerBytes: n });
  assert.deepEqual(series.record(12_345, figures(1)), { sample: { t: 10_000, ...figures(1) } });
  series.record(19_999, figures(2));
  assert.deepEqual(series.toArray(), [{ t: 10_000, ...figures(2) }], 'the same bucket is overwritten');
  // A clock that steps back writes into the latest bucket.
  series.record(5_000, figures(3));
  assert.deepEqual(series.toArray(), [{ t: 10_000, ...figures(3) }]);
  let keptFrom: number | undefined;
  for (let i = 1; i <= MAX_SAMPLES; i++) keptFrom = series.record(10_000 + i * SAMPLE_BUCKET_MS, figures(i)).keptFrom ?? keptFrom;
  assert.equal(series.length, MAX_SAMPLES);
  assert.equal(keptFrom, 20_000, 'the first bucket fell out');
  assert.equal(series.toArray()[0]!.t, 20_000);
  const loaded = new TrafficSeries([...series.toArray(), { t: 0, ...figures(0) }].reverse());
  assert.equal(loaded.length, MAX_SAMPLES, 'loading is bounded and ordered');
  assert.equal(loaded.toArray()[0]!.t, 20_000);
});

test('the publisher summary: families, client prefixes, passkey users, partial seeds', () => {
  const hex = (text: string) => toHex(new TextEncoder().encode(text.padEnd(20, '0')));
  assert.equal(clientOf(hex('-qB4650-')), '-qB4650-');
  assert.equal(clientOf(hex('-TR3000-')), '-TR3000-');
  assert.equal(clientOf(hex('M7-2-2--')), 'other');
  assert.equal(clientOf(hex('<script>')), 'other');
  const peer = (id: string, hosts: string[], extra: { user?: string; paused?: boolean } = {}) => ({
    peerId: hex(id), addresses: hosts.map((host) => ({ host, port: 1 })), left: 1, uploaded: 0, downloaded: 0, paused: extra.paused ?? false, completed: false, lastSeen: 0,
    ...(extra.user !== undefined ? { user: extra.user } : {}),
  });
  const summary = summarizePeers([
    peer('-qB4650-a', ['10.0.0.1', '2001:db8::1'], { user: 'alice' }),
    peer('-qB4650-b', ['10.0.0.2'], { user: 'alice', paused: true }),
    peer('-TR3000-c', ['2001:db8::2'], { user: 'bob' }),
    peer('xxxxxxxxx', ['10.0.0.3']),
  ]);
  assert.deepEqual(summary, { ipv4: 3, ipv6: 2, clients: { '-qB4650-': 2, '-TR3000-': 1, other: 1 }, users: 2, partialSeeds: 1 });
  assert.equal(offloadOf(0, 0), null);
  assert.equal(offloadOf(300, 100), 0.75);
});
