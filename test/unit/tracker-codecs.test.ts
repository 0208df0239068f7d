import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeAnnounceResponse,
  decodeScrapeResponse,
  decodeUdpRequest,
  decodeUdpResponse,
  encodeAnnounceResponse,
  encodeFailure,
  encodeScrapeResponse,
  encodeUdpRequest,
  encodeUdpResponse,
  layerOfQuery,
  parseAnnounceQuery,
  parseScrapeQuery,
  type UdpRequest,
  UdpRequestError,
} from '../../shared/tracker/index.js';
import { TrackerError } from '../../shared/errors.js';
import { toHex } from '../../shared/bytes.js';

const escape = (bytes: Uint8Array) => Array.from(bytes, (b) => `%${b.toString(16).padStart(2, '0')}`).join('');
const HASH = Uint8Array.from({ length: 20 }, (_, i) => 0xf0 ^ i); // bytes that are not valid UTF-8
const PEER = new TextEncoder().encode('-ES0100-abcdefghijkl');
const base = `info_hash=${escape(HASH)}&peer_id=${escape(PEER)}&port=6881`;

function rejects(query: string, code: string) {
  assert.throws(() => parseAnnounceQuery(query), (e: unknown) => e instanceof TrackerError && e.code === `tracker.${code}`, `${query} -> ${code}`);
}

test('announce query: binary info_hash survives percent-decoding byte for byte', () => {
  const p = parseAnnounceQuery(`${base}&uploaded=1&downloaded=2&left=3&event=started&numwant=10&compact=1&key=abc&trackerid=t1`);
  assert.deepEqual(p.infoHash, HASH);
  assert.deepEqual(p.peerId, PEER);
  assert.equal(p.port, 6881);
  assert.deepEqual([p.uploaded, p.downloaded, p.left], [1, 2, 3]);
  assert.equal(p.event, 'started');
  assert.equal(p.numwant, 10);
  assert.equal(p.compact, true);
  assert.equal(p.key, 'abc');
  assert.equal(p.trackerId, 't1');
  // Unreserved characters may also appear unescaped, as many clients send them.
  const mixed = parseAnnounceQuery(`info_hash=${'a'.repeat(20)}&peer_id=-ES0100-abcdefghijkl&port=1`);
  assert.equal(toHex(mixed.infoHash), '61'.repeat(20));
});

test('announce query: defaults, BEP 21 paused, numwant clamped, BEP 7 endpoints', () => {
  const p = parseAnnounceQuery(`${base}&event=paused&numwant=100000&compact=0&no_peer_id=1&ipv6=%5B2001%3Adb8%3A%3A1%5D%3A7000&ipv4=10.0.0.1`);
  assert.equal(p.event, 'paused');
  assert.equal(p.numwant, 200);
  assert.equal(p.compact, false);
  assert.equal(p.noPeerId, true);
  assert.deepEqual(p.otherAddresses, [{ host: '10.0.0.1', port: 6881 }, { host: '2001:db8::1', port: 7000 }]);
  const d = parseAnnounceQuery(base);
  // BEP 3 requires left; a client that leaves it out is not taken for a seed.
  assert.deepEqual([d.event, d.numwant, d.compact, d.left], ['none', 50, true, Number.MAX_SAFE_INTEGER]);
  assert.equal(parseAnnounceQuery(`${base}&left=0`).left, 0);
  // BEP 3 allows a DNS name in ip=; we never use names, so it is ignored rather than refused.
  assert.deepEqual(parseAnnounceQuery(`${base}&ip=peer.example.org`).otherAddresses, []);
  // libtorrent sends key=%08X over HTTP and the number over BEP 15: both normalise alike.
  assert.equal(parseAnnounceQuery(`${base}&key=0A1B2C3D`).key, (0x0a1b2c3d).toString(16));
  assert.equal(parseAnnounceQuery(`${base}&numwant=-1`).numwant, 50);
});

test('announce query: every malformed parameter gets a precise reason', () => {
  rejects(`peer_id=${escape(PEER)}&port=1`, 'missing-parameter');
  rejects(`info_hash=${escape(HASH.subarray(0, 19))}&peer_id=${escape(PEER)}&port=1`, 'bad-parameter');
  rejects(`info_hash=${escape(HASH)}&peer_id=short&port=1`, 'bad-parameter');
  rejects(`info_hash=${escape(HASH)}&peer_id=${escape(PEER)}`, 'missing-parameter');
  rejects(`${base.replace('6881', '0')}`, 'bad-parameter');
  rejects(`${base.replace('6881', '70000')}`, 'bad-parameter');
  rejects(`${base}&left=-5`, 'bad-parameter');
  rejects(`${base}&left=1e5`, 'bad-parameter');
  rejects(`${base}&event=exploded`, 'bad-parameter');
  rejects(`${base}&numwant=lots`, 'bad-parameter');
  rejects(`${base}&port=1`, 'duplicate-parameter');
  rejects(`${base}&key=%zz`, 'bad-escape');
  rejects(`${base}&ipv4=not-an-ip`, 'bad-parameter');
  rejects(`${base}&ip=1.2.3.4.5`, 'bad-parameter');
  rejects(`${base}&key=${'k'.repeat(65)}`, 'bad-parameter');
  rejects(`${base}&x=${'y'.repeat(9000)}`, 'too-long');
});

