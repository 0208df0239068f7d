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
  assert.deepEqual(pickEdgePiece(view({ only: [7, 8] })), { index: 7, reason: 'unavailable' });
  assert.deepEqual(pickEdgePiece(view({ only: [7, 8], unavailableReady: (i) => i === 8 })), { index: 8, reason: 'unavailable' });
  assert.equal(pickEdgePiece(view({ only: [7, 8], unavailableReady: () => false })), undefined, 'nobody\'s wait is over: nothing yet');
  assert.equal(pickEdgePiece(view({ only: [7, 8], rarity: () => 1 })), undefined, 'a peer has them: not the edge\'s');
  assert.deepEqual(pickEdgePiece(view({})), { index: 0, reason: 'unavailable' }, 'without a window: any piece');
});
