import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TorrentGeometry } from '../../shared/metainfo/geometry.js';
import { PiecePicker } from '../../peer-node/engine/piece-picker.js';
import { seeded } from '../helpers/seeded.js';

const BLOCK = 16 * 1024;
// 8 pieces of 2 blocks; the last piece is one short block.
const geometry = new TorrentGeometry({ pieceLength: 2 * BLOCK, files: [{ length: 7 * 2 * BLOCK + 100 }] });
const all = () => true;

test('random first pieces spread peers out; after that the rarest piece comes first', () => {
  const firsts = new Set<number>();
  for (let seed = 1; seed <= 20; seed++) {
    const p = new PiecePicker(geometry, { random: seeded(seed) });
    firsts.add(p.pick(all, 1)[0]!.index);
  }
  assert.ok(firsts.size >= 4, `first pieces over 20 pickers: ${[...firsts]}`);

  const p = new PiecePicker(geometry, { random: seeded(7) });
  for (let i = 0; i < 8; i++) for (let k = 0; k < 8 - i; k++) p.peerHas(i, 1); // piece 7 is rarest
  for (const i of [0, 1, 2, 3]) p.markHave(i);
  assert.deepEqual(p.pick(all, 1), [{ index: 7, begin: 0, length: 100 }]);
  // Pieces the peer lacks are never picked; unwanted pieces neither.
  p.setWanted(6, false);
  assert.deepEqual(p.pick((i) => i !== 5, 4).map((b) => b.index), [4, 4]);
});

test('started pieces are finished before new ones are opened; released blocks are asked again', () => {
  // Every piece two blocks long, so the random first piece has a second block whatever the draw.
  const even = new TorrentGeometry({ pieceLength: 2 * BLOCK, files: [{ length: 8 * 2 * BLOCK }] });
  const p = new PiecePicker(even, { randomFirst: 0, random: seeded(3) });
  const first = p.pick(all, 1);
  assert.equal(first.length, 1);
  const next = p.pick(all, 1);
  assert.deepEqual(next, [{ index: first[0]!.index, begin: BLOCK, length: BLOCK }], 'the second block of the same piece');
  p.released(first[0]!);
  assert.deepEqual(p.pick(all, 1), first, 'a released block is free again');
});

test('endgame: when every missing block is requested, a second peer may ask for blocks in flight; the piece completes once', () => {
  const small = new TorrentGeometry({ pieceLength: 2 * BLOCK, files: [{ length: 2 * BLOCK }] });
  const p = new PiecePicker(small, { randomFirst: 0 });
  const a = p.pick(all, 10);
  assert.equal(a.length, 2);
  assert.equal(p.inEndgame, true);
  const mineA = (b: { begin: number }) => a.some((x) => x.begin === b.begin);
  assert.deepEqual(p.pick(all, 10, mineA), [], 'the same peer is never asked twice for a block');
  const b = p.pick(all, 10);
  assert.deepEqual(b, a, 'another peer gets the in-flight blocks');
  assert.deepEqual(p.pick(all, 10), [], 'at most two holders per block');
  assert.equal(p.received(a[0]!), false);
  assert.equal(p.received(b[0]!), false, 'a duplicate arrival does not count twice');
  assert.equal(p.received(a[1]!), true);
  p.markHave(0);
  assert.equal(p.complete, true);
});
