/**
 * Feeds random and mutated bytes to every decoder that takes network or file input and checks
 * that each one returns a value or throws its typed ProtocolError, never anything else, and
 * finishes. Seeds are valid inputs; mutations flip, insert, delete and splice bytes.
 * Inputs that once broke a decoder go to test/fixtures/fuzz-regressions/ and run first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { decode, decodePrefix, encode } from '../../shared/bencode/index.js';
import { readTorrent, parseMagnet } from '../../shared/metainfo/index.js';
import { decodeCompactNodes, decodeCompactPeer, decodeCompactPeers } from '../../shared/compact/index.js';
import { ProtocolError } from '../../shared/errors.js';
import { MessageFramer } from '../../shared/wire/framer.js';
import { decodeHandshake } from '../../shared/wire/handshake.js';
import { decodeExtensionHandshake } from '../../shared/wire/extension-handshake.js';
import { decodeMetadataMessage, encodeMetadataMessage } from '../../shared/wire/ut-metadata.js';
import { decodeHashPiece, encodeHashPiece } from '../../shared/wire/tr-hashpiece.js';
import { decodeKrpc, encodeKrpc } from '../../shared/dht/krpc.js';
import { decodePexMessage, encodePexMessage } from '../../shared/wire/ut-pex.js';
import { decodeTexMessage, encodeTexMessage } from '../../shared/wire/lt-tex.js';
import { decodeBitfieldRequestMessage, encodeBitfieldRequest, encodeBitfieldResponse } from '../../shared/wire/bitfield-request.js';
import { decodeLayerChange, encodeLayerChange } from '../../shared/wire/layer-change.js';
import { decodeBtSearch, encodeBtSearch } from '../../shared/lsd/bt-search.js';
import { LsdError } from '../../shared/errors.js';
import { b } from '../helpers/bytes.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);

function mustBeTyped(fn: () => unknown, errorClass: typeof ProtocolError = ProtocolError): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof errorClass)) throw err;
    assert.ok(err.message.length > 0 && err.code.includes('.'), 'a typed error carries a code and a reason');
  }
}

const torrentSeed = encode({
  announce: 'http://127.0.0.1:8787/announce',
  'announce-list': [['http://127.0.0.1:8787/announce']],
  info: { name: 'set', 'piece length': 16, pieces: new Uint8Array(40), files: [{ length: 20, path: ['a', 'b'] }, { length: 5, path: ['c'] }] },
  'url-list': ['http://127.0.0.1:8787/seed/'],
});
const seeds = [torrentSeed, b('d3:cow3:moo4:spaml1:a1:bee'), b('li-42ei0e0:4:spamd1:xleee'), b('i123456789012345678901234567890e')];

/** Random edits of a valid input: the inputs most likely to reach deep code paths. */
const mutated = fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(255), fc.nat(3)), { minLength: 1, maxLength: 8 })).map(
  ([seed, edits]) => {
    const bytes = Array.from(seed);
    for (const [at, byte, kind] of edits) {
      const i = at % (bytes.length + 1);
      if (kind === 0) bytes[i] = byte;
      else if (kind === 1) bytes.splice(i, 0, byte);
      else if (kind === 2) bytes.splice(i, 1);
      else bytes.splice(i, 0, ...bytes.slice(0, at % 16)); // duplicate a run
    }
    return Uint8Array.from(bytes);
  },
);
/** Random bytes biased to bencode's alphabet. */
const alphabet = fc.array(fc.constantFrom(...b('ilde0123456789:-x')), { maxLength: 64 }).map((a) => Uint8Array.from(a));
const anyBytes = fc.oneof(fc.uint8Array({ maxLength: 128 }), alphabet, mutated);

