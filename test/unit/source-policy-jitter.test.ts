/** The source policy's wait before a piece no peer has goes to the edge (layered streams). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickEdgePiece, type EdgeView } from '../../peer-node/engine/source-policy.js';

const view = (over: Partial<EdgeView>): EdgeView => ({
  now: 10_000,
  startedAt: 0,
  pieceCount: 10,
  wants: () => true,
  rarity: () => 0,
  started: () => false,
  fetching: () => false,
  peerRate: 0,
  starved: false,
  edgeInFlight: 0,
  random: () => 0,
  ...over,
});

test('source policy: an exclusive window sends the edge only its own pieces, and only those whose wait is over', () => {
  for (const random of [() => 0, () => 0.99]) {
    const pick = pickEdgePiece(view({ only: [7, 8], random }));
    assert.ok(pick && [7, 8].includes(pick.index) && pick.reason === 'unavailable', JSON.stringify(pick));
  }
  assert.deepEqual(pickEdgePiece(view({ only: [7, 8], unavailableReady: (i) => i === 8 })), { index: 8, reason: 'unavailable' });
  assert.equal(pickEdgePiece(view({ only: [7, 8], unavailableReady: () => false })), undefined, 'nobody\'s wait is over: nothing yet');
  assert.equal(pickEdgePiece(view({ only: [7, 8], rarity: () => 1 })), undefined, 'a peer has them: not the edge\'s');
  assert.equal(pickEdgePiece(view({}))?.reason, 'unavailable', 'without a window: any piece');
});

test('source policy: with inject ranks, the piece we are first for goes first, even beside other edge fetches', () => {
  const ranks: Record<number, number> = { 3: 2, 5: 0, 6: 1 };
  const only = [3, 5, 6];
  const injectRank = (i: number) => ranks[i]!;
  for (const start of [0, 0.34, 0.67, 0.99]) {
    assert.deepEqual(pickEdgePiece(view({ only, injectRank, random: () => start })), { index: 5, reason: 'unavailable' }, `rank 0 before the others, random start ${start}`);
  }
  assert.deepEqual(pickEdgePiece(view({ only, injectRank, edgeInFlight: 2 })), { index: 5, reason: 'unavailable' }, 'nobody else will fetch it soon: at once');
  assert.equal(pickEdgePiece(view({ only, injectRank, edgeInFlight: 3 })), undefined, 'but one of the 4 slots stays free for a deadline');
  const fetching = (i: number) => i === 5;
  assert.equal(pickEdgePiece(view({ only, injectRank, fetching, edgeInFlight: 1 })), undefined, 'a later rank waits while peers keep us busy and an edge fetch runs');
  assert.deepEqual(pickEdgePiece(view({ only, injectRank, fetching, edgeInFlight: 1, starved: true })), { index: 6, reason: 'unavailable' }, 'starved: the next best rank');
  assert.deepEqual(pickEdgePiece(view({ only, injectRank, fetching })), { index: 6, reason: 'unavailable' }, 'no edge fetch running: the next best rank');
});
