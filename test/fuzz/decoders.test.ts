/**
 * Fuzz targets for the protocol decoders of shared/ (and the BEP 21 message of the peer): bencode,
 * metainfo, magnet, compact peers/nodes, the wire framer and BEP 3 handshake, ut_metadata,
 * Tr_hashpiece, ut_pex, lt_tex, KRPC, pp_layer, pp_bitfield, pp_fetching, LSD and upload_only. BEP 10
 * handshakes are fuzzed in network-inputs.test.ts.
 *
 * Each target decodes every file of its committed corpus (test/fixtures/fuzz-corpus/<target>/,
 * written by write-corpus.ts), then mutations of it (overwrite, insert, delete, duplicate,
 * splice), grammar-shaped and random input; the decoder must return a value or throw its typed
 * ProtocolError with a code, never anything else, and finish. Each target runs for at most
 * FUZZ_MS milliseconds (default 300: a few seconds for the file, and thousands of inputs even for
 * the first target, which pays the warm-up) or FUZZ_RUNS inputs, and prints `fuzz <target>: N executions, C crashes`.
 * Inputs that once broke a decoder go to test/fixtures/fuzz-regressions/ and are checked first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decode, decodePrefix, encode } from '../../shared/bencode/index.js';
import { readTorrent, parseMagnet } from '../../shared/metainfo/index.js';
import { decodeCompactNodes, decodeCompactPeer, decodeCompactPeers } from '../../shared/compact/index.js';
import { LsdError } from '../../shared/errors.js';
import { concatBytes } from '../../shared/bytes.js';
import { MessageFramer } from '../../shared/wire/framer.js';
import { decodeHandshake } from '../../shared/wire/handshake.js';
import { decodeMetadataMessage } from '../../shared/wire/ut-metadata.js';
import { decodeHashPiece } from '../../shared/wire/tr-hashpiece.js';
import { decodeKrpc } from '../../shared/dht/krpc.js';
import { decodePexMessage } from '../../shared/wire/ut-pex.js';
import { decodeTexMessage } from '../../shared/wire/lt-tex.js';
import { decodeBitfieldRequestMessage } from '../../shared/wire/bitfield-request.js';
import { decodeLayerChange, MAX_LAYER_INDEX } from '../../shared/wire/layer-change.js';
import { decodeEdgeFetching, encodeEdgeFetching, MAX_FETCHING_PIECES } from '../../shared/wire/edge-fetching.js';
import { decodeBtSearch } from '../../shared/lsd/bt-search.js';
import { UploadOnly } from '../../peer-node/extensions/upload-only.js';
import type { PeerSession } from '../../peer-node/engine/peer-session.js';
import type { WireMessage } from '../../shared/wire/messages.js';
import { b } from '../helpers/bytes.js';
import { byteInput, checkRegressions, corpus, fuzzer, REGRESSIONS_DIR, roundTrip, typed } from './harness.js';

/** 300 ms (or FUZZ_MS) or FUZZ_RUNS inputs per target, whichever comes first. */
const { fuzz } = fuzzer(300);

/** Bencode's alphabet: mutations and random bytes drawn from it reach past the first byte. */
const BENCODE = [...b('ilde0123456789:-x')];
const bencodeSoup = fc.array(fc.constantFrom(...BENCODE), { maxLength: 64 }).map((a) => Uint8Array.from(a));

// ---------------------------------------------------------------------------------------------
// Regressions: inputs that once broke bencode or metainfo decoding, with the outcome each keeps.

const outcomes = (decoded: string, torrent: string) => (bytes: Uint8Array) => {
  assert.equal(typed(() => decode(bytes)), decoded, 'decode');
  assert.equal(typed(() => readTorrent(bytes)), torrent, 'readTorrent');
};

