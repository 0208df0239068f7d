import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Choker, type ChokePeer } from '../../peer-node/engine/choker.js';
import { seeded } from '../helpers/seeded.js';

const peer = (id: string, over: Partial<ChokePeer> = {}): ChokePeer => ({ id, interested: true, downloadRate: 0, uploadRate: 0, connectedAt: 0, lastBlockAt: 1_000_000, weWant: true, ...over });

test('tit-for-tat: the three that give us most are unchoked, plus one optimistic; the uninterested never', () => {
  const peers = [peer('a', { downloadRate: 50 }), peer('b', { downloadRate: 500 }), peer('c', { downloadRate: 300 }), peer('d', { downloadRate: 100 }), peer('e', { downloadRate: 1 }), peer('x', { downloadRate: 9999, interested: false })];
  const choker = new Choker({ random: seeded(1) });
  const set = choker.rechoke(peers, 1_000_000, false);
  assert.equal(set.size, 4);
  for (const id of ['b', 'c', 'd']) assert.ok(set.has(id), id);
  assert.ok(!set.has('x'));
  assert.ok(['a', 'e'].includes(choker.optimisticPeer!));
});

test('a snubbing peer loses its regular slot', () => {
  const now = 1_000_000;
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

test('seeding: regular slots go round robin, each peer one turn, never-unchoked first, whatever it takes', () => {
  const choker = new Choker({ slots: 4, random: seeded(3) });
  const ids = Array.from({ length: 30 }, (_, i) => `p${i}`);
  const state = new Map(ids.map((id) => [id, { unchoked: false, unchokedAt: undefined as number | undefined }]));
  const regularTurns = new Map(ids.map((id) => [id, 0]));
  let now = 1_000_000;
  for (let round = 0; round < 30; round++, now += 10_000) {
    // p0 takes ten times what the others take: under the old rule it kept its slot for good.
    const peers = ids.map((id) => ({ ...peer(id, { uploadRate: id === 'p0' ? 1000 : 100 }), unchoked: state.get(id)!.unchoked, ...(state.get(id)!.unchokedAt !== undefined ? { unchokedAt: state.get(id)!.unchokedAt } : {}) }));
    const set = choker.rechoke(peers, now, true);
    assert.equal(set.size, 4);
    for (const id of ids) {
      const st = state.get(id)!;
      if (set.has(id) && !st.unchoked) st.unchokedAt = now;
      st.unchoked = set.has(id);
      if (set.has(id) && id !== choker.optimisticPeer) regularTurns.set(id, regularTurns.get(id)! + 1);
    }
  }
  // 30 rounds x 3 regular slots = 90 turns over 30 peers: each peer 3, in rotation.
  for (const [id, n] of regularTurns) assert.ok(n >= 2 && n <= 4, `${id} had ${n} regular turns`);
});

test('seeding: a peer unchoked mid-round (a free slot) keeps its slot until its turn is over', () => {
  const now = 1_000_000;
  const choker = new Choker({ slots: 2, random: () => 0.5 });
  const set = choker.rechoke([peer('fresh', { unchoked: true, unchokedAt: now - 2_000 }), peer('never'), peer('old', { unchokedAt: now - 50_000 })], now, true);
  assert.ok(set.has('fresh'), 'mid-turn');
  const later = choker.rechoke([peer('fresh', { unchoked: true, unchokedAt: now - 2_000 }), peer('never'), peer('old', { unchokedAt: now - 50_000 })], now + 10_000, true);
  assert.ok(!later.has('fresh') || choker.optimisticPeer === 'fresh', 'its turn is over');
  assert.ok(later.has('never'), 'a peer never unchoked comes first');
});
