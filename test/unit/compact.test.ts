import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeCompactNodes, decodeCompactPeer, decodeCompactPeers, encodeCompactNodes, encodeCompactPeers } from '../../shared/compact/index.js';
import { formatIPv6, parseIPv4, parseIPv6 } from '../../shared/ip.js';
import { CompactError } from '../../shared/errors.js';

test('BEP 23 compact IPv4 peers: 6 bytes each, network byte order', () => {
  const bytes = encodeCompactPeers([{ host: '127.0.0.1', port: 6881 }, { host: '10.1.2.3', port: 1 }], 4);
  assert.deepEqual(Array.from(bytes), [127, 0, 0, 1, 0x1a, 0xe1, 10, 1, 2, 3, 0, 1]);
  assert.deepEqual(decodeCompactPeers(bytes, 4), [{ host: '127.0.0.1', port: 6881 }, { host: '10.1.2.3', port: 1 }]);
});

test('BEP 7 compact IPv6 peers: 18 bytes each', () => {
  const bytes = encodeCompactPeers([{ host: '::1', port: 6881 }], 6);
  assert.equal(bytes.length, 18);
  assert.equal(bytes[15], 1);
  assert.deepEqual(decodeCompactPeers(bytes, 6), [{ host: '::1', port: 6881 }]);
  assert.deepEqual(decodeCompactPeer(bytes), { host: '::1', port: 6881 });
});

test('BEP 5 compact node info: 26 bytes (v4) and 38 bytes (v6) per node', () => {
  const id = Uint8Array.from({ length: 20 }, (_, i) => i);
  const v4 = encodeCompactNodes([{ id, host: '127.0.0.1', port: 6881 }], 4);
  assert.equal(v4.length, 26);
  assert.deepEqual(decodeCompactNodes(v4, 4), [{ id, host: '127.0.0.1', port: 6881 }]);
  const v6 = encodeCompactNodes([{ id, host: '2001:db8::2', port: 6881 }], 6);
  assert.equal(v6.length, 38);
  assert.deepEqual(decodeCompactNodes(v6, 6), [{ id, host: '2001:db8::2', port: 6881 }]);
});

test('wrong lengths and families are typed errors, never truncation', () => {
  const code = (fn: () => unknown, c: string) => assert.throws(fn, (e: unknown) => e instanceof CompactError && e.code === `compact.${c}`);
  code(() => decodeCompactPeers(new Uint8Array(7), 4), 'bad-length');
  code(() => decodeCompactPeers(new Uint8Array(17), 6), 'bad-length');
  code(() => decodeCompactNodes(new Uint8Array(27), 4), 'bad-length');
  code(() => decodeCompactPeer(new Uint8Array(5)), 'bad-length');
  code(() => encodeCompactPeers([{ host: '::1', port: 1 }], 4), 'wrong-family');
  code(() => encodeCompactPeers([{ host: 'example.com', port: 1 }], 4), 'bad-address');
  code(() => encodeCompactPeers([{ host: '1.2.3.4', port: 65536 }], 4), 'bad-port');
  code(() => encodeCompactNodes([{ id: new Uint8Array(19), host: '1.2.3.4', port: 1 }], 4), 'bad-node-id');
});

test('IP text: strict IPv4, RFC 5952 IPv6', () => {
  assert.equal(parseIPv4('01.2.3.4'), undefined); // octal-looking
  assert.equal(parseIPv4('256.1.1.1'), undefined);
  assert.equal(parseIPv4('1.2.3'), undefined);
  assert.equal(parseIPv6('1:::2'), undefined);
  assert.equal(parseIPv6('1:2:3:4:5:6:7:8:9'), undefined);
  assert.equal(parseIPv6('12345::'), undefined);
  assert.equal(parseIPv6('1.2.3.4::'), undefined); // dotted IPv4 only in the last 32 bits
  assert.equal(parseIPv6('1:2.3.4.5::'), undefined);
  assert.equal(formatIPv6(parseIPv6('::1.2.3.4')!), '::102:304');
  assert.equal(formatIPv6(parseIPv6('2001:0DB8:0:0:1:0:0:1')!), '2001:db8::1:0:0:1');
  assert.equal(formatIPv6(parseIPv6('2001:db8:0:1:1:1:1:1')!), '2001:db8:0:1:1:1:1:1');
  assert.equal(formatIPv6(parseIPv6('::ffff:192.0.2.1')!), '::ffff:192.0.2.1');
  assert.equal(formatIPv6(parseIPv6('::')!), '::');
});

test('property: compact peers round-trip for any address and port', () => {
  const v4 = fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 65535 })).map(([host, port]) => ({ host, port }));
  const v6 = fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 65535 })).map(([ip, port]) => ({
    host: formatIPv6(ip),
    port,
  }));
  fc.assert(fc.property(fc.array(v4, { maxLength: 20 }), (peers) => assert.deepEqual(decodeCompactPeers(encodeCompactPeers(peers, 4), 4), peers)));
  fc.assert(fc.property(fc.array(v6, { maxLength: 20 }), (peers) => assert.deepEqual(decodeCompactPeers(encodeCompactPeers(peers, 6), 6), peers)));
});