/** file (in fuzz-regressions/) -> the outcome of decode and of readTorrent. */
const REGRESSIONS: Record<string, (bytes: Uint8Array) => void> = {
  'deep-nesting.bin': outcomes('bencode.too-deep', 'bencode.too-deep'),
  'dotdot-name.bin': outcomes('ok', 'metainfo.unsafe-path'),
  'float-integer.bin': outcomes('bencode.bad-integer', 'bencode.bad-integer'),
  'huge-string-length.bin': outcomes('bencode.string-overflow', 'bencode.string-overflow'),
  'negative-zero.bin': outcomes('bencode.leading-zero', 'bencode.leading-zero'),
  'proto-key-pollution.bin': outcomes('ok', 'metainfo.missing-field'),
  'many-empty-strings.bin': outcomes('bencode.too-many-values', 'bencode.too-many-values'),
};

test('regression fixtures still give the outcome they were kept for', () => {
  checkRegressions(REGRESSIONS_DIR, REGRESSIONS);
});

// ---------------------------------------------------------------------------------------------
// Bencode (BEP 3), .torrent files and magnets (BEP 9).

test('fuzz: bencode decode and decodePrefix', () => {
  const files = corpus('bencode');
  const input = fc.tuple(fc.oneof(byteInput(files, 128, BENCODE), byteInput(files, 128), bencodeSoup), fc.boolean());
  fuzz('bencode', input, ([bytes, strictKeys]) => {
    typed(() => decode(bytes, { strictKeys }));
    typed(() => {
      const { value, end } = decodePrefix(bytes, { strictKeys });
      assert.ok(end <= bytes.length);
      // Whatever decodes must encode again, and a strict decode is canonical.
      if (strictKeys && end === bytes.length) assert.deepEqual(encode(value), bytes.subarray(0, end));
    });
  }, files.flatMap((f) => [[f, true], [f, false]] as [Uint8Array, boolean][]));
});

test('fuzz: metainfo (readTorrent)', () => {
  const files = corpus('metainfo');
  fuzz('metainfo', fc.oneof(byteInput(files, 128, BENCODE), byteInput(files, 128), bencodeSoup), (bytes) => {
    typed(() => {
      const torrent = readTorrent(bytes);
      // BEP 3: one hash per piece, unless a BEP 30 root hash stands for them all.
      assert.equal(torrent.info.pieceCount, Math.ceil(torrent.info.length / torrent.info.pieceLength));
      if (!torrent.info.rootHash) assert.equal(torrent.info.pieces.length, torrent.info.pieceCount, 'one hash per piece');
    });
  }, files);
});

test('fuzz: magnet URIs', () => {
  const files = corpus('magnet');
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  const magnetish = fc
    .array(fc.constantFrom('xt=urn:btih:', 'c12fe1c06bba254a9dc9f519b335aa7c1367a88a', 'YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK', '&', '=', 'tr=', 'x.pe=', '[::1]:', '127.0.0.1:', '%', '%E0', 'dn=', 'xl=', '9', 'ws='), { maxLength: 20 })
    .map((parts) => `magnet:?${parts.join('')}`);
  const input = fc.oneof(byteInput(files, 64).map(text), magnetish, fc.string(), fc.string().map((s) => `magnet:?${s}`));
  fuzz('magnet', input, (uri) => {
    typed(() => assert.equal(parseMagnet(uri).infoHash.length, 20));
  }, files.map(text));
});

// ---------------------------------------------------------------------------------------------
// Compact peers and nodes (BEP 23, 7, 5).

test('fuzz: compact peers and nodes', () => {
  const files = corpus('compact');
  fuzz('compact', byteInput(files, 120), (bytes) => {
    typed(() => decodeCompactPeers(bytes, 4));
    typed(() => decodeCompactPeers(bytes, 6));
    typed(() => decodeCompactPeer(bytes));
    typed(() => decodeCompactNodes(bytes, 4));
    typed(() => decodeCompactNodes(bytes, 6));
  }, files);
});

// ---------------------------------------------------------------------------------------------
// The peer wire (BEP 3): the framer in any TCP chunking, and the handshake.