/** What each committed regression input must still produce: the error code, or 'ok'. */
const REGRESSIONS: Record<string, { decode: string; torrent: string }> = {
  'deep-nesting.bin': { decode: 'bencode.too-deep', torrent: 'bencode.too-deep' },
  'dotdot-name.bin': { decode: 'ok', torrent: 'metainfo.unsafe-path' },
  'float-integer.bin': { decode: 'bencode.bad-integer', torrent: 'bencode.bad-integer' },
  'huge-string-length.bin': { decode: 'bencode.string-overflow', torrent: 'bencode.string-overflow' },
  'negative-zero.bin': { decode: 'bencode.leading-zero', torrent: 'bencode.leading-zero' },
  'proto-key-pollution.bin': { decode: 'ok', torrent: 'metainfo.missing-field' },
  'many-empty-strings.bin': { decode: 'bencode.too-many-values', torrent: 'bencode.too-many-values' },
};

function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof ProtocolError) return err.code;
    throw err;
  }
}

test('regression fixtures still give the outcome they were kept for', () => {
  const dir = path.join(import.meta.dirname, '..', 'fixtures', 'fuzz-regressions');
  const files = readdirSync(dir).filter((f) => f.endsWith('.bin')).sort();
  assert.deepEqual(files, Object.keys(REGRESSIONS).sort(), 'every fixture has an expected outcome');
  for (const file of files) {
    const bytes = new Uint8Array(readFileSync(path.join(dir, file)));
    assert.equal(outcome(() => decode(bytes)), REGRESSIONS[file]!.decode, `${file}: decode`);
    assert.equal(outcome(() => readTorrent(bytes)), REGRESSIONS[file]!.torrent, `${file}: readTorrent`);
  }
});

test('fuzz: bencode decode and decodePrefix', () => {
  fc.assert(
    fc.property(anyBytes, fc.boolean(), (bytes, strictKeys) => {
      mustBeTyped(() => decode(bytes, { strictKeys }));
      mustBeTyped(() => {
        const { value, end } = decodePrefix(bytes, { strictKeys });
        assert.ok(end <= bytes.length);
        // Whatever decodes must encode again, and a strict decode is canonical.
        if (strictKeys && end === bytes.length) assert.deepEqual(encode(value), bytes.subarray(0, end));
      });
    }),
    { numRuns: RUNS },
  );
});

test('fuzz: metainfo (readTorrent)', () => {
  fc.assert(fc.property(anyBytes, (bytes) => mustBeTyped(() => readTorrent(bytes))), { numRuns: RUNS });
});

test('fuzz: magnet URIs', () => {
  const magnetish = fc
    .array(fc.constantFrom('xt=urn:btih:', 'c12fe1c06bba254a9dc9f519b335aa7c1367a88a', 'YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK', '&', '=', 'tr=', 'x.pe=', '[::1]:', '127.0.0.1:', '%', '%E0', 'dn=', 'xl=', '9', 'ws='), {
      maxLength: 20,
    })
    .map((parts) => `magnet:?${parts.join('')}`);
  fc.assert(fc.property(fc.oneof(magnetish, fc.string(), fc.string().map((s) => `magnet:?${s}`)), (uri) => mustBeTyped(() => parseMagnet(uri))), {
    numRuns: RUNS,
  });
});

test('fuzz: compact peers and nodes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
      mustBeTyped(() => decodeCompactPeers(bytes, 4));
      mustBeTyped(() => decodeCompactPeers(bytes, 6));
      mustBeTyped(() => decodeCompactPeer(bytes));
      mustBeTyped(() => decodeCompactNodes(bytes, 4));
      mustBeTyped(() => decodeCompactNodes(bytes, 6));
    }),
    { numRuns: RUNS },
  );
});

