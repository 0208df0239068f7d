/**
 * Rendezvous hashing for the edge's missing pieces: every viewer computes the same order, so for
 * each piece exactly one viewer of a crowd is first, the others agree on who, and the first
 * places are spread evenly over the crowd.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { injectScore, rankAmong } from '../../peer-node/engine/inject-rank.js';
import { generatePeerId } from '../../shared/peer-id.js';

const ids = Array.from({ length: 12 }, () => generatePeerId());

test('inject rank: for every piece the crowd\'s ranks are 0..n-1, each viewer ranking itself against the others', () => {
  for (let piece = 0; piece < 500; piece++) {
    const ranks = ids.map((ours, k) => rankAmong(piece, ours, ids.filter((_, j) => j !== k)));
    assert.deepEqual([...ranks].sort((a, b) => a - b), [...ids.keys()], `piece ${piece}: ranks ${ranks}`);
  }
});

test('inject rank: first places spread over the crowd; a peer id differing in one byte scores differently', () => {
  const firsts = new Array<number>(ids.length).fill(0);
  const pieces = 2400;
  for (let piece = 0; piece < pieces; piece++) firsts[ids.findIndex((ours, k) => rankAmong(piece, ours, ids.filter((_, j) => j !== k)) === 0)]!++;
  const fair = pieces / ids.length;
  for (const [k, n] of firsts.entries()) assert.ok(n > fair / 2 && n < fair * 2, `viewer ${k} first for ${n} of ${pieces} pieces (fair ${fair})`);
  const other = Uint8Array.from(ids[0]!);
  other[3]! ^= 1; // the client prefix, not the random tail: all 20 bytes count
  assert.notEqual(injectScore(7, other), injectScore(7, ids[0]!));
  assert.equal(injectScore(7, Uint8Array.from(ids[0]!)), injectScore(7, ids[0]!), 'the same on every peer that computes it');
});
