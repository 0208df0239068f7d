/**
 * Writes the committed fuzz corpus of the targets of test/fuzz/decoders.test.ts and of the
 * BEP 17 and passkey targets of test/fuzz/network-inputs.test.ts: a handful of small valid
 * inputs per target, made by our encoders, and near-valid ones (one field or byte wrong) that
 * reach the checks past the first. The files are committed; this script says how they were made.
 * Run it again only to add inputs (it overwrites its own files, never others'):
 *
 *   node --import tsx test/fuzz/write-corpus.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encode } from '../../shared/bencode/index.js';
import { formatMagnet } from '../../shared/metainfo/index.js';
import { encodeCompactNodes, encodeCompactPeers } from '../../shared/compact/index.js';
import { encodeMessage, type WireMessage } from '../../shared/wire/messages.js';
import { encodeHandshake, reservedBytes } from '../../shared/wire/handshake.js';
import { encodeMetadataMessage } from '../../shared/wire/ut-metadata.js';
import { encodeHashPiece } from '../../shared/wire/tr-hashpiece.js';
import { encodePexMessage } from '../../shared/wire/ut-pex.js';
import { encodeTexMessage } from '../../shared/wire/lt-tex.js';
import { encodeKrpc } from '../../shared/dht/krpc.js';
import { encodeLayerChange } from '../../shared/wire/layer-change.js';
import { encodeBitfieldRequest, encodeBitfieldResponse } from '../../shared/wire/bitfield-request.js';
import { encodeEdgeFetching } from '../../shared/wire/edge-fetching.js';
import { encodeBtSearch } from '../../shared/lsd/bt-search.js';
import { formatBep17Query } from '../../shared/http/bep17-query.js';
import { concatBytes } from '../../shared/bytes.js';
import { passkeyFor } from '../../worker/access/passkeys.js';
import { CORPUS_DIR } from './harness.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const id = (fill: number): Uint8Array => new Uint8Array(20).fill(fill);
const body = (m: WireMessage): Uint8Array => encodeMessage(m).subarray(4);
/** The secret of the passkey corpus: PASSKEY_SECRET in network-inputs.test.ts. */
const PASSKEY_SECRET = 'fuzz-corpus-passkey-secret';

const info = { name: 'set', 'piece length': 16, pieces: new Uint8Array(40), files: [{ length: 20, path: ['a', 'b'] }, { length: 5, path: ['c'] }] };
const hash = '0123456789abcdef0123456789abcdef01234567';
const alice = await passkeyFor(PASSKEY_SECRET, 'alice');

