import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeedThrottle, seedPolicy, type SeedPolicy } from '../../worker/seed/seed-throttle.js';

const policy: SeedPolicy = {
  clientRate: 1000,
  totalRate: 3000,
  burstSeconds: 2,
  banStrikes: 3,
  banSeconds: 600,
  throttleAtSeeds: 3,
  throttleFactor: 0.5,
  refuseAtSeeds: 10,
  swarmRetrySeconds: 60,
};

test('per-client limit: a full bucket, then a wait that matches the rate (fake clock)', () => {
  const t = new SeedThrottle(policy, 0);
  assert.deepEqual(t.decide('a', 2000, 0, 0), { ok: true });
  const refused = t.decide('a', 500, 0, 0);
  assert.ok(!refused.ok && refused.retryAfter === 1 && /per-client/.test(refused.reason));
  assert.deepEqual(t.decide('a', 500, 0, 1000), { ok: true }, 'after the wait it was told');
  assert.deepEqual(t.decide('b', 2000, 0, 1000), { ok: true }, 'another client has its own bucket');
});

test('overall limit across clients', () => {
  const t = new SeedThrottle({ ...policy, clientRate: 10_000 }, 0);
  assert.deepEqual(t.decide('a', 4000, 0, 0), { ok: true });
  const refused = t.decide('b', 4000, 0, 0);
  assert.ok(!refused.ok && /edge upload limit/.test(refused.reason));
});

test('clients that keep retrying too early are banned; requests already on their way are not strikes', () => {
  const t = new SeedThrottle({ ...policy, clientRate: 100, burstSeconds: 10 }, 0);
  assert.deepEqual(t.decide('a', 1000, 0, 0, 'x'), { ok: true });
  const first = t.decide('a', 1000, 0, 0, 'x');
  assert.ok(!first.ok && first.retryAfter === 10);
  // Pipelined requests arriving right after the refusal count as nothing.
  for (let ms = 1; ms < 500; ms += 100) assert.ok(!t.decide('a', 10, 0, ms, 'x').ok);
  assert.ok(!t.decide('a', 10, 0, 1000, 'x').ok); // strike 1
  assert.ok(!t.decide('a', 10, 0, 1500, 'x').ok); // within the grace: no strike
  assert.ok(!t.decide('a', 10, 0, 2100, 'x').ok); // strike 2
  const banned = t.decide('a', 10, 0, 3200, 'x'); // strike 3
  assert.ok(!banned.ok && banned.retryAfter === 600 && /banned/.test(banned.reason));
  assert.ok(!t.decide('a', 10, 0, 20_000, 'x').ok, 'still banned after the wait it was first given');
  assert.deepEqual(t.decide('a', 10, 0, 20_000, 'y'), { ok: true }, 'a ban on one torrent says nothing of another');
  assert.deepEqual(t.decide('a', 10, 0, 604_000, 'x'), { ok: true }, 'the ban ends');
});

test('the swarm takes over: fewer bytes with some P2P seeds, none with many', () => {
  const t = new SeedThrottle(policy, 0);
  // With 3 P2P seeds a client gets half the rate: a 1,000-byte bucket instead of 2,000.
  assert.deepEqual(t.decide('a', 1000, 3, 0), { ok: true });
  const slow = t.decide('a', 100, 3, 0);
  assert.ok(!slow.ok && slow.retryAfter === 1);
  assert.deepEqual(t.decide('b', 1000, 0, 0), { ok: true });
  assert.deepEqual(t.decide('b', 1000, 0, 0), { ok: true }, 'without seeds the full 2,000');
  const swarm = t.decide('c', 10, 10, 0);
  assert.ok(!swarm.ok && swarm.retryAfter === 60 && /download from peers/.test(swarm.reason));
  // Sent to the swarm is not the client's fault: asking again soon earns no strike.
  for (let ms = 0; ms < 10_000; ms += 1000) t.decide('c', 10, 10, ms);
  assert.deepEqual(t.decide('c', 10, 0, 10_000), { ok: true });
});

test('a request larger than a bucket (a whole-file GET) is served once the bucket is full, and charged in full', () => {
  const t = new SeedThrottle({ ...policy, totalRate: 1e9 }, 0);
  assert.deepEqual(t.decide('a', 10_000, 0, 0), { ok: true });
  // 10,000 bytes at 1,000 a second: the client owes 8,000 beyond its 2,000 bucket.
  const owed = t.decide('a', 1, 0, 0);
  assert.ok(!owed.ok && owed.retryAfter === 9, `waits ${!owed.ok && owed.retryAfter}`);
  assert.ok(!t.decide('a', 1, 0, 8_000).ok);
  assert.deepEqual(t.decide('a', 1, 0, 9_500), { ok: true });
});

test('the policy comes from Worker vars, with defaults for missing or bad values', () => {
  const p = seedPolicy({ SEED_CLIENT_RATE: '5000', SEED_THROTTLE_FACTOR: '7', SEED_BAN_SECONDS: 'x' });
  assert.equal(p.clientRate, 5000);
  assert.equal(p.throttleFactor, 1);
  assert.equal(p.banSeconds, 600);
});
