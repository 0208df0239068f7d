import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMagnet, parseMagnet } from '../../shared/metainfo/index.js';
import { MagnetError } from '../../shared/errors.js';
import { toHex } from '../../shared/bytes.js';

const HEX = 'c12fe1c06bba254a9dc9f519b335aa7c1367a88a';
// The same 20 bytes in RFC 4648 base32, the older BEP 9 form.
const BASE32 = 'YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK';

function rejects(uri: string, code: string) {
  assert.throws(() => parseMagnet(uri), (err: unknown) => err instanceof MagnetError && err.code === `magnet.${code}`, code);
}

test('parses xt (hex and base32), dn, tr, ws, x.pe and xl', () => {
  const link = parseMagnet(
    `magnet:?xt=urn:btih:${HEX.toUpperCase()}&dn=My+Movie%20%C3%A9&tr=http%3A%2F%2F127.0.0.1%3A8787%2Fannounce` +
      `&tr.1=udp://127.0.0.1:6969&ws=http%3A%2F%2F127.0.0.1%3A8787%2Fseed%2F&x.pe=127.0.0.1:6881&x.pe=%5B%3A%3A1%5D:6882` +
      `&x.pe=peer.example:7000&xl=1234&so=0-3`,
  );
  assert.equal(toHex(link.infoHash), HEX);
  assert.equal(link.name, 'My Movie é');
  assert.deepEqual(link.trackers, ['http://127.0.0.1:8787/announce', 'udp://127.0.0.1:6969']);
  assert.deepEqual(link.webSeeds, ['http://127.0.0.1:8787/seed/']);
  assert.deepEqual(link.peers, [
    { host: '127.0.0.1', port: 6881 },
    { host: '::1', port: 6882 },
    { host: 'peer.example', port: 7000 },
  ]);
  assert.equal(link.length, 1234);
  assert.equal(toHex(parseMagnet(`magnet:?xt=urn:btih:${BASE32}`).infoHash), HEX);
  assert.equal(toHex(parseMagnet(`magnet:?xt=urn:btih:${BASE32.toLowerCase()}`).infoHash), HEX);
});

test('a btmh (v2) topic alongside btih is skipped; btih is required', () => {
  const link = parseMagnet(`magnet:?xt=urn:btmh:1220${'ab'.repeat(32)}&xt=urn:btih:${HEX}`);
  assert.equal(toHex(link.infoHash), HEX);
  rejects(`magnet:?xt=urn:btmh:1220${'ab'.repeat(32)}`, 'no-info-hash');
});

test('format then parse is the identity', () => {
  const link = {
    infoHash: Uint8Array.from({ length: 20 }, (_, i) => i * 13),
    name: 'a & b = c?',
    trackers: ['http://127.0.0.1:8787/announce?x=1&y=2'],
    webSeeds: ['http://127.0.0.1:8787/seed/'],
    peers: [{ host: '127.0.0.1', port: 1 }, { host: '2001:db8::1', port: 65535 }],
    length: 99,
  };
  const uri = formatMagnet(link);
  assert.match(uri, /^magnet:\?xt=urn:btih:[0-9a-f]{40}&/);
  assert.deepEqual(parseMagnet(uri), link);
});

test('bad magnets are rejected with a reason', () => {
  rejects('http://example/', 'not-magnet');
  rejects('magnet:?dn=x', 'no-info-hash');
  rejects('magnet:?xt=urn:btih:abc', 'bad-info-hash');
  rejects(`magnet:?xt=urn:btih:${'g'.repeat(40)}`, 'bad-info-hash');
  rejects(`magnet:?xt=urn:btih:${HEX}&dn=%E0%A4%A`, 'bad-escape');
  rejects(`magnet:?xt=urn:btih:${HEX}&xt=urn:btih:${'0'.repeat(40)}`, 'conflicting-hash');
  rejects(`magnet:?xt=urn:btih:${HEX}&xl=-1`, 'bad-length');
  rejects(`magnet:?xt=urn:btih:${HEX}&xl=9999999999999999`, 'bad-length');
  rejects(`magnet:?xt=urn:btih:${BASE32.replace('I', '\u0131')}`, 'bad-info-hash');
  rejects(`magnet:?xt=urn:btih:${HEX}&dn=${'a'.repeat(70_000)}`, 'too-long');
});

test('unusable x.pe hints are skipped, extra values beyond the cap ignored, IPv6 normalised', () => {
  const link = parseMagnet(
    `magnet:?xt=urn:btih:${HEX}&x.pe=127.0.0.1&x.pe=127.0.0.1:70000&x.pe=[zz]:1&x.pe=[fe80::1%25eth0]:6881` +
      `&x.pe=999.999.999.999:6881&x.pe=[1.2.3.4::]:1&x.pe=[2001:DB8:0::1]:6881${'&tr=http://t/'.repeat(250)}`,
  );
  assert.deepEqual(link.peers, [{ host: '2001:db8::1', port: 6881 }]);
  assert.equal(link.trackers.length, 200);
});
