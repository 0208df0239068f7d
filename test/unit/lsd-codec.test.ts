/** BEP 14 BT-SEARCH codec (shared/lsd/bt-search.ts): the BEP's own layout, each refusal, round trips. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LsdError } from '../../shared/errors.js';
import { type BtSearch, decodeBtSearch, encodeBtSearch, LSD_GROUP_V4, LSD_GROUP_V6, lsdHost, MAX_LSD_DATAGRAM, MAX_LSD_HEADERS, MAX_LSD_INFOHASHES, packBtSearch } from '../../shared/lsd/bt-search.js';
import { b, latin1 } from '../helpers/bytes.js';

const H1 = '0123456789abcdef0123456789abcdef01234567';
const H2 = 'fedcba9876543210fedcba9876543210fedcba98';

/** A datagram from header lines, ended as BEP 14 shows it. */
const datagram = (...lines: string[]): Uint8Array => b(`${lines.join('\r\n')}\r\n\r\n\r\n`);
const base = ['BT-SEARCH * HTTP/1.1', 'Host: 239.192.152.143:6771', 'Port: 6881'];

function refuses(bytes: Uint8Array, code: string): void {
  assert.throws(
    () => decodeBtSearch(bytes),
    (err: unknown) => err instanceof LsdError && err.code === `lsd.${code}`,
    `expected lsd.${code} for ${JSON.stringify(latin1(bytes).slice(0, 120))}`,
  );
}

test('BEP 14: the announce is laid out byte for byte as the BEP shows it', () => {
  const bytes = encodeBtSearch({ host: lsdHost(LSD_GROUP_V4, 6771), port: 6881, infoHashes: [H1], cookie: 'c00k1e' });
  assert.equal(latin1(bytes), `BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\nInfohash: ${H1}\r\ncookie: c00k1e\r\n\r\n\r\n`);
  assert.equal(lsdHost(LSD_GROUP_V6, 6771), '[ff15::efc0:988f]:6771', 'RFC 2732: an IPv6 group in brackets');
});

test('BEP 14: reading an announce: names in any case, hex in any case, unknown headers ignored, the extra CRLF optional', () => {
  const want: BtSearch = { host: '[ff15::efc0:988f]:6771', port: 51413, infoHashes: [H1, H2], cookie: 'abc def' };
  const variants = [
    datagram('BT-SEARCH * HTTP/1.1', 'HOST: [ff15::efc0:988f]:6771', 'port:51413', `INFOHASH: ${H1.toUpperCase()}`, `infohash:\t${H2}  `, 'X-Future: anything at all', 'Cookie: abc def'),
    b(`BT-SEARCH * HTTP/1.1\r\nHost: [ff15::efc0:988f]:6771\r\nPort: 51413\r\nInfohash: ${H1}\r\nInfohash: ${H2}\r\ncookie: abc def\r\n\r\n`),
  ];
  for (const v of variants) assert.deepEqual(decodeBtSearch(v), want);
  // The same infohash twice is one torrent, not two.
  assert.deepEqual(decodeBtSearch(datagram(...base, `Infohash: ${H1}`, `Infohash: ${H1.toUpperCase()}`)).infoHashes, [H1]);
  // No cookie: the announce still counts (older clients send none).
  assert.deepEqual(decodeBtSearch(datagram(...base, `Infohash: ${H1}`)), { host: '239.192.152.143:6771', port: 6881, infoHashes: [H1] });
});

