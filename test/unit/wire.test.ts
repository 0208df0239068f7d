import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireError } from '../../shared/errors.js';
import { allowedFastSet } from '../../shared/wire/allowed-fast.js';
import { MessageFramer } from '../../shared/wire/framer.js';
import { capabilities, decodeHandshake, encodeHandshake, HANDSHAKE_LENGTH, reservedBytes } from '../../shared/wire/handshake.js';
import { decodeMessage, encodeMessage, type WireMessage } from '../../shared/wire/messages.js';
import { decodeExtensionHandshake, encodeExtensionHandshake } from '../../shared/wire/extension-handshake.js';

const hash = new Uint8Array(20).fill(0xaa);
const peerId = new TextEncoder().encode('-ES0100-abcdefghijkl');

test('handshake: 68 bytes, reserved bits for BEP 10, BEP 5 and BEP 6, decoded once complete', () => {
  const reserved = reservedBytes({ extensionProtocol: true, fast: true, dht: true });
  assert.deepEqual([...reserved], [0, 0, 0, 0, 0, 0x10, 0, 0x05]);
  const bytes = encodeHandshake({ reserved, infoHash: hash, peerId });
  assert.equal(bytes.length, HANDSHAKE_LENGTH);
  assert.equal(new TextDecoder().decode(bytes.subarray(1, 20)), 'BitTorrent protocol');
  assert.equal(decodeHandshake(bytes.subarray(0, 67)), undefined);
  const h = decodeHandshake(bytes)!;
  assert.deepEqual(h.infoHash, hash);
  assert.deepEqual(h.peerId, peerId);
  assert.deepEqual(capabilities(h.reserved), { extensionProtocol: true, fast: true, dht: true });
  assert.deepEqual(capabilities(new Uint8Array(8)), { extensionProtocol: false, fast: false, dht: false });
});

test('handshake: a wrong protocol string is refused from its first wrong byte', () => {
  assert.throws(() => decodeHandshake(new Uint8Array([18])), WireError);
  assert.throws(() => decodeHandshake(new TextEncoder().encode('\x13BitTorrent Protocol')), /BitTorrent protocol/);
  assert.throws(() => decodeHandshake(new TextEncoder().encode('GET / HTTP/1.1\r\n')), WireError);
});

const samples: WireMessage[] = [
  { type: 'keepAlive' },
  { type: 'choke' },
  { type: 'unchoke' },
  { type: 'interested' },
  { type: 'notInterested' },
  { type: 'have', index: 4294967295 },
  { type: 'bitfield', bits: new Uint8Array([0b10100000, 0xff]) },
  { type: 'request', index: 1, begin: 16384, length: 16384 },
  { type: 'piece', index: 2, begin: 0, block: new Uint8Array([1, 2, 3]) },
  { type: 'cancel', index: 1, begin: 16384, length: 16384 },
  { type: 'port', port: 6881 },
  { type: 'suggestPiece', index: 9 },
  { type: 'haveAll' },
  { type: 'haveNone' },
  { type: 'rejectRequest', index: 3, begin: 32768, length: 100 },
  { type: 'allowedFast', index: 1059 },
  { type: 'extended', extendedId: 0, payload: new TextEncoder().encode('d1:md6:ut_pexi1eee') },
  { type: 'unknown', id: 99, payload: new Uint8Array([7]) },
];

test('every message round-trips through the framer, however the stream is cut', () => {
  const stream = new Uint8Array(Buffer.concat(samples.map(encodeMessage)));
  for (const step of [1, 2, 3, 5, 7, 13, stream.length]) {
    const framer = new MessageFramer();
    const got: WireMessage[] = [];
    for (let at = 0; at < stream.length; at += step) got.push(...framer.push(stream.subarray(at, at + step)));
    assert.deepEqual(got, samples, `cut every ${step} bytes`);
    assert.equal(framer.bufferedBytes, 0);
  }
});

test('exact byte layouts (BEP 3 / BEP 6)', () => {
  assert.deepEqual([...encodeMessage({ type: 'keepAlive' })], [0, 0, 0, 0]);
  assert.deepEqual([...encodeMessage({ type: 'haveAll' })], [0, 0, 0, 1, 14]);
  assert.deepEqual([...encodeMessage({ type: 'have', index: 258 })], [0, 0, 0, 5, 4, 0, 0, 1, 2]);
  assert.deepEqual([...encodeMessage({ type: 'rejectRequest', index: 1, begin: 2, length: 3 })], [0, 0, 0, 13, 16, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]);
  assert.deepEqual([...encodeMessage({ type: 'port', port: 0x1ae1 })], [0, 0, 0, 3, 9, 0x1a, 0xe1]);
});