test('fuzz: peer-wire framer and messages, in any chunking', () => {
  const files = corpus('wire-framer');
  const message = fc.tuple(fc.nat(24), fc.uint8Array({ maxLength: 40 })).map(([id, payload]) => {
    const out = new Uint8Array(5 + payload.length);
    new DataView(out.buffer).setUint32(0, 1 + payload.length);
    out[4] = id;
    out.set(payload, 5);
    return out;
  });
  const built = fc.array(fc.oneof(message, fc.uint8Array({ maxLength: 12 })), { maxLength: 6 }).map(concatBytes);
  const stream = fc.tuple(fc.oneof(built, byteInput(files, 64)), fc.array(fc.nat(60), { maxLength: 6 }));
  fuzz('wire-framer', stream, ([bytes, cuts]) => {
    const framer = new MessageFramer(64);
    let at = 0;
    for (const cut of [...cuts, bytes.length]) {
      const end = Math.min(bytes.length, at + cut);
      // A typed error closes the connection here: nothing more is read.
      if (typed(() => framer.push(bytes.subarray(at, end))) !== 'ok') return;
      assert.ok(framer.bufferedBytes <= 4 + 64, 'never more than one bounded message buffered');
      at = end;
    }
  }, files.flatMap((f) => [[f, []], [f, [1, 3, 5]]] as [Uint8Array, number[]][]));
});

test('fuzz: BEP 3 handshakes, complete and partial', () => {
  const files = corpus('handshake');
  fuzz('handshake', byteInput(files, 80), (bytes) => {
    typed(() => {
      const handshake = decodeHandshake(bytes);
      // Undefined until all 68 bytes are in; then exactly the fixed-size fields.
      assert.equal(handshake === undefined, bytes.length < 68);
      if (handshake) assert.deepEqual([handshake.reserved.length, handshake.infoHash.length, handshake.peerId.length], [8, 20, 20]);
    });
  }, files);
});

// ---------------------------------------------------------------------------------------------
// BEP 10 extension messages: ut_metadata (BEP 9), Tr_hashpiece (BEP 30), ut_pex (BEP 11), lt_tex
// (BEP 28), pp_layer, pp_bitfield, upload_only (BEP 21).

test('fuzz: BEP 9 ut_metadata messages (request, data with its trailing bytes, reject)', () => {
  const files = corpus('ut-metadata');
  fuzz('ut-metadata', byteInput(files, 64), (bytes) => void typed(() => decodeMetadataMessage(bytes)), files);
});

test('fuzz: BEP 30 Tr_hashpiece payloads', () => {
  const files = corpus('tr-hashpiece');
  fuzz('tr-hashpiece', byteInput(files, 64), (bytes) => void typed(() => decodeHashPiece(bytes)), files);
});

test('fuzz: BEP 11 ut_pex messages', () => {
  const files = corpus('ut-pex');
  fuzz('ut-pex', byteInput(files, 64), (bytes) => void typed(() => decodePexMessage(bytes)), files);
});

test('fuzz: BEP 28 lt_tex messages', () => {
  const files = corpus('lt-tex');
  fuzz('lt-tex', byteInput(files, 64), (bytes) => void typed(() => decodeTexMessage(bytes)), files);
});

test('fuzz: pp_layer payloads', () => {
  const files = corpus('pp-layer');
  fuzz('pp-layer', fc.oneof(byteInput(files, 64), byteInput(files, 64, BENCODE), bencodeSoup), (bytes) => {
    typed(() => {
      const layer = decodeLayerChange(bytes);
      assert.ok(Number.isInteger(layer) && layer >= 0 && layer <= MAX_LAYER_INDEX);
    });
  }, files);
});

test('fuzz: pp_bitfield payloads against torrents of 1 to 40 pieces', () => {
  const files = corpus('pp-bitfield');
  const input = fc.tuple(fc.oneof(byteInput(files, 64), byteInput(files, 64, BENCODE), bencodeSoup), fc.integer({ min: 1, max: 40 }));
  fuzz('pp-bitfield', input, ([bytes, pieces]) => {
    typed(() => {
      const m = decodeBitfieldRequestMessage(bytes, pieces);
      if ('bitfield' in m) assert.equal(m.bitfield.length, Math.ceil(pieces / 8));
    });
  }, files.map((f) => [f, 12] as [Uint8Array, number]));
});

