/**
 * The source policy, rule by rule: when a piece goes to the edge (deadline, unavailable, rate)
 * and when the edge stays out (peers have it, grace at start, peers keep us busy, the swarm is
 * fast enough).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type EdgeView, pickEdgePiece } from '../../peer-node/engine/source-policy.js';

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

test('unavailable pieces are taken from a random point, so a crowd spreads over them', () => {
  const v = view({ rarity: () => 0 });
  assert.equal(pickEdgePiece({ ...v, random: () => 0.55 })?.index, 5);
  assert.equal(pickEdgePiece({ ...v, random: () => 0.95 })?.index, 9);
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
  const stream = { order: [6, 7], due: () => NOW + 60_000, rate: 100_000, bufferedMs: 1000 };
  assert.deepEqual(pickEdgePiece(view({ stream, peerRate: 50_000 }), { deadlineMarginMs: 1500 }), { index: 6, reason: 'rate' }, 'in playback order');
  assert.equal(pickEdgePiece(view({ stream: { ...stream, bufferedMs: 10_000 }, peerRate: 50_000 }), { deadlineMarginMs: 1500 }), undefined, 'a healthy buffer');
  assert.equal(pickEdgePiece(view({ stream, peerRate: 200_000 }), { deadlineMarginMs: 1500 }), undefined, 'peers fast enough');
});
