/**
 * The source policy, rule by rule: when a piece goes to the edge (deadline, unavailable, rate)
 * and when the edge stays out (peers have it, grace at start, peers keep us busy, the swarm is
 * fast enough).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type EdgeView, pickEdgePiece } from '../../peer-node/engine/source-policy.js';
import { seeded } from '../helpers/seeded.js';

const NOW = 100_000;

/** Ten pieces, all wanted, every one held by two peers, nothing started, long after start. */
function view(over: Partial<EdgeView> = {}): EdgeView {
  return {
    now: NOW,
    startedAt: 0,
    pieceCount: 10,
    wants: () => true,
    rarity: () => 2,
    started: () => false,
    fetching: () => false,
    peerRate: 1e6,
    starved: false,
    edgeInFlight: 0,
    random: () => 0,
    ...over,
  };
}

test('peers have everything and keep up: the edge is not used', () => {
  assert.equal(pickEdgePiece(view()), undefined);
  assert.equal(pickEdgePiece(view({ starved: true })), undefined);
});

test('a piece no connected peer has goes to the edge, but not during the grace after start', () => {
  const v = view({ rarity: (i) => (i === 7 ? 0 : 2) });
  assert.deepEqual(pickEdgePiece(v), { index: 7, reason: 'unavailable' });
  assert.equal(pickEdgePiece({ ...v, startedAt: NOW - 500 }, { graceMs: 2000 }), undefined);
  assert.equal(pickEdgePiece({ ...v, fetching: (i) => i === 7 }), undefined, 'not twice');
  assert.equal(pickEdgePiece({ ...v, wants: (i) => i !== 7 }), undefined, 'not a piece we have');
});

test('while peers keep us busy, one unavailable piece at a time; starved, as many as the slots', () => {
  const v = view({ rarity: (i) => (i < 5 ? 0 : 2), edgeInFlight: 1 });
  assert.equal(pickEdgePiece(v), undefined);
  assert.equal(pickEdgePiece({ ...v, starved: true })?.reason, 'unavailable');
});

test('unavailable pieces are drawn uniformly, even where the crowd holds a long run before them', () => {
  // Pieces 0-5 are held (a streaming crowd holds the start); 6-9 are missing. Drawn from a
  // random starting point, piece 6 came up 70% of the time and the crowd fetched it together.
  const random = seeded(7);
  const counts = new Map<number, number>();
  for (let k = 0; k < 4000; k++) {
    const index = pickEdgePiece(view({ rarity: (i) => (i < 6 ? 2 : 0), random }))!.index;
    counts.set(index, (counts.get(index) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort(), [6, 7, 8, 9]);
  for (const [index, n] of counts) assert.ok(n > 850 && n < 1150, `piece ${index}: ${n} of 4000`);
});

test('with inject ranks, the pieces we are first for are drawn uniformly over the whole window, not its first few', () => {
  const only = Array.from({ length: 40 }, (_, k) => 100 + k);
  const random = seeded(11);
  const counts = new Map<number, number>();
  for (let k = 0; k < 8000; k++) {
    const index = pickEdgePiece(view({ pieceCount: 200, rarity: () => 0, only, injectRank: () => 0, random }))!.index;
    counts.set(index, (counts.get(index) ?? 0) + 1);
  }
  assert.equal(counts.size, 40, 'every piece of the window comes up');
  for (const [index, n] of counts) assert.ok(n > 120 && n < 280, `piece ${index}: ${n} of 8000`);
});

test('a piece a peer is fetching from the edge (pp_fetching) is not fetched again as missing or for the rate; its deadline waits half the margin', () => {
  const coming = (i: number) => i === 7;
  assert.equal(pickEdgePiece(view({ rarity: (i) => (i === 7 ? 0 : 2), coming })), undefined, 'its HAVE is due soon');
  assert.equal(pickEdgePiece(view({ rarity: (i) => (i === 7 ? 0 : 2), coming: () => false }))?.index, 7);
  assert.equal(pickEdgePiece(view({ peerRate: 0, wants: (i) => i === 7, coming }), { neededRate: 100_000 }), undefined, 'not for the rate either');
  const stream = { order: [7], due: () => NOW + 1000, rate: 1e5, bufferedMs: 10_000 };
  assert.equal(pickEdgePiece(view({ stream, coming }), { deadlineMarginMs: 1500 }), undefined, '1 s left > 0.75 s');
  assert.deepEqual(pickEdgePiece(view({ stream, coming, now: NOW + 300 }), { deadlineMarginMs: 1500 }), { index: 7, reason: 'deadline' }, '0.7 s left: the edge');
});

test('a streaming piece due within the margin goes to the edge even though peers have it; one peers are sending gets half the margin', () => {
  const stream = { order: [3, 4, 5], due: (i: number) => NOW + (i - 3) * 1000 + 1000, rate: 1e5, bufferedMs: 10_000 };
  // Piece 3 is due in 1 s, piece 4 in 2 s.
  assert.deepEqual(pickEdgePiece(view({ stream }), { deadlineMarginMs: 1500 }), { index: 3, reason: 'deadline' });
  assert.equal(pickEdgePiece(view({ stream, started: (i) => i === 3 }), { deadlineMarginMs: 1500 }), undefined, '1 s left > 0.75 s: the peer may finish it');
  assert.equal(pickEdgePiece(view({ stream, started: (i) => i === 3, now: NOW + 300 }), { deadlineMarginMs: 1500 })?.index, 3, '0.7 s left: the edge');
  assert.equal(pickEdgePiece(view({ stream, startedAt: NOW }), { deadlineMarginMs: 1500, graceMs: 2000 })?.reason, 'deadline', 'deadlines ignore the grace');
});

test('the rate rule: a download slower than neededRate, or a stream with a thin buffer and slow peers, gets pieces no peer has started', () => {
  assert.equal(pickEdgePiece(view({ peerRate: 50_000 }), { neededRate: 100_000 })?.reason, 'rate');
  assert.equal(pickEdgePiece(view({ peerRate: 150_000 }), { neededRate: 100_000 }), undefined);
  assert.equal(pickEdgePiece(view({ peerRate: 50_000, started: () => true }), { neededRate: 100_000 }), undefined, 'peers are on every piece');
  const stream = { order: [6, 7], due: () => NOW + 60_000, rate: 100_000, bufferedMs: 500 };
  assert.deepEqual(pickEdgePiece(view({ stream, peerRate: 50_000 }), { deadlineMarginMs: 1500 }), { index: 6, reason: 'rate' }, 'in playback order');
  assert.equal(pickEdgePiece(view({ stream: { ...stream, bufferedMs: 10_000 }, peerRate: 50_000 }), { deadlineMarginMs: 1500 }), undefined, 'a healthy buffer');
  assert.equal(pickEdgePiece(view({ stream, peerRate: 200_000 }), { deadlineMarginMs: 1500 }), undefined, 'peers fast enough');
  // The buffer threshold is rateBufferMs (default 1 s), not two deadline margins.
  assert.equal(pickEdgePiece(view({ stream: { ...stream, bufferedMs: 1200 }, peerRate: 50_000 })), undefined, '1.2 s buffered: peers may still catch up');
  assert.equal(pickEdgePiece(view({ stream: { ...stream, bufferedMs: 2000 }, peerRate: 50_000 }), { rateBufferMs: 3000 })?.reason, 'rate', 'a larger threshold');
  assert.equal(pickEdgePiece(view({ stream: { ...stream, bufferedMs: 2000 }, peerRate: 50_000 })), undefined, '2 s buffered by default');
});