test('fuzz: peer-wire framer and messages, in any chunking', () => {
  const message = fc.tuple(fc.nat(24), fc.uint8Array({ maxLength: 40 })).map(([id, payload]) => {
    const out = new Uint8Array(5 + payload.length);
    new DataView(out.buffer).setUint32(0, 1 + payload.length);
    out[4] = id;
    out.set(payload, 5);
    return out;
  });
  const stream = fc.tuple(fc.array(fc.oneof(message, fc.uint8Array({ maxLength: 12 })), { maxLength: 6 }), fc.array(fc.nat(60), { maxLength: 6 }));
  fc.assert(
    fc.property(stream, ([parts, cuts]) => {
      const bytes = Buffer.concat(parts);
      const framer = new MessageFramer(64);
      let at = 0;
      for (const cut of [...cuts, bytes.length]) {
        const end = Math.min(bytes.length, at + cut);
        try {
          framer.push(bytes.subarray(at, end));
        } catch (err) {
          mustBeTyped(() => {
            throw err;
          });
          return; // the connection would close here
        }
        assert.ok(framer.bufferedBytes <= 4 + 64, 'never more than one bounded message buffered');
        at = end;
      }
    }),
    { numRuns: RUNS },
  );
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => mustBeTyped(() => decodeHandshake(bytes))), { numRuns: RUNS });
  fc.assert(fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 64 })), (bytes) => mustBeTyped(() => decodeExtensionHandshake(bytes))), { numRuns: RUNS });
});

test('fuzz: BEP 9 ut_metadata messages (request, data with its trailing bytes, reject)', () => {
  const seeds = [
    encodeMetadataMessage({ type: 'request', piece: 3 }),
    encodeMetadataMessage({ type: 'reject', piece: 0 }),
    encodeMetadataMessage({ type: 'data', piece: 1, totalSize: 20_000, data: new Uint8Array(20_000 - 16_384) }),
  ];
  const mutatedMessage = fc
    .tuple(fc.constantFrom(...seeds), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat({ max: 40 }))
    .map(([seed, at, byte, cut]) => {
      const out = seed.slice(0, Math.max(0, seed.length - cut));
      if (out.length > 0) out[at % out.length] = byte;
      return out;
    });
  fc.assert(fc.property(fc.oneof(mutatedMessage, fc.uint8Array({ maxLength: 64 })), (bytes) => mustBeTyped(() => decodeMetadataMessage(bytes))), { numRuns: RUNS });
});

test('fuzz: BEP 30 Tr_hashpiece payloads', () => {
  const good = encodeHashPiece({ index: 3, begin: 0, hashes: [[7, new Uint8Array(20)], [0, new Uint8Array(20).fill(1)]], block: new Uint8Array(40) });
  const mutatedHashPiece = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat({ max: 60 })).map(([at, byte, cut]) => {
    const out = good.slice(0, Math.max(0, good.length - cut));
    if (out.length > 0) out[at % out.length] = byte;
    return out;
  });
  fc.assert(fc.property(fc.oneof(mutatedHashPiece, fc.uint8Array({ maxLength: 64 })), (bytes) => mustBeTyped(() => decodeHashPiece(bytes))), { numRuns: RUNS });
});

test('fuzz: BEP 11 ut_pex and BEP 28 lt_tex messages', () => {
  const seeds = [
    encodePexMessage({ added: [{ host: '10.0.0.1', port: 6881, flags: 2 }, { host: '::1', port: 1, flags: 0 }], dropped: [{ host: '10.0.0.2', port: 2 }] }),
    encodeTexMessage(['http://127.0.0.1:8787/announce', 'udp://tracker.example:6969/announce']),
  ];
  const mutatedMessage = fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat({ max: 20 })).map(([seed, at, byte, cut]) => {
    const out = seed.slice(0, Math.max(0, seed.length - cut));
    if (out.length > 0) out[at % out.length] = byte;
    return out;
  });
  const input = fc.oneof(mutatedMessage, fc.uint8Array({ maxLength: 64 }));
  fc.assert(fc.property(input, (bytes) => mustBeTyped(() => decodePexMessage(bytes))), { numRuns: RUNS });
  fc.assert(fc.property(input, (bytes) => mustBeTyped(() => decodeTexMessage(bytes))), { numRuns: RUNS });
});

