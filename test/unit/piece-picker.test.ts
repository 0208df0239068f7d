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

test('streaming focus: the most urgent pieces in order, the rest of the window rarest first with ties drawn at random', () => {
  const even = new TorrentGeometry({ pieceLength: 2 * BLOCK, files: [{ length: 8 * 2 * BLOCK }] });
  const pieceOrder = (seed: number) => {
    const p = new PiecePicker(even, { randomFirst: 0, random: seeded(seed) });
    for (let i = 0; i < 8; i++) for (let k = 0; k < (i === 6 ? 1 : 3); k++) p.peerHas(i, 1); // piece 6 is rarest
    // Window: pieces 2-7, the first two in order; nothing duplicated (urgent 0).
    p.setFocus([2, 3, 4, 5, 6, 7], 0, false, 2);
    const order: number[] = [];
    for (let n = 0; n < 6; n++) {
      const blocks = p.pick(all, 2);
      assert.equal(blocks.length, 2);
      assert.equal(blocks[0]!.index, blocks[1]!.index, 'one whole piece a pick');
      order.push(blocks[0]!.index);
    }
    return order;
  };
  const orders = [1, 2, 3, 4, 5, 6, 7, 8].map(pieceOrder);
  for (const o of orders) {
    assert.deepEqual(o.slice(0, 3), [2, 3, 6], 'the in-order head, then the rarest');
    assert.deepEqual([...o.slice(3)].sort(), [4, 5, 7], 'then the rest of the window');
  }
  assert.ok(new Set(orders.map((o) => o[3])).size >= 2, `ties are drawn at random: ${orders.map((o) => o[3])}`);
  // Among equally rare pieces: the order holds from one refresh to the next, and a piece begun
  // comes before the others (it is passed on only once whole).
  const tail = (seed: number) => {
    const p = new PiecePicker(even, { randomFirst: 0, random: seeded(seed) });
    for (let i = 0; i < 8; i++) p.peerHas(i, 1);
    p.setFocus([0, 1, 2, 3, 4, 5, 6, 7], 0, false, 0);
    return p;
  };
  for (const seed of [1, 2, 3]) {
    const fresh = tail(seed);
    const order = [0, 1, 2, 3, 4, 5, 6, 7].map(() => fresh.pick(all, 2)[0]!.index);
    const p = tail(seed);
    const last = order.at(-1)!;
    assert.deepEqual(p.pick((i) => i === last, 1).map((b) => b.index), [last], 'one block of the last piece begun');
    p.setFocus([0, 1, 2, 3, 4, 5, 6, 7], 0, false, 0);
    assert.deepEqual(p.pick(all, 1), [{ index: last, begin: BLOCK, length: BLOCK }], 'the begun piece first');
    assert.deepEqual(p.pick(all, 2).map((b) => b.index), [order[0], order[0]], 'then the same order as before the refresh');
  }
  // Different viewers walk a window of equals in different orders: over 40 pickers the first
  // piece of a 32-piece window is spread out.
  const wide = new TorrentGeometry({ pieceLength: BLOCK, files: [{ length: 32 * BLOCK }] });
  const firstPicks = new Set<number>();
  for (let seed = 1; seed <= 40; seed++) {
    const p = new PiecePicker(wide, { randomFirst: 0, random: seeded(seed) });
    for (let i = 0; i < 32; i++) p.peerHas(i, 1);
    p.setFocus([...Array(32).keys()], 0, false, 0);
    firstPicks.add(p.pick(all, 1)[0]!.index);
  }
  assert.ok(firstPicks.size >= 15, `first picks over 40 pickers: ${firstPicks.size} distinct`);
  // Without an in-order count, the whole window goes in order, as a layered schedule wants.
  const p = new PiecePicker(even, { randomFirst: 0, random: seeded(1) });
  for (let i = 0; i < 8; i++) p.peerHas(i, 1);
  p.setFocus([5, 2, 7], 0);
  assert.deepEqual([0, 1, 2].map(() => p.pick(all, 2)[0]!.index), [5, 2, 7]);
});
