/**
 * pp_fetching (EDGE-FETCHING) without sockets: the codec's bounds, and the extension's rules with
 * a fake clock (the hold's length and the rate limit are about time): a notice holds a piece for
 * EDGE_FETCHING_HOLD_MS, once per piece; pieces past the rate are ignored and counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '../../shared/bencode/index.js';
import { WireError } from '../../shared/errors.js';
import { decodeEdgeFetching, encodeEdgeFetching, MAX_FETCHING_PIECES } from '../../shared/wire/edge-fetching.js';
import { EDGE_FETCHING_HOLD_MS, EDGE_FETCHING_RATE, EdgeFetching } from '../../peer-node/extensions/edge-fetching.js';
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

test('pp_fetching rules: a notice holds its piece for the hold, once per piece; past the rate, pieces are ignored and counted', () => {
  let now = 1_000_000;
  const ext = new EdgeFetching({ pieceCount: 1000 }, () => now);
  const peer = {} as PeerSession;
  ext.message(peer, encodeEdgeFetching([4, 5]));
  assert.equal(ext.holds(4), true);
  now += EDGE_FETCHING_HOLD_MS - 1;
  assert.equal(ext.holds(5), true, 'still within the hold');
  now += 1;
  assert.equal(ext.holds(5), false, 'the hold is over: a delay, never the piece');
  ext.message(peer, encodeEdgeFetching([5]));
  assert.equal(ext.holds(5), false, 'a piece is held once only');
  assert.deepEqual([ext.heard, ext.refused['held-once']], [2, 1]);

  // A burst of twice the rate is taken; then the rate a second.
  const flood = new EdgeFetching({ pieceCount: 100_000 }, () => now);
  let next = 0;
  const send = (n: number) => {
    for (let sent = 0; sent < n; sent += MAX_FETCHING_PIECES) {
      const k = Math.min(MAX_FETCHING_PIECES, n - sent);
      flood.message(peer, encodeEdgeFetching(Array.from({ length: k }, () => next++)));
    }
  };
  send(3 * EDGE_FETCHING_RATE);
  assert.deepEqual([flood.heard, flood.refused['rate-limited']], [2 * EDGE_FETCHING_RATE, EDGE_FETCHING_RATE]);
  now += 500;
  send(EDGE_FETCHING_RATE);
  assert.deepEqual([flood.heard, flood.refused['rate-limited']], [2.5 * EDGE_FETCHING_RATE, 1.5 * EDGE_FETCHING_RATE], 'half a second: half the rate');
});
