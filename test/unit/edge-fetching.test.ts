/**
 * pp_fetching (EDGE-FETCHING) without sockets: the codec's bounds, and the extension's rules with
 * a fake clock (the hold's length and the rate limit are about time): a notice holds a piece for
 * EDGE_FETCHING_HOLD_MS or until the peer's HAVE, twice per piece at most; liars are struck off;
 * holds per peer and pieces per second are bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '../../shared/bencode/index.js';
import { WireError } from '../../shared/errors.js';
import { decodeEdgeFetching, encodeEdgeFetching, MAX_FETCHING_PIECES } from '../../shared/wire/edge-fetching.js';
import { EDGE_FETCHING_HOLD_MS, EDGE_FETCHING_MAX_HOLDS_PER_PEER, EDGE_FETCHING_RATE, EdgeFetching } from '../../peer-node/extensions/edge-fetching.js';
import type { PeerSession } from '../../peer-node/engine/peer-session.js';

test('pp_fetching codec: 4-byte big-endian indexes in a dictionary; every bound is a WireError with its code', () => {
  const payload = encodeEdgeFetching([0, 258, 7]);
  assert.deepEqual(payload, encode({ pieces: Uint8Array.of(0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 7) }));
  assert.deepEqual(decodeEdgeFetching(payload, 300), [0, 258, 7]);
  const code = (bytes: Uint8Array, pieces = 300) => {
    try {
      decodeEdgeFetching(bytes, pieces);
      return 'ok';
    } catch (err) {
      assert.ok(err instanceof WireError);
      return err.code;
    }
  };
  assert.equal(code(payload, 258), 'wire.edge-fetching.index', 'a piece past the end');
  assert.equal(code(encode({ pieces: new Uint8Array(0) })), 'wire.edge-fetching.pieces');
  assert.equal(code(encode({ pieces: new Uint8Array(6) })), 'wire.edge-fetching.pieces', 'not whole indexes');
  assert.equal(code(encode({ pieces: new Uint8Array(4 * (MAX_FETCHING_PIECES + 1)) })), 'wire.edge-fetching.pieces', 'one index too many');
  assert.equal(code(encode({ pieces: new Uint8Array(4000) })), 'wire.edge-fetching.size', 'refused before it is parsed');
  assert.equal(code(encode([1, 2])), 'wire.edge-fetching.shape');
  assert.equal(code(Uint8Array.of(0x64)), 'wire.edge-fetching.bencode');
  assert.throws(() => encodeEdgeFetching([]), RangeError);
  assert.throws(() => encodeEdgeFetching(Array.from({ length: MAX_FETCHING_PIECES + 1 }, () => 1)), RangeError);
});

/** What the extension reads of a peer: its pieces, whether it seeds or only uploads, whether it left. */
function fakePeer(has: number[] = [], over: Partial<{ isSeed: boolean; uploadOnly: boolean }> = {}) {
  const pieces = new Set(has);
  const peer = { isSeed: false, uploadOnly: false, ...over, bits: { has: (i: number) => pieces.has(i) }, connection: { closed: false } };
  return Object.assign(peer as unknown as PeerSession, { gets: (i: number) => pieces.add(i), leaves: () => (peer.connection.closed = true) });
}

test('pp_fetching rules: a notice holds its piece until the peer\'s HAVE or for the hold; a piece is held twice at most; seeds and holders are no notice', () => {
  let now = 1_000_000;
  const ext = new EdgeFetching({ pieceCount: 1000, wants: (i) => i !== 999 }, () => now);
  const peer = fakePeer();
  ext.message(peer, encodeEdgeFetching([4, 5, 6]));
  assert.deepEqual([ext.holds(4), ext.holds(5), ext.holds(6)], [true, true, true]);
  peer.gets(6);
  assert.equal(ext.holds(6), false, 'its HAVE ends the hold: an ordinary piece a peer has');
  now += EDGE_FETCHING_HOLD_MS - 1;
  assert.equal(ext.holds(5), true, 'still within the hold');
  now += 1;
  assert.equal(ext.holds(5), false, 'the hold is over: a delay, never the piece');
  const other = fakePeer();
  ext.message(other, encodeEdgeFetching([5]));
  assert.equal(ext.holds(5), true, 'a second hold, from another peer');
  now += EDGE_FETCHING_HOLD_MS;
  ext.message(fakePeer(), encodeEdgeFetching([5]));
  assert.equal(ext.holds(5), false, 'not a third');
  assert.equal(ext.refused['held-before'], 1);

  ext.message(fakePeer([7]), encodeEdgeFetching([7]));
  ext.message(fakePeer([], { isSeed: true }), encodeEdgeFetching([8]));
  ext.message(fakePeer([], { uploadOnly: true }), encodeEdgeFetching([8]));
  ext.message(fakePeer(), encodeEdgeFetching([999]));
  assert.equal(ext.refused['not-fetching'], 4, 'a peer that has it, a seed, an upload-only peer, a piece we do not want');
  assert.deepEqual([ext.holds(7), ext.holds(8), ext.holds(999)], [false, false, false]);

  const leaver = fakePeer();
  ext.message(leaver, encodeEdgeFetching([20]));
  leaver.leaves();
  ext.closed(leaver);
  assert.equal(ext.holds(20), false, 'a peer\'s holds end when it leaves');
});

test('pp_fetching rules: a peer whose holds run out without its HAVE twice is not heard again; holds per peer and named pieces per second are bounded', () => {
  let now = 1_000_000;
  const ext = new EdgeFetching({ pieceCount: 100_000, wants: () => true }, () => now);
  const liar = fakePeer();
  ext.message(liar, encodeEdgeFetching([1, 2]));
  now += EDGE_FETCHING_HOLD_MS;
  ext.tick(now); // both run out: two strikes
  ext.message(liar, encodeEdgeFetching([3]));
  assert.equal(ext.holds(3), false);
  assert.equal(ext.refused.distrusted, 1);

  // One peer holds at most EDGE_FETCHING_MAX_HOLDS_PER_PEER pieces at once.
  const busy = fakePeer();
  ext.message(busy, encodeEdgeFetching(Array.from({ length: 64 }, (_, k) => 100 + k)));
  ext.message(busy, encodeEdgeFetching([500]));
  assert.equal(ext.refused['too-many'], 1);
  assert.equal(EDGE_FETCHING_MAX_HOLDS_PER_PEER, 64);

  // A burst of twice the rate is read; then the rate a second.
  const flood = new EdgeFetching({ pieceCount: 100_000, wants: () => true }, () => now);
  const peer = fakePeer();
  let next = 0;
  const send = (n: number) => {
    for (let sent = 0; sent < n; sent += MAX_FETCHING_PIECES) {
      flood.message(peer, encodeEdgeFetching(Array.from({ length: Math.min(MAX_FETCHING_PIECES, n - sent) }, () => next++)));
    }
  };
  send(3 * EDGE_FETCHING_RATE);
  assert.equal(flood.refused['rate-limited'], EDGE_FETCHING_RATE);
  now += 500;
  send(EDGE_FETCHING_RATE);
  assert.equal(flood.refused['rate-limited'], 1.5 * EDGE_FETCHING_RATE, 'half a second: half the rate');
});