test('fuzz: pp_fetching payloads against torrents of 1 to 40 pieces', () => {
  const files = corpus('pp-fetching');
  const input = fc.tuple(fc.oneof(byteInput(files, 300), byteInput(files, 300, BENCODE), bencodeSoup), fc.integer({ min: 1, max: 40 }));
  fuzz('pp-fetching', input, ([bytes, pieces]) => {
    typed(() => {
      const named = decodeEdgeFetching(bytes, pieces);
      assert.ok(named.length >= 1 && named.length <= MAX_FETCHING_PIECES && named.every((i) => Number.isInteger(i) && i >= 0 && i < pieces));
      assert.deepEqual(decodeEdgeFetching(encodeEdgeFetching(named), pieces), named, 'what decodes encodes back');
    });
  }, files.map((f) => [f, 12] as [Uint8Array, number]));
});

/** A stand-in for the PeerSession the upload_only extension reads and writes. */
function uploadOnlyPeer(sent: Uint8Array[] = []): PeerSession {
  return { uploadOnly: false, extensions: { m: new Map([['upload_only', 3]]) }, send: (m: WireMessage) => m.type === 'extended' && sent.push(m.payload) } as unknown as PeerSession;
}

test('fuzz: BEP 21 upload_only messages (one byte, 0 or 1)', () => {
  const files = corpus('upload-only');
  fuzz('upload-only', byteInput(files, 4), (payload) => {
    let told = 0;
    const peer = uploadOnlyPeer();
    const code = typed(() => new UploadOnly({ uploadOnly: false, peerUploadOnly: () => told++ }).message(peer, payload));
    // Exactly the payloads [0] and [1] are messages; anything else closes the connection untouched.
    const valid = payload.length === 1 && payload[0]! <= 1;
    assert.equal(code, valid ? 'ok' : 'wire.upload-only.payload');
    assert.equal(told, valid ? 1 : 0);
    assert.equal(peer.uploadOnly, valid && payload[0] === 1);
  }, files);
  // Round trip: what announce() sends reads back as the state it announced.
  roundTrip(fc.boolean(), (state) => {
    const sent: Uint8Array[] = [];
    new UploadOnly({ uploadOnly: state, peerUploadOnly: () => undefined }).announce([uploadOnlyPeer(sent)]);
    const peer = uploadOnlyPeer();
    new UploadOnly({ uploadOnly: false, peerUploadOnly: () => undefined }).message(peer, sent[0]!);
    assert.equal(peer.uploadOnly, state);
  });
});

// ---------------------------------------------------------------------------------------------
// The DHT (BEP 5) and local service discovery (BEP 14).

test('fuzz: BEP 5 KRPC packets', () => {
  const files = corpus('krpc');
  fuzz('krpc', fc.oneof(byteInput(files, 64), byteInput(files, 64, BENCODE)), (bytes) => void typed(() => decodeKrpc(bytes)), files);
});

test('fuzz: BEP 14 LSD BT-SEARCH datagrams (edits of real announces, header soup, random bytes)', () => {
  const files = corpus('lsd');
  const hash = '0123456789abcdef0123456789abcdef01234567';
  // Lines built from the grammar's own pieces reach the header rules, not just the first check.
  const piece = fc.constantFrom('BT-SEARCH * HTTP/1.1', 'Host: 239.192.152.143:6771', 'Port: 6881', 'Port: 0', `Infohash: ${hash}`, 'Infohash: zz', 'cookie: x', 'X: y', ':', '', ' ', 'Host:');
  const soup = fc.array(piece, { maxLength: 40 }).map((lines) => b(`${lines.join('\r\n')}\r\n\r\n`));
  fuzz('lsd', fc.oneof(byteInput(files, 1500), soup), (bytes) => void typed(() => decodeBtSearch(bytes), LsdError), files);
});
