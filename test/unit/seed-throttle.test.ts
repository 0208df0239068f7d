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

test('clients that keep retrying too early are banned', () => {
  const t = new SeedThrottle(policy, 0);
  t.decide('a', 2000, 0, 0);
  const first = t.decide('a', 2000, 0, 0);
  assert.ok(!first.ok);
  const early1 = t.decide('a', 10, 0, 100);
  const early2 = t.decide('a', 10, 0, 200);
  assert.ok(!early1.ok && !early2.ok);
  const banned = t.decide('a', 10, 0, 300);
  assert.ok(!banned.ok && banned.retryAfter === 600 && /banned/.test(banned.reason));
  const still = t.decide('a', 10, 0, 5000);
  assert.ok(!still.ok && /banned/.test(still.reason));
  assert.deepEqual(t.decide('a', 10, 0, 601_000), { ok: true }, 'the ban ends');
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
});

test('a request larger than a bucket (a whole-file GET) is served and charged a full bucket', () => {
  const t = new SeedThrottle(policy, 0);
  assert.deepEqual(t.decide('a', 10_000_000, 0, 0), { ok: true });
  assert.ok(!t.decide('a', 1, 0, 0).ok);
});

test('the policy comes from Worker vars, with defaults for missing or bad values', () => {
  const p = seedPolicy({ SEED_CLIENT_RATE: '5000', SEED_THROTTLE_FACTOR: '7', SEED_BAN_SECONDS: 'x' });
  assert.equal(p.clientRate, 5000);
  assert.equal(p.throttleFactor, 1);
  assert.equal(p.banSeconds, 600);
});
