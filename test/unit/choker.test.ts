import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Choker, type ChokePeer } from '../../peer-node/engine/choker.js';

const peer = (id: string, over: Partial<ChokePeer> = {}): ChokePeer => ({ id, interested: true, downloadRate: 0, uploadRate: 0, connectedAt: 0, lastBlockAt: 1_000_000, weWant: true, ...over });
const seeded = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

test('tit-for-tat: the three that give us most are unchoked, plus one optimistic; the uninterested never', () => {
  const peers = [peer('a', { downloadRate: 50 }), peer('b', { downloadRate: 500 }), peer('c', { downloadRate: 300 }), peer('d', { downloadRate: 100 }), peer('e', { downloadRate: 1 }), peer('x', { downloadRate: 9999, interested: false })];
  const choker = new Choker({ random: seeded(1) });
  const set = choker.rechoke(peers, 1_000_000, false);
  assert.equal(set.size, 4);
  for (const id of ['b', 'c', 'd']) assert.ok(set.has(id), id);
  assert.ok(!set.has('x'));
  assert.ok(['a', 'e'].includes(choker.optimisticPeer!));
});

test('seeding ranks by what peers take; a snubbing peer loses its regular slot', () => {
  const now = 1_000_000;
  const seeding = new Choker({ slots: 2, random: () => 0 }).rechoke([peer('a', { uploadRate: 10 }), peer('b', { uploadRate: 90 }), peer('c', { uploadRate: 50 })], now, true);
  assert.ok(seeding.has('b'));
  const leech = new Choker({ slots: 2, random: () => 0.99 });
  const set = leech.rechoke([peer('fast-but-silent', { downloadRate: 900, lastBlockAt: now - 61_000 }), peer('steady', { downloadRate: 10 })], now, false);
  assert.ok(set.has('steady'));
});

test('the optimistic unchoke moves every third round and favours newcomers', () => {
  const now = 10_000_000;
  const peers = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((id, i) => peer(id, { downloadRate: 100 - i, lastBlockAt: now }));
  const choker = new Choker({ random: seeded(5) });
  const optimistic: string[] = [];
  for (let round = 0; round < 12; round++) {
    choker.rechoke(peers, now + round * 10_000, false);
    optimistic.push(choker.optimisticPeer!);
  }
  for (let r = 0; r < 12; r++) if (r % 3 !== 0) assert.equal(optimistic[r], optimistic[r - 1], `round ${r} keeps it`);
  assert.ok(new Set(optimistic).size > 1, `it rotates: ${optimistic}`);
  // Newcomers (connected under a minute ago) win about three times as often.
  let newcomer = 0;
  const mixed = [...peers.slice(0, 3), peer('old', { connectedAt: 0, lastBlockAt: now }), peer('new', { connectedAt: now - 1_000, lastBlockAt: now })];
  for (let seed = 1; seed <= 400; seed++) {
    const c = new Choker({ random: seeded(seed) });
    c.rechoke(mixed, now, false);
    if (c.optimisticPeer === 'new') newcomer++;
  }
  assert.ok(newcomer > 240 && newcomer < 360, `newcomer chosen ${newcomer} of 400 (expect about 300)`);
});