test('announce query: LAYER-CHANGE `layer` is 0-15 in plain decimal, absent when not sent', () => {
  assert.equal(parseAnnounceQuery(base).layer, undefined);
  assert.equal(parseAnnounceQuery(`${base}&layer=0`).layer, 0);
  assert.equal(parseAnnounceQuery(`${base}&layer=15`).layer, 15);
  assert.equal(parseAnnounceQuery(`${base}&layer=07`).layer, 7);
  for (const bad of ['16', '-1', '+1', '1.0', '1e1', '', 'one', '%201', '0000']) rejects(`${base}&layer=${bad}`, 'bad-parameter');
  rejects(`${base}&layer=1&layer=2`, 'duplicate-parameter');
  // BEP 41 URL data: the query of the tracker URL.
  assert.equal(layerOfQuery('layer=3&x=1'), 3);
  assert.equal(layerOfQuery('x=1'), undefined);
  assert.throws(() => layerOfQuery('layer=x'), (e: unknown) => e instanceof TrackerError && e.code === 'tracker.bad-parameter');
});

test('scrape query: one to 100 hashes of 20 bytes', () => {
  assert.equal(parseScrapeQuery(`info_hash=${escape(HASH)}&info_hash=${escape(PEER)}`).infoHashes.length, 2);
  assert.throws(() => parseScrapeQuery(''), /full scrapes are not offered/);
  assert.throws(() => parseScrapeQuery(`info_hash=abc`), /20 bytes/);
  assert.throws(() => parseScrapeQuery(Array(101).fill(`info_hash=${escape(HASH)}`).join('&')), /at most 100/);
});

test('HTTP responses: compact v4/v6, dictionary model, BEP 24, BEP 31 and scrape round-trip', () => {
  const peers = [
    { host: '127.0.0.1', port: 6881, peerId: PEER },
    { host: '::1', port: 6882, peerId: HASH },
  ];
  const response = { interval: 900, minInterval: 60, complete: 1, incomplete: 2, peers, externalIp: '127.0.0.1', warning: 'hi' };
  const compact = decodeAnnounceResponse(encodeAnnounceResponse(response, { compact: true, noPeerId: false }));
  assert.ok(!('failure' in compact));
  assert.deepEqual(compact.peers, [{ host: '127.0.0.1', port: 6881 }, { host: '::1', port: 6882 }]);
  assert.equal(compact.externalIp, '127.0.0.1');
  assert.equal(compact.minInterval, 60);
  assert.equal(compact.warning, 'hi');
  const dicts = decodeAnnounceResponse(encodeAnnounceResponse(response, { compact: false, noPeerId: false }));
  assert.ok(!('failure' in dicts));
  assert.deepEqual(dicts.peers, peers.map(({ host, port, peerId }) => ({ host, port, peerId })));
  const noIds = decodeAnnounceResponse(encodeAnnounceResponse(response, { compact: false, noPeerId: true }));
  assert.ok(!('failure' in noIds) && noIds.peers.every((p) => p.peerId === undefined));
  assert.deepEqual(decodeAnnounceResponse(encodeFailure({ failure: 'no', retryIn: 5 })), { failure: 'no', retryIn: 5 });
  assert.deepEqual(decodeAnnounceResponse(encodeFailure({ failure: 'never', retryIn: 'never' })), { failure: 'never', retryIn: 'never' });
  const files = new Map([[toHex(HASH), { complete: 3, incomplete: 4, downloaded: 5, downloaders: 2 }]]);
  assert.deepEqual(decodeScrapeResponse(encodeScrapeResponse(files)), files);
});

const connectionId = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
const announce: UdpRequest = {
  action: 'announce',
  connectionId,
  transactionId: 0xdeadbeef,
  infoHash: HASH,
  peerId: PEER,
  downloaded: 2 ** 40,
  left: 12345,
  uploaded: 0,
  event: 'started',
  ip: 0,
  key: 0xabcdef01,
  numWant: -1,
  port: 51413,
};

test('BEP 15 layouts: connect is 16 bytes with the magic, announce 98, scrape 16 + 20n', () => {
  const connect = encodeUdpRequest({ action: 'connect', transactionId: 7 });
  assert.equal(Buffer.from(connect).toString('hex'), '0000041727101980' + '00000000' + '00000007');
  const a = encodeUdpRequest(announce);
  assert.equal(a.length, 98);
  assert.equal(Buffer.from(a.subarray(8, 16)).toString('hex'), '00000001deadbeef');
  assert.equal(Buffer.from(a.subarray(80, 84)).toString('hex'), '00000002'); // started = 2
  assert.equal(Buffer.from(a.subarray(92, 98)).toString('hex'), 'ffffffffc8d5'); // numwant -1, port 51413
  assert.deepEqual(decodeUdpRequest(a), announce);
  const s = encodeUdpRequest({ action: 'scrape', connectionId, transactionId: 1, infoHashes: [HASH, PEER] });
  assert.equal(s.length, 56);
  assert.deepEqual(decodeUdpRequest(s), { action: 'scrape', connectionId, transactionId: 1, infoHashes: [HASH, PEER] });
});

