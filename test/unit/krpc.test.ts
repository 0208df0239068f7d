/** BEP 5 KRPC codec: every query and response round-trips; bad packets get the right error code and keep their transaction id. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { encode } from '../../shared/bencode/index.js';
import { decodeKrpc, encodeKrpc, type KrpcMessage } from '../../shared/dht/krpc.js';
import { KrpcError } from '../../shared/errors.js';

const randomBytes = (n: number) => new Uint8Array(nodeRandomBytes(n));
const id = randomBytes(20);
const t = Uint8Array.from([0x61, 0x61]);

test('queries, responses and errors round-trip (BEP 5, with BEP 33 scrape fields)', () => {
  const messages: KrpcMessage[] = [
    { type: 'query', t, query: { method: 'ping', id } },
    { type: 'query', t, query: { method: 'find_node', id, target: randomBytes(20) } },
    { type: 'query', t, query: { method: 'get_peers', id, infoHash: randomBytes(20), scrape: true, noSeed: true } },
    { type: 'query', t, query: { method: 'announce_peer', id, infoHash: randomBytes(20), port: 6881, impliedPort: true, token: randomBytes(8) } },
    {
      type: 'response',
      t,
      body: {
        id,
        nodes: [{ id: randomBytes(20), host: '10.0.0.1', port: 6881 }],
        values: [{ host: '10.0.0.2', port: 51413 }],
        token: randomBytes(8),
        seeds: new Uint8Array(256).fill(1),
        peers: new Uint8Array(256).fill(2),
      },
    },
    { type: 'error', t, code: 203, message: 'Protocol Error' },
  ];
  for (const m of messages) assert.deepEqual(decodeKrpc(encodeKrpc(m)), m);
});

test('the BEP 5 example ping decodes byte for byte', () => {
  const ping = new TextEncoder().encode('d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe');
  const m = decodeKrpc(ping);
  assert.equal(m.type, 'query');
  assert.equal(m.type === 'query' && m.query.method, 'ping');
  assert.deepEqual(encodeKrpc(m), ping, 'and encodes back to the same bytes');
});

test('bad packets: 203 for malformed or bad arguments, 204 for an unknown method, with the transaction id when known', () => {
  const expectError = (packet: Uint8Array, krpcCode: number, withT: boolean, message: RegExp) => {
    assert.throws(
      () => decodeKrpc(packet),
      (err: unknown) => err instanceof KrpcError && err.krpcCode === krpcCode && (err.transactionId !== undefined) === withT && message.test(err.message),
    );
  };
  expectError(new TextEncoder().encode('d1:t2:aa'), 203, false, /not bencode/);
  expectError(encode(['x']), 203, false, /dictionary/);
  expectError(encode({ y: 'q', q: 'ping', a: { id } }), 203, false, /transaction id/);
  expectError(encode({ t, y: 'q', q: 'fly', a: { id } }), 204, true, /unknown method/);
  expectError(encode({ t, y: 'q', q: 'ping', a: { id: randomBytes(19) } }), 203, true, /"id" must be 20 bytes/);
  expectError(encode({ t, y: 'q', q: 'find_node', a: { id } }), 203, true, /"target" must be 20 bytes/);
  expectError(encode({ t, y: 'q', q: 'announce_peer', a: { id, info_hash: id, port: 0, token: 'x' } }), 203, true, /port/);
  expectError(encode({ t, y: 'q', q: 'announce_peer', a: { id, info_hash: id, port: 1 } }), 203, true, /token/);
  expectError(encode({ t, y: 'r', r: { id, nodes: new Uint8Array(25) } }), 203, true, /26/);
  expectError(encode({ t, y: 'x' }), 203, true, /q, r or e/);
});