test('a known message with the wrong payload length is a protocol error', () => {
  assert.throws(() => decodeMessage(new Uint8Array([0, 1])), /choke carries 1 payload bytes, not 0/);
  assert.throws(() => decodeMessage(new Uint8Array([4, 0, 0, 1])), /have carries 3/);
  assert.throws(() => decodeMessage(new Uint8Array([6, ...new Uint8Array(13)])), /request carries 13/);
  assert.throws(() => decodeMessage(new Uint8Array([7, 0, 0, 0, 1])), /piece carries 4 payload bytes, fewer than 8/);
  assert.throws(() => decodeMessage(new Uint8Array([14, 0])), /haveAll/);
  assert.throws(() => decodeMessage(new Uint8Array([20])), /extended message without/);
});

test('an oversized length prefix is refused before its body is buffered', () => {
  const framer = new MessageFramer(1024);
  assert.deepEqual(framer.push(new Uint8Array([0, 0, 4])), []);
  assert.throws(() => framer.push(new Uint8Array([1])), (err: unknown) => err instanceof WireError && err.code === 'wire.message.too-long');
  assert.equal(framer.bufferedBytes, 4);
});

test('BEP 6 allowed-fast set matches the published example (80.4.4.200, info-hash 0xaa*20, 1313 pieces)', async () => {
  const ip = new Uint8Array([80, 4, 4, 200]);
  assert.deepEqual(await allowedFastSet(ip, hash, 1313, 7), [1059, 431, 808, 1217, 287, 376, 1188]);
  assert.deepEqual(await allowedFastSet(ip, hash, 1313, 9), [1059, 431, 808, 1217, 287, 376, 1188, 353, 508]);
  // The /24 is what counts: a neighbour gets the same set.
  assert.deepEqual(await allowedFastSet(new Uint8Array([80, 4, 4, 1]), hash, 1313, 7), [1059, 431, 808, 1217, 287, 376, 1188]);
  // Never more pieces than the torrent has, all distinct.
  const small = await allowedFastSet(ip, hash, 3, 10);
  assert.deepEqual([...small].sort(), [0, 1, 2]);
  assert.deepEqual(await allowedFastSet(new Uint8Array(16), hash, 1313, 7), []);
});

test('BEP 10 extension handshake: round trip, disabled entries dropped, odd field types ignored, bad payloads refused', () => {
  const bytes = encodeExtensionHandshake({ m: new Map([['ut_metadata', 2], ['ut_pex', 1]]), v: 'edge-swarm 0.1', p: 6881, reqq: 500, yourip: new Uint8Array([127, 0, 0, 1]), metadataSize: 31235, uploadOnly: true });
  assert.equal(new TextDecoder().decode(bytes).slice(0, 4), 'd1:m');
  const hs = decodeExtensionHandshake(bytes);
  assert.deepEqual([...hs.m].sort(), [['ut_metadata', 2], ['ut_pex', 1]]);
  assert.deepEqual([hs.v, hs.p, hs.reqq, hs.metadataSize, hs.uploadOnly], ['edge-swarm 0.1', 6881, 500, 31235, true]);
  assert.deepEqual([...hs.yourip!], [127, 0, 0, 1]);
  // 0 disables an extension; a v that is an integer and a 5-byte yourip are ignored, not fatal.
  const odd = decodeExtensionHandshake(new TextEncoder().encode('d1:md6:ut_pexi0e11:ut_metadatai3ee1:vi5e6:youripi5ee'));
  assert.deepEqual([...odd.m], [['ut_metadata', 3]]);
  assert.equal(odd.v, undefined);
  assert.equal(odd.yourip, undefined);
  assert.throws(() => decodeExtensionHandshake(new TextEncoder().encode('li1ee')), /not a dictionary/);
  assert.throws(() => decodeExtensionHandshake(new TextEncoder().encode('d1:mi1ee')), /"m" is not a dictionary/);
  assert.throws(() => decodeExtensionHandshake(new TextEncoder().encode('d1:m')), /not bencode/);
});