test('BEP 14: each malformed announce is refused with its own reason', () => {
  const ok = [...base, `Infohash: ${H1}`];
  refuses(new Uint8Array(MAX_LSD_DATAGRAM + 1).fill(0x41), 'too-large');
  refuses(datagram(...ok, 'X: caf\u00e9'), 'bad-byte');
  refuses(Uint8Array.of(...b('BT-SEARCH * HTTP/1.1\r\n'), 0, ...b('\r\n\r\n')), 'bad-byte');
  refuses(b(`${ok.join('\r\n')}\r\n`), 'truncated');
  refuses(b(''), 'truncated');
  refuses(b(`${ok.join('\r\n')}\r\n\r\nGET / HTTP/1.1\r\n\r\n`), 'trailing-bytes');
  refuses(b(`${ok.join('\r\n')}\r\n\r\n\r\n\r\n`), 'trailing-bytes');
  refuses(datagram('BT-SEARCH * HTTP/1.1\nHost: 239.192.152.143:6771', 'Port: 6881', `Infohash: ${H1}`), 'bad-line-end');
  refuses(datagram('M-SEARCH * HTTP/1.1', ...ok.slice(1)), 'bad-request-line');
  refuses(datagram('bt-search * HTTP/1.1', ...ok.slice(1)), 'bad-request-line');
  refuses(datagram('BT-SEARCH * HTTP/1.0', ...ok.slice(1)), 'bad-request-line');
  refuses(datagram('BT-SEARCH  * HTTP/1.1', ...ok.slice(1)), 'bad-request-line');
  refuses(datagram(...ok, ...Array.from({ length: MAX_LSD_HEADERS }, (_, i) => `X-${i}: ${i}`)), 'too-many-headers');
  refuses(datagram(...ok, 'no colon here'), 'bad-header');
  refuses(datagram(...ok, 'Name : value'), 'bad-header');
  refuses(datagram(...ok, ' folded continuation'), 'bad-header');
  refuses(datagram(...ok, ': empty name'), 'bad-header');
  refuses(datagram(...ok, 'Host: 239.192.152.143:6771'), 'duplicate-header');
  refuses(datagram(...ok, 'PORT: 6882'), 'duplicate-header');
  refuses(datagram(...ok, 'cookie: a', 'cookie: b'), 'duplicate-header');
  for (const host of ['', 'a b', '[ff15::1', 'ff15::efc0:988f:6771', 'host:', 'host:123456', 'host/x']) refuses(datagram('BT-SEARCH * HTTP/1.1', `Host: ${host}`, 'Port: 6881', `Infohash: ${H1}`), 'bad-host');
  for (const port of ['0', '65536', '99999', '01', '-1', '+1', '1e3', '0x10', '', ' ', '6881 6882', '123456']) refuses(datagram(base[0]!, base[1]!, `Port: ${port}`, `Infohash: ${H1}`), 'bad-port');
  for (const hash of [H1.slice(1), `${H1}0`, `${H1.slice(1)}g`, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', '', `${H1} ${H1}`]) refuses(datagram(...base, `Infohash: ${hash}`), 'bad-infohash');
  refuses(datagram(...base, `Infohash: ${H1}`, 'X-Between: 1', `Infohash: ${H2}`), 'infohash-not-consecutive');
  // 26 distinct infohashes fit 1400 bytes only without the optional spaces; still too many.
  const many = Array.from({ length: MAX_LSD_INFOHASHES + 1 }, (_, i) => `Infohash:${i.toString(16).padStart(40, '0')}`);
  const compact = b(`BT-SEARCH * HTTP/1.1\r\nHost:a\r\nPort:1\r\n${many.join('\r\n')}\r\n\r\n`);
  assert.ok(compact.length <= MAX_LSD_DATAGRAM);
  refuses(compact, 'too-many-infohashes');
  refuses(datagram(...ok, `cookie: ${'x'.repeat(65)}`), 'bad-cookie');
  refuses(datagram(...ok, 'cookie:'), 'bad-cookie');
  refuses(datagram(base[0]!, base[2]!, `Infohash: ${H1}`), 'missing-host');
  refuses(datagram(base[0]!, base[1]!, `Infohash: ${H1}`), 'missing-port');
  refuses(datagram(...base), 'missing-infohash');
});

test('our encoder refuses what our decoder would (no announce of ours is garbage to anyone)', () => {
  const ok: BtSearch = { host: '239.192.152.143:6771', port: 1, infoHashes: [H1] };
  assert.throws(() => encodeBtSearch({ ...ok, port: 0 }), RangeError);
  assert.throws(() => encodeBtSearch({ ...ok, port: 65536 }), RangeError);
  assert.throws(() => encodeBtSearch({ ...ok, infoHashes: [] }), RangeError);
  assert.throws(() => encodeBtSearch({ ...ok, infoHashes: ['xyz'] }), RangeError);
  assert.throws(() => encodeBtSearch({ ...ok, host: 'a b' }), RangeError);
  assert.throws(() => encodeBtSearch({ ...ok, cookie: ' padded ' }), RangeError);
  assert.throws(() => encodeBtSearch({ ...ok, cookie: 'line\r\nInjected: 1' }), RangeError);
});

const infoHash = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((a) => Buffer.from(a).toString('hex'));
const search: fc.Arbitrary<BtSearch> = fc.record(
  {
    host: fc.constantFrom(lsdHost(LSD_GROUP_V4, 6771), lsdHost(LSD_GROUP_V6, 6771), lsdHost(LSD_GROUP_V4, 50000), 'example.lan'),
    port: fc.integer({ min: 1, max: 65535 }),
    infoHashes: fc.uniqueArray(infoHash, { minLength: 1, maxLength: 24 }),
    cookie: fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,30}[\x21-\x7e])?$/),
  },
  { requiredKeys: ['host', 'port', 'infoHashes'] },
);

test('property: decode(encode(x)) is x, and header names in any case read the same', () => {
  fc.assert(
    fc.property(search, fc.boolean(), (x, upper) => {
      const bytes = encodeBtSearch(x);
      assert.ok(bytes.length <= MAX_LSD_DATAGRAM);
      assert.deepEqual(decodeBtSearch(bytes), { ...x });
      const text = latin1(bytes).replace(/\r\n([A-Za-z]+):/g, (_, name: string) => `\r\n${upper ? name.toUpperCase() : name.toLowerCase()}:`);
      assert.deepEqual(decodeBtSearch(b(text)), { ...x });
    }),
  );
});

test('property: packing takes as many infohashes as fit 1400 bytes, at least one, in order', () => {
  fc.assert(
    fc.property(fc.uniqueArray(infoHash, { minLength: 1, maxLength: 80 }), fc.boolean(), fc.integer({ min: 1, max: 65535 }), (hashes, v6, port) => {
      const { datagram: bytes, taken } = packBtSearch({ host: lsdHost(v6 ? LSD_GROUP_V6 : LSD_GROUP_V4, 6771), port, cookie: '0123456789abcdef' }, hashes);
      assert.ok(bytes.length <= MAX_LSD_DATAGRAM && taken >= 1 && taken <= hashes.length);
      assert.deepEqual(decodeBtSearch(bytes).infoHashes, hashes.slice(0, taken));
      if (taken < hashes.length) assert.ok(bytes.length + 52 > MAX_LSD_DATAGRAM || taken === MAX_LSD_INFOHASHES, 'nothing more would fit');
    }),
  );
});