/** target -> file name (without .bin) -> bytes. */
const CORPUS: Record<string, Record<string, Uint8Array>> = {
  bencode: {
    dict: encode({ cow: 'moo', spam: ['a', 'b'] }),
    list: encode([-42, 0, '', 'spam', { x: [] }]),
    'big-integer': text('i123456789012345678901234567890e'),
    'binary-key': encode({ '\u0000\u00ff': 1, z: new Uint8Array([0, 1, 2]) }),
    'unsorted-keys': text('d1:bi1e1:ai2ee'),
    'truncated-string': text('4:spa'),
    'leading-zero': text('i03e'),
  },
  metainfo: {
    'multi-file': encode({ announce: 'http://127.0.0.1:8787/announce', 'announce-list': [['http://127.0.0.1:8787/announce']], info, 'url-list': ['http://127.0.0.1:8787/seed/'] }),
    'single-file': encode({ announce: 'udp://127.0.0.1:6969/announce', info: { name: 'one', 'piece length': 16, pieces: new Uint8Array(20), length: 16 } }),
    private: encode({ announce: 'http://127.0.0.1:8787/p/alice.x/announce', info: { ...info, private: 1 } }),
    'padding-file': encode({ info: { ...info, files: [{ length: 10, path: ['a'] }, { length: 6, path: ['.pad', '6'], attr: 'p' }, { length: 9, path: ['b'] }] } }),
    'pieces-not-multiple-of-20': encode({ info: { ...info, pieces: new Uint8Array(30) } }),
    'missing-name': encode({ info: { 'piece length': 16, pieces: new Uint8Array(20), length: 16 } }),
  },
  magnet: {
    full: text(formatMagnet({ infoHash: id(0xc1), name: 'a file', length: 25, trackers: ['http://127.0.0.1:8787/announce'], webSeeds: ['http://127.0.0.1:8787/seed/'], peers: [{ host: '10.0.0.1', port: 6881 }, { host: '::1', port: 1 }] })),
    minimal: text(formatMagnet({ infoHash: id(7), trackers: [], webSeeds: [], peers: [] })),
    base32: text('magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK&tr.1=udp%3A%2F%2Fa%3A1'),
    'two-hashes': text(`magnet:?xt=urn:btih:${hash}&xt=urn:btih:${hash.replace('0', 'f')}`),
    'bad-escape': text(`magnet:?xt=urn:btih:${hash}&dn=%E0`),
    'btmh-only': text('magnet:?xt=urn:btmh:1220caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e'),
  },
  compact: {
    'peers-v4': encodeCompactPeers([{ host: '10.0.0.1', port: 6881 }, { host: '192.168.1.2', port: 1 }], 4),
    'peers-v6': encodeCompactPeers([{ host: '2001:db8::1', port: 6881 }], 6),
    'nodes-v4': encodeCompactNodes([{ id: id(1), host: '10.0.0.1', port: 6881 }], 4),
    'nodes-v6': encodeCompactNodes([{ id: id(2), host: '::1', port: 1 }], 6),
    'odd-length': Uint8Array.of(10, 0, 0, 1, 0x1a, 0xe1, 7),
  },
  'wire-framer': {
    messages: concatBytes([encodeMessage({ type: 'keepAlive' }), encodeMessage({ type: 'have', index: 3 }), encodeMessage({ type: 'request', index: 1, begin: 0, length: 16384 }), encodeMessage({ type: 'piece', index: 1, begin: 0, block: Uint8Array.of(1, 2, 3) })]),
    extended: concatBytes([encodeMessage({ type: 'extended', extendedId: 0, payload: encode({ m: { ut_metadata: 3 } }) }), encodeMessage({ type: 'haveAll' })]),
    'too-long': Uint8Array.of(0, 0, 0, 65, 7, 0),
    truncated: encodeMessage({ type: 'request', index: 1, begin: 0, length: 16384 }).subarray(0, 9),
    'bad-length': Uint8Array.of(0, 0, 0, 2, 4, 0),
  },
  handshake: {
    'all-capabilities': encodeHandshake({ reserved: reservedBytes({ extensionProtocol: true, fast: true, dht: true }), infoHash: id(3), peerId: text('-ES0100-abcdefghijkl') }),
    plain: encodeHandshake({ reserved: new Uint8Array(8), infoHash: id(4), peerId: id(5) }),
    truncated: encodeHandshake({ reserved: new Uint8Array(8), infoHash: id(4), peerId: id(5) }).subarray(0, 30),
    'wrong-protocol-length': Uint8Array.of(18, ...text('BitTorrent protoco')),
    'wrong-protocol': Uint8Array.of(19, ...text('BitTorrent protocoL')),
  },
  'ut-metadata': {
    request: encodeMetadataMessage({ type: 'request', piece: 3 }),
    reject: encodeMetadataMessage({ type: 'reject', piece: 0 }),
    data: encodeMetadataMessage({ type: 'data', piece: 0, totalSize: 40, data: new Uint8Array(40).fill(0x64) }),
    'data-short': encodeMetadataMessage({ type: 'data', piece: 0, totalSize: 40, data: new Uint8Array(30) }),
    'unknown-type': encode({ msg_type: 9, piece: 0 }),
    'total-size-dict': encode({ msg_type: 1, piece: 0, total_size: { total_size: 40 } }),
  },
  'tr-hashpiece': {
    proof: encodeHashPiece({ index: 3, begin: 0, hashes: [[7, id(0)], [0, id(1)]], block: new Uint8Array(40) }),
    'no-hashes': encodeHashPiece({ index: 0, begin: 16384, hashes: [], block: Uint8Array.of(1) }),
    truncated: encodeHashPiece({ index: 3, begin: 0, hashes: [[7, id(0)]], block: new Uint8Array(4) }).subarray(0, 30),
  },
  'ut-pex': {
    'added-dropped': encodePexMessage({ added: [{ host: '10.0.0.1', port: 6881, flags: 2 }, { host: '::1', port: 1, flags: 0 }], dropped: [{ host: '10.0.0.2', port: 2 }] }),
    empty: encodePexMessage({ added: [], dropped: [] }),
    'flags-short': encode({ added: new Uint8Array(12), 'added.f': Uint8Array.of(1) }),
    'added-not-compact': encode({ added: new Uint8Array(7) }),
  },
  'lt-tex': {
    two: encodeTexMessage(['http://127.0.0.1:8787/announce', 'udp://tracker.example:6969/announce']),
    one: encodeTexMessage(['http://127.0.0.1:8787/p/alice.x/announce']),
    'added-not-list': encode({ added: 1 }),
  },
  krpc: {
    'announce-peer': encodeKrpc({ type: 'query', t: Uint8Array.of(1, 2), query: { method: 'announce_peer', id: id(7), infoHash: id(7), port: 6881, impliedPort: false, token: Uint8Array.of(9) } }),
    ping: encodeKrpc({ type: 'query', t: Uint8Array.of(3), query: { method: 'ping', id: id(8) } }),
    response: encodeKrpc({ type: 'response', t: Uint8Array.of(1), body: { id: id(7), nodes: [{ id: id(7), host: '10.0.0.1', port: 1 }], values: [{ host: '10.0.0.2', port: 2 }], token: Uint8Array.of(3) } }),
    error: encodeKrpc({ type: 'error', t: Uint8Array.of(5), code: 201, message: 'A Generic Error Ocurred' }),
    'no-y': encode({ t: 'aa', q: 'ping', a: { id: id(1) } }),
  },
  'pp-layer': {
    'layer-0': encodeLayerChange(0),
    'layer-15': encodeLayerChange(15),
    'layer-16': encode({ layer: 16 }),
    'layer-negative': encode({ layer: -1 }),
    // A dictionary where the number belongs: its error message once threw a TypeError.
    'layer-dict': encode({ layer: { layer: 15 } }),
  },
  'pp-bitfield': {
    request: encodeBitfieldRequest(),
    'have-all': encodeBitfieldResponse({ have: 'all' }),
    'have-none': encodeBitfieldResponse({ have: 'none' }),
    bitfield: encodeBitfieldResponse({ bitfield: Uint8Array.of(0xff, 0xf0) }),
    'spare-bits': encodeBitfieldResponse({ bitfield: Uint8Array.of(0xff, 0xff) }),
    'type-dict': encode({ msg_type: { msg_type: 1 } }),
  },
  'pp-fetching': {
    one: encodeEdgeFetching([3]),
    several: encodeEdgeFetching([0, 7, 11, 5]),
    most: encodeEdgeFetching(Array.from({ length: 64 }, (_, i) => i % 12)),
    'past-the-end': encodeEdgeFetching([12]),
    'odd-length': encode({ pieces: new Uint8Array(5) }),
    empty: encode({ pieces: new Uint8Array(0) }),
  },
  lsd: {
    'v4-cookie': encodeBtSearch({ host: '239.192.152.143:6771', port: 6881, infoHashes: [hash], cookie: '0011223344556677' }),
    'v6-two-hashes': encodeBtSearch({ host: '[ff15::efc0:988f]:6771', port: 1, infoHashes: [hash, hash.replace('0', 'f')] }),
    'port-zero': text(`BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 0\r\nInfohash: ${hash}\r\n\r\n\r\n`),
  },
  'upload-only': {
    yes: Uint8Array.of(1),
    no: Uint8Array.of(0),
    two: Uint8Array.of(2),
    empty: new Uint8Array(0),
    'two-bytes': Uint8Array.of(1, 0),
  },
  'bep17-query': {
    'whole-piece': text(formatBep17Query({ infoHash: id(0x41), piece: 3 })),
    'two-ranges': text(formatBep17Query({ infoHash: id(0xfe), piece: 0, ranges: [[0, 99], [16000, 16383]] })),
    'empty-ranges': text(`${formatBep17Query({ infoHash: id(1), piece: 7 })}&ranges=`),
    'outside-piece': text(formatBep17Query({ infoHash: id(2), piece: 7, ranges: [[0, 100]] })),
    'leading-zero-piece': text(`${formatBep17Query({ infoHash: id(3), piece: 1 }).replace('piece=1', 'piece=0001')}&ranges=5-9`),
    'short-info-hash': text('info_hash=abc&piece=0'),
  },
  passkey: {
    alice: text(alice),
    'long-user': text(await passkeyFor(PASSKEY_SECRET, 'a0_-'.repeat(8))),
    'changed-mac': text(alice.slice(0, -1) + (alice.endsWith('A') ? 'B' : 'A')),
    'uppercase-user': text(`Alice${alice.slice(5)}`),
    'no-dot': text('alice'),
    'too-long': text(`${alice}${'A'.repeat(65 - alice.length)}`),
  },
};

for (const [target, files] of Object.entries(CORPUS)) {
  const dir = path.join(CORPUS_DIR, target);
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(dir, `${name}.bin`), bytes);
}
console.log(Object.entries(CORPUS).map(([target, files]) => `${target}: ${Object.keys(files).length}`).join(', '));