test('BEP 15 responses round-trip, IPv6 peers take 18 bytes', () => {
  const v4 = encodeUdpResponse({ action: 'announce', transactionId: 9, interval: 900, leechers: 1, seeders: 2, peers: [{ host: '127.0.0.1', port: 1 }] });
  assert.equal(v4.length, 26);
  const v6 = encodeUdpResponse({ action: 'announce', transactionId: 9, interval: 900, leechers: 1, seeders: 2, peers: [{ host: '::1', port: 1 }] });
  assert.equal(v6.length, 38);
  assert.deepEqual(decodeUdpResponse(v6, 6), { action: 'announce', transactionId: 9, interval: 900, leechers: 1, seeders: 2, peers: [{ host: '::1', port: 1 }] });
  const scrape = { action: 'scrape' as const, transactionId: 3, results: [{ seeders: 1, completed: 2, leechers: 3 }] };
  assert.deepEqual(decodeUdpResponse(encodeUdpResponse(scrape), 4), scrape);
  const error = { action: 'error' as const, transactionId: 4, message: 'no such torrent' };
  assert.deepEqual(decodeUdpResponse(encodeUdpResponse(error), 4), error);
});

test('BEP 41 URL data after the announce carries a passkey path', () => {
  const withUrl = { ...announce, urlData: '/p/alice.' + 'x'.repeat(300) + '/announce' };
  const bytes = encodeUdpRequest(withUrl);
  assert.ok(bytes.length > 98);
  assert.deepEqual(decodeUdpRequest(bytes), withUrl);
});

test('BEP 15 bad packets: unsendable ones are dropped, sendable ones name the transaction', () => {
  const err = (packet: Uint8Array) => {
    try {
      decodeUdpRequest(packet);
    } catch (e) {
      assert.ok(e instanceof UdpRequestError);
      return e;
    }
    assert.fail('should throw');
  };
  assert.equal(err(new Uint8Array(15)).sendable, false);
  assert.equal(err(new Uint8Array(3000)).sendable, false);
  const badMagic = encodeUdpRequest({ action: 'connect', transactionId: 1 });
  badMagic[0] = 9;
  assert.equal(err(badMagic).sendable, false);
  const shortAnnounce = encodeUdpRequest(announce).subarray(0, 97);
  assert.equal(err(shortAnnounce).transactionId, 0xdeadbeef);
  const badAction = encodeUdpRequest(announce);
  badAction[11] = 9;
  assert.match(err(badAction).message, /unknown action 9/);
  const badEvent = encodeUdpRequest(announce);
  badEvent[83] = 7;
  assert.match(err(badEvent).message, /unknown event 7/);
  const oddScrape = new Uint8Array([...encodeUdpRequest({ action: 'scrape', connectionId, transactionId: 5, infoHashes: [HASH] }), 1]);
  assert.equal(err(oddScrape).transactionId, 5);
  const tooMany = encodeUdpRequest({ action: 'scrape', connectionId, transactionId: 6, infoHashes: Array(75).fill(HASH) });
  assert.match(err(tooMany).message, /at most 74/);
});

test('fuzz: tracker decoders only return or throw TrackerError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.string({ maxLength: 300 }), (bytes, text) => {
      for (const fn of [() => decodeUdpRequest(bytes), () => decodeUdpResponse(bytes, 4), () => decodeAnnounceResponse(bytes), () => decodeScrapeResponse(bytes), () => parseAnnounceQuery(text), () => parseScrapeQuery(text)]) {
        try {
          fn();
        } catch (e) {
          if (!(e instanceof TrackerError) && !(e instanceof Error && e.name === 'BencodeError') && !(e instanceof Error && e.name === 'CompactError')) throw e;
        }
      }
    }),
    { numRuns: 3000 },
  );
});

test('property: the hot-path compact answer is byte for byte what the generic encoder makes', async () => {
  const { encodeCompactAnnounce } = await import('../../shared/tracker/http-response.js');
  const { encode } = await import('../../shared/bencode/index.js');
  const entries = (size: number) => fc.array(fc.uint8Array({ minLength: size, maxLength: size }), { maxLength: 10 }).map((a) => Uint8Array.from(a.flatMap((x) => [...x])));
  fc.assert(
    fc.property(fc.nat(), fc.nat(), fc.nat(), fc.nat(), fc.option(fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 })), { nil: undefined }), entries(6), entries(18), (complete, incomplete, interval, minInterval, externalIp, peers, peers6) => {
      const fast = encodeCompactAnnounce({ complete, incomplete, interval, minInterval, ...(externalIp ? { externalIp } : {}), peers, peers6 });
      const generic = encode({ complete, incomplete, interval, 'min interval': minInterval, 'external ip': externalIp, peers, peers6: peers6.length > 0 ? peers6 : undefined });
      assert.deepEqual(fast, generic);
    }),
    { numRuns: 500 },
  );
});