test('fuzz: BEP 5 KRPC packets', () => {
  const id = new Uint8Array(20).fill(7);
  const seeds = [
    encodeKrpc({ type: 'query', t: Uint8Array.of(1, 2), query: { method: 'announce_peer', id, infoHash: id, port: 6881, impliedPort: false, token: Uint8Array.of(9) } }),
    encodeKrpc({ type: 'response', t: Uint8Array.of(1), body: { id, nodes: [{ id, host: '10.0.0.1', port: 1 }], values: [{ host: '10.0.0.2', port: 2 }], token: Uint8Array.of(3) } }),
    encodeKrpc({ type: 'error', t: Uint8Array.of(5), code: 201, message: 'A Generic Error Ocurred' }),
  ];
  const mutatedPacket = fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat({ max: 30 })).map(([seed, at, byte, cut]) => {
    const out = seed.slice(0, Math.max(0, seed.length - cut));
    if (out.length > 0) out[at % out.length] = byte;
    return out;
  });
  fc.assert(fc.property(fc.oneof(mutatedPacket, fc.uint8Array({ maxLength: 64 })), (bytes) => mustBeTyped(() => decodeKrpc(bytes))), { numRuns: RUNS });
});

test('fuzz: pp_layer and pp_bitfield extension payloads', () => {
  const seeds = [encodeLayerChange(3), encodeBitfieldRequest(), encodeBitfieldResponse({ have: 'all' }), encodeBitfieldResponse({ bitfield: Uint8Array.of(0xff, 0xf0) })];
  const mutatedPayload = fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat({ max: 12 })).map(([seed, at, byte, cut]) => {
    const out = seed.slice(0, Math.max(0, seed.length - cut));
    if (out.length > 0) out[at % out.length] = byte;
    return out;
  });
  const input = fc.oneof(mutatedPayload, fc.uint8Array({ maxLength: 64 }), alphabet);
  fc.assert(fc.property(input, (bytes) => mustBeTyped(() => decodeLayerChange(bytes))), { numRuns: RUNS });
  fc.assert(fc.property(input, fc.integer({ min: 1, max: 40 }), (bytes, pieces) => mustBeTyped(() => decodeBitfieldRequestMessage(bytes, pieces))), { numRuns: RUNS });
});

test('fuzz: BEP 14 LSD BT-SEARCH datagrams (edits of real announces, header soup, random bytes)', () => {
  const hash = '0123456789abcdef0123456789abcdef01234567';
  const seeds = [
    encodeBtSearch({ host: '239.192.152.143:6771', port: 6881, infoHashes: [hash], cookie: '0011223344556677' }),
    encodeBtSearch({ host: '[ff15::efc0:988f]:6771', port: 1, infoHashes: [hash, hash.replace('0', 'f')] }),
  ];
  const mutatedDatagram = fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(2)), { minLength: 1, maxLength: 6 })).map(([seed, edits]) => {
    const bytes = Array.from(seed);
    for (const [at, byte, kind] of edits) {
      const i = at % (bytes.length + 1);
      if (kind === 0) bytes[i] = byte;
      else if (kind === 1) bytes.splice(i, 0, byte);
      else bytes.splice(i, 1);
    }
    return Uint8Array.from(bytes);
  });
  // Lines built from the grammar's own pieces reach the header rules, not just the first check.
  const piece = fc.constantFrom('BT-SEARCH * HTTP/1.1', 'Host: 239.192.152.143:6771', 'Port: 6881', 'Port: 0', `Infohash: ${hash}`, 'Infohash: zz', 'cookie: x', 'X: y', ':', '', ' ', 'Host:');
  const soup = fc.array(piece, { maxLength: 40 }).map((lines) => b(`${lines.join('\r\n')}\r\n\r\n`));
  const input = fc.oneof(mutatedDatagram, soup, fc.uint8Array({ maxLength: 1500 }));
  fc.assert(fc.property(input, (bytes) => mustBeTyped(() => decodeBtSearch(bytes), LsdError)), { numRuns: RUNS });
});
