/**
 * Fuzz targets for the decoders of network and file input that test/fuzz/decoders.test.ts does
 * not cover: BEP 15 packets both ways, BEP 41 URL data, the HTTP tracker's query parsers and
 * response decoders, Range headers, layer info and the layered-asset manifest, BEP 10 handshakes
 * and peer-wire messages (round trips), the UDP gateway's batch framing, IP text, BEP 17 seed
 * queries and passkeys.
 *
 * Each target decodes every file of its committed corpus (test/fixtures/fuzz-corpus/<target>/),
 * then built-in seeds, mutations of both and random input; its decoder must return a value or
 * throw its typed ProtocolError with a code, never anything else, and finish. Each runs for at
 * most FUZZ_RUNS inputs and FUZZ_MS milliseconds (default 3000: the whole file stays under a
 * minute in CI; `FUZZ_MS=60000` for a long run) and prints `fuzz <target>: N executions,
 * C crashes` (harness.ts). Inputs that once broke a decoder go to
 * test/fixtures/fuzz-regressions/network-inputs/ and are checked against REGRESSIONS first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fc from 'fast-check';
import { LayerInfoError, TrackerError } from '../../shared/errors.js';
import { decodeUdpRequest, decodeUdpResponse, encodeUdpRequest, encodeUdpResponse, type UdpRequest, type UdpResponse } from '../../shared/tracker/udp-packets.js';
import { escapeBytes, layerOfQuery, parseAnnounceQuery, parseGetPeerQuery, parseRawQuery, parseScrapeQuery } from '../../shared/tracker/http-query.js';
import { decodeAnnounceResponse, decodeScrapeResponse, encodeAnnounceResponse, encodeFailure, encodeScrapeResponse, type AnnounceResponse } from '../../shared/tracker/http-response.js';
import { TRACKER_LIMITS } from '../../shared/tracker/announce-params.js';
import { parseRange } from '../../shared/http/range.js';
import { MAX_LAYERS, parseLayerInfo, validateLayerInfo, type LayerInfo } from '../../shared/layers/layer-info.js';
import { validateManifest } from '../../peer-node/layers/layered-asset.js';
import { decodeExtensionHandshake, encodeExtensionHandshake, type ExtensionHandshake } from '../../shared/wire/extension-handshake.js';
import { decodeMessage, encodeMessage, type WireMessage } from '../../shared/wire/messages.js';
import { decodeGatewayBatch, decodeGatewayReplies, encodeGatewayBatch, encodeGatewayReplies } from '../../shared/tracker/gateway.js';
import { canonicalIp, formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../../shared/ip.js';
import { parsePeerIdPrefix } from '../../shared/peer-id.js';
import { toHex } from '../../shared/bytes.js';
import { Bep17Error, bep17Ranges, formatBep17Query, MAX_BEP17_RANGES, parseBep17Query, type Bep17Ranges, type PieceSizes } from '../../shared/http/bep17-query.js';
import { passkeyFor, passkeyUserOf, USER_PATTERN, userOfPasskey } from '../../worker/access/passkeys.js';
import { ascii, byteInput, checkRegressions, corpus, fuzzer, latin1, record, REGRESSIONS_DIR, roundTrip, roundTripAsync, typed } from './harness.js';

/** Each target runs 3 s (or FUZZ_MS) or FUZZ_RUNS inputs, whichever comes first: the file stays under a minute. */
const { fuzz, fuzzAsync } = fuzzer(3000);

// ---------------------------------------------------------------------------------------------
// Regressions: inputs that once broke a decoder here, with the outcome each must keep.

/**
 * BEP 10 names are UTF-8 both ways: the encoder once wrote them as Latin-1 (a name above U+00FF
 * threw), so the round trip of `{ m: { ü_ext: 1 } }` came back empty. Each fixture is the
 * handshake as it must be on the wire: it decodes to its one name, and encodes to itself again.
 */
const utf8Name = (name: string) => (bytes: Uint8Array) => {
  const hs = decodeExtensionHandshake(bytes);
  assert.deepEqual(hs.m, new Map([[name, 1]]));
  assert.deepEqual(encodeExtensionHandshake(hs), bytes, `${name} encodes to the same bytes`);
};

/** file (in fuzz-regressions/network-inputs/) -> the check it must still pass. */
const REGRESSIONS: Record<string, (bytes: Uint8Array) => void> = {
  // An untyped Error (GatewayBatchError extends Error) on a truncated batch: now a TrackerError.
  'gateway-batch-truncated.bin': (bytes) => assert.equal(typed(() => decodeGatewayBatch(bytes)), 'tracker.gateway-batch'),
  'extension-handshake-utf8-name.bin': utf8Name('ü_ext'),
  'extension-handshake-cjk-name.bin': utf8Name('名前'),
  // JSON's -0 (a segment offset, a file index) passed as a count and came back as -0, which
  // prints as 0: what passes must be canonical, so it is kept as 0.
  'layer-info-negative-zero.bin': (bytes) => {
    const info = parseLayerInfo(bytes);
    assert.ok(Object.is(info.layers[0]!.file, 0) && Object.is(info.layers[0]!.segments[0]![0], 0));
    assert.deepEqual(parseLayerInfo(JSON.stringify(info)), info);
  },
};

test('network-input regression fixtures still give the outcome they were kept for', () => {
  checkRegressions(path.join(REGRESSIONS_DIR, 'network-inputs'), REGRESSIONS);
});

// ---------------------------------------------------------------------------------------------
// BEP 15 UDP tracker packets, and the BEP 41 URL data they carry.

const id20 = fc.uint8Array({ minLength: 20, maxLength: 20 });
const u32 = fc.nat({ max: 0xffffffff });
const counter = fc.oneof(fc.nat(), fc.constantFrom(0, Number.MAX_SAFE_INTEGER));
/** URL data as BEP 41 carries it: bytes, one char each. */
const urlData = fc.oneof(
  fc.constantFrom('/announce', '/announce?layer=2', '/p/alice.AAAAAAAAAAAAAAAAAAAAAAAA/announce', '/announce?layer=15&x=%41', '/announce?layer=%31'),
  fc.uint8Array({ minLength: 1, maxLength: 600 }).map(latin1),
);
const udpRequest: fc.Arbitrary<UdpRequest> = fc.oneof(
  u32.map((transactionId): UdpRequest => ({ action: 'connect', transactionId })),
  record({
      connectionId: fc.uint8Array({ minLength: 8, maxLength: 8 }),
      transactionId: u32,
      infoHash: id20,
      peerId: id20,
      downloaded: counter,
      left: counter,
      uploaded: counter,
      event: fc.constantFrom('none', 'completed', 'started', 'stopped', 'paused' as const),
      ip: u32,
      key: u32,
      numWant: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
      port: fc.integer({ min: 1, max: 65535 }),
      urlData: fc.option(urlData, { nil: undefined }),
    })
    .map((r): UdpRequest => {
      const { urlData: data, ...rest } = r;
      return data === undefined ? { action: 'announce', ...rest } : { action: 'announce', ...rest, urlData: data };
    }),
  record({ connectionId: fc.uint8Array({ minLength: 8, maxLength: 8 }), transactionId: u32, infoHashes: fc.array(id20, { minLength: 1, maxLength: 74 }) })
    .map((r): UdpRequest => ({ action: 'scrape', ...r })),
);
const udpRequestSeeds = [
  encodeUdpRequest({ action: 'connect', transactionId: 7 }),
  encodeUdpRequest({ action: 'announce', connectionId: new Uint8Array(8).fill(1), transactionId: 9, infoHash: new Uint8Array(20).fill(2), peerId: new Uint8Array(20).fill(3), downloaded: 1, left: 2, uploaded: 3, event: 'started', ip: 0, key: 5, numWant: -1, port: 6881 }),
  encodeUdpRequest({ action: 'announce', connectionId: new Uint8Array(8), transactionId: 1, infoHash: new Uint8Array(20), peerId: new Uint8Array(20), downloaded: 0, left: 0, uploaded: 0, event: 'none', ip: 0, key: 0, numWant: 50, port: 1, urlData: '/p/alice.AAAAAAAAAAAAAAAAAAAAAAAA/announce?layer=3' }),
  encodeUdpRequest({ action: 'scrape', connectionId: new Uint8Array(8).fill(4), transactionId: 2, infoHashes: [new Uint8Array(20).fill(5), new Uint8Array(20).fill(6)] }),
];

/** What the edge does with an announce's URL data (worker/tracker/udp-tracker.ts): the passkey, then `layer`. */
function readUrlData(data: string): void {
  /^\/p\/([^/?]+)\/announce/.exec(data);
  const mark = data.indexOf('?');
  if (mark >= 0) {
    const layer = layerOfQuery(data.slice(mark + 1));
    if (layer !== undefined) assert.ok(Number.isInteger(layer) && layer >= 0 && layer < MAX_LAYERS);
  }
}

test('fuzz: BEP 15 request packets (connect, announce with BEP 41 URL data, scrape)', () => {
  const files = corpus('udp-request');
  fuzz('udp-request', byteInput([...files, ...udpRequestSeeds], 2100), (packet) => {
    typed(() => {
      const request = decodeUdpRequest(packet);
      if (request.action === 'announce') {
        assert.ok(request.port >= 1 && request.infoHash.length === 20 && request.peerId.length === 20);
        // Decoding is idempotent: what we decoded encodes to a packet that decodes the same.
        // (URL data of no bytes is written as none: the edge reads both as the path `/`-less '').
        const { urlData: data, ...rest } = request;
        assert.deepEqual(decodeUdpRequest(encodeUdpRequest(request)), data === '' ? rest : request);
        if (request.urlData !== undefined) readUrlData(request.urlData);
      } else if (request.action === 'scrape') {
        assert.ok(request.infoHashes.length >= 1 && request.infoHashes.length <= 74);
      }
    });
  }, files);
  roundTrip(udpRequest, (request) => assert.deepEqual(decodeUdpRequest(encodeUdpRequest(request)), request));
});

test('fuzz: BEP 41 URL data and its `layer` (layerOfQuery)', () => {
  const files = corpus('url-data');
  const seeds = [...files, ascii('/announce?layer=2'), ascii('/p/bob.x/announce?layer=01&layer=2'), ascii('/announce?layer=%3'), ascii('/announce?layer=16')];
  const text = fc.oneof(byteInput(seeds).map(latin1), urlData);
  fuzz('url-data', text, (data) => {
    typed(() => readUrlData(data), TrackerError);
  }, files.map(latin1));
});

const udpResponse: fc.Arbitrary<{ response: UdpResponse; family: 4 | 6 }> = fc.oneof(
  record({ transactionId: u32, connectionId: fc.uint8Array({ minLength: 8, maxLength: 8 }) }).map((r) => ({ response: { action: 'connect' as const, ...r }, family: 4 as const })),
  fc
    .tuple(fc.constantFrom(4 as const, 6 as const), u32, u32, u32, u32, fc.array(fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 1, max: 65535 })), { maxLength: 20 }))
    .map(([family, transactionId, interval, leechers, seeders, raw]) => ({
      family,
      response: {
        action: 'announce' as const,
        transactionId,
        interval,
        leechers,
        seeders,
        peers: raw.map(([ip, port]) => ({ host: family === 4 ? formatIPv4(ip) : formatIPv6(Uint8Array.of(0x20, 1, ...ip.subarray(2))), port })),
      },
    })),
  record({ transactionId: u32, results: fc.array(record({ seeders: u32, completed: u32, leechers: u32 }), { maxLength: 74 }) })
    .map((r) => ({ response: { action: 'scrape' as const, ...r }, family: 4 as const })),
  record({ transactionId: u32, message: fc.string({ maxLength: 100 }) }).map((r) => ({ response: { action: 'error' as const, ...r }, family: 4 as const })),
);

test('fuzz: BEP 15 response packets, both address families', () => {
  const files = corpus('udp-response');
  const seeds = [
    ...files,
    encodeUdpResponse({ action: 'connect', transactionId: 3, connectionId: new Uint8Array(8).fill(9) }),
    encodeUdpResponse({ action: 'announce', transactionId: 4, interval: 1800, leechers: 1, seeders: 2, peers: [{ host: '10.0.0.1', port: 6881 }] }),
    encodeUdpResponse({ action: 'announce', transactionId: 4, interval: 1800, leechers: 1, seeders: 2, peers: [{ host: '2001:db8::1', port: 6881 }] }),
    encodeUdpResponse({ action: 'scrape', transactionId: 5, results: [{ seeders: 1, completed: 2, leechers: 3 }] }),
    encodeUdpResponse({ action: 'error', transactionId: 6, message: 'unknown passkey' }),
  ];
  fuzz('udp-response', fc.tuple(byteInput(seeds), fc.constantFrom(4 as const, 6 as const)), ([packet, family]) => {
    typed(() => decodeUdpResponse(packet, family));
  }, files.flatMap((f) => [[f, 4 as const] as const, [f, 6 as const] as const]));
  roundTrip(udpResponse, ({ response, family }) => assert.deepEqual(decodeUdpResponse(encodeUdpResponse(response), family), response));
});

// ---------------------------------------------------------------------------------------------
// HTTP tracker queries (announce, scrape, Get-Peer) as raw query strings.

const HASH = escapeBytes(Uint8Array.from({ length: 20 }, (_, i) => i * 13));
/** Pieces of real queries, random escapes (good, truncated, non-hex, non-ASCII) and raw bytes. */
const queryPiece = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('info_hash=', `info_hash=${HASH}`, 'peer_id=', `peer_id=${HASH}`, 'port=', 'port=6881', 'port=0', 'port=65536', 'uploaded=0', 'downloaded=12', 'left=', 'left=99999999999999999', 'event=started', 'event=paused', 'event=bogus', 'numwant=-1', 'numwant=999999', 'compact=1', 'compact=0', 'no_peer_id=1', 'key=ABCDEF01', 'trackerid=x', 'layer=3', 'layer=16', 'layer=', 'ip=10.0.0.1', 'ipv4=1.2.3.4:5', 'ipv6=[::1]:6881', 'ipv6=2001:db8::1', 'ip=host.example', '&', '&&', '=', '+', '%') },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...'0123456789abcdefABCDEFgG%&= '), fc.constantFrom(...'0123456789abcdefABCDEFgG%&= ')).map(([a, c]) => `%${a}${c}`) },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 20 }).map(escapeBytes) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8, unit: 'binary' }) },
);
const rawQuery = fc.oneof(
  { weight: 5, arbitrary: fc.array(queryPiece, { maxLength: 24 }).map((parts) => parts.join('')) },
  { weight: 3, arbitrary: fc.array(queryPiece, { maxLength: 12 }).map((parts) => parts.join('&')) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200, unit: 'binary' }) },
);
const queryInput = (target: string) => fc.oneof({ weight: 4, arbitrary: rawQuery }, { weight: 2, arbitrary: byteInput(corpus(target), 64).map(latin1) });

test('fuzz: HTTP announce queries (parseAnnounceQuery)', () => {
  fuzz('announce-query', queryInput('announce-query'), (query) => {
    typed(() => {
      const p = parseAnnounceQuery(query);
      assert.ok(p.infoHash.length === 20 && p.peerId.length === 20 && p.port >= 1 && p.port <= 65535);
      assert.ok(p.numwant >= 0 && p.numwant <= TRACKER_LIMITS.maxNumwant);
      for (const n of [p.uploaded, p.downloaded, p.left]) assert.ok(Number.isSafeInteger(n) && n >= 0);
    }, TrackerError);
  }, corpus('announce-query').map(latin1));
  // Round trip: a query written the way clients write it reads back as the same request.
  roundTrip(
    record({ infoHash: id20, peerId: id20, port: fc.integer({ min: 1, max: 65535 }), uploaded: fc.nat(), downloaded: fc.nat(), left: fc.nat(), numwant: fc.nat(TRACKER_LIMITS.maxNumwant), layer: fc.option(fc.nat(MAX_LAYERS - 1), { nil: undefined }) }),
    (r) => {
      const layer = r.layer === undefined ? '' : `&layer=${r.layer}`;
      const p = parseAnnounceQuery(`info_hash=${escapeBytes(r.infoHash)}&peer_id=${escapeBytes(r.peerId)}&port=${r.port}&uploaded=${r.uploaded}&downloaded=${r.downloaded}&left=${r.left}&numwant=${r.numwant}&compact=1${layer}`);
      assert.deepEqual([p.infoHash, p.peerId, p.port, p.uploaded, p.downloaded, p.left, p.numwant, p.layer], [r.infoHash, r.peerId, r.port, r.uploaded, r.downloaded, r.left, r.numwant, r.layer]);
    },
  );
});

test('fuzz: HTTP scrape queries (parseScrapeQuery)', () => {
  fuzz('scrape-query', queryInput('scrape-query'), (query) => {
    typed(() => {
      const { infoHashes } = parseScrapeQuery(query);
      assert.ok(infoHashes.length >= 1 && infoHashes.length <= TRACKER_LIMITS.maxScrapeHashes && infoHashes.every((h) => h.length === 20));
    }, TrackerError);
  }, corpus('scrape-query').map(latin1));
  roundTrip(fc.array(id20, { minLength: 1, maxLength: 100 }), (hashes) => {
    assert.deepEqual(parseScrapeQuery(hashes.map((h) => `info_hash=${escapeBytes(h)}`).join('&')).infoHashes, hashes);
  });
});

test('fuzz: PPSP Get-Peer queries (parseGetPeerQuery) and raw query splitting', () => {
  fuzz('get-peer-query', queryInput('get-peer-query'), (query) => {
    typed(() => {
      const p = parseGetPeerQuery(query);
      assert.ok(p.infoHash.length === 20 && (p.peerId === undefined || p.peerId.length === 20));
    }, TrackerError);
    typed(() => parseRawQuery(query), TrackerError);
  }, corpus('get-peer-query').map(latin1));
  // Any bytes escaped byte by byte come back as the same bytes, whatever UTF-8 says of them.
  roundTrip(fc.uint8Array({ maxLength: 100 }), (bytes) => assert.deepEqual(parseRawQuery(`v=${escapeBytes(bytes)}`).get('v'), [bytes]));
});

// ---------------------------------------------------------------------------------------------
// HTTP tracker responses, as the peer's tracker client decodes them.

const announceResponse: fc.Arbitrary<AnnounceResponse> = record({
    interval: fc.nat(),
    minInterval: fc.option(fc.nat(), { nil: undefined }),
    complete: fc.nat(),
    incomplete: fc.nat(),
    peers4: fc.array(fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 1, max: 65535 })), { maxLength: 10 }),
    peers6: fc.array(fc.tuple(fc.uint8Array({ minLength: 14, maxLength: 14 }), fc.integer({ min: 1, max: 65535 })), { maxLength: 10 }),
    externalIp: fc.option(fc.constantFrom('1.2.3.4', '2001:db8::7'), { nil: undefined }),
    warning: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
  })
  .map((r) => {
    const out: AnnounceResponse = {
      interval: r.interval,
      complete: r.complete,
      incomplete: r.incomplete,
      peers: [...r.peers4.map(([ip, port]) => ({ host: formatIPv4(ip), port })), ...r.peers6.map(([ip, port]) => ({ host: formatIPv6(Uint8Array.of(0x20, 1, ...ip)), port }))],
    };
    if (r.minInterval !== undefined) out.minInterval = r.minInterval;
    if (r.externalIp !== undefined) out.externalIp = r.externalIp;
    if (r.warning !== undefined) out.warning = r.warning;
    return out;
  });

test('fuzz: HTTP tracker announce and scrape responses', () => {
  const hash = Uint8Array.from({ length: 20 }, (_, i) => i);
  const files = corpus('http-response');
  const seeds = [
    ...files,
    encodeAnnounceResponse({ interval: 1800, minInterval: 60, complete: 1, incomplete: 2, externalIp: '1.2.3.4', peers: [{ host: '10.0.0.1', port: 1 }, { host: '::1', port: 2 }] }, { compact: true, noPeerId: false }),
    encodeAnnounceResponse({ interval: 1800, complete: 1, incomplete: 2, warning: 'w', trackerId: 't', peers: [{ host: '10.0.0.1', port: 1, peerId: hash }] }, { compact: false, noPeerId: false }),
    encodeFailure({ failure: 'unregistered torrent', retryIn: 'never' }),
    encodeScrapeResponse(new Map([[toHex(hash), { complete: 1, incomplete: 2, downloaded: 3, downloaders: 2 }]]), 60),
  ];
  fuzz('http-response', byteInput(seeds, 128), (bytes) => {
    // TrackerError for a bad field, BencodeError for bytes that are no bencode.
    typed(() => decodeAnnounceResponse(bytes));
    typed(() => decodeScrapeResponse(bytes));
  }, files);
  roundTrip(announceResponse, (response) => assert.deepEqual(decodeAnnounceResponse(encodeAnnounceResponse(response, { compact: true, noPeerId: false })), response));
  roundTrip(
    fc.uniqueArray(fc.tuple(id20.map(toHex), record({ complete: fc.nat(), incomplete: fc.nat(), downloaded: fc.nat(), downloaders: fc.nat() })), { selector: ([h]) => h, maxLength: 10 }),
    (entries) => assert.deepEqual(decodeScrapeResponse(encodeScrapeResponse(new Map(entries))), new Map(entries)),
  );
});

// ---------------------------------------------------------------------------------------------
// HTTP Range headers (the BEP 19 seed).

test('fuzz: Range headers against files of random sizes (parseRange)', () => {
  const files = corpus('range');
  const piece = fc.constantFrom('bytes=', 'BYTES=', 'items=', '0', '1', '9', '-', ',', ' ', '\t', '=', '99999999999999999999', '18446744073709551616', '\r\n', 'x');
  const header = fc.oneof(
    fc.array(piece, { maxLength: 12 }).map((p) => p.join('')),
    fc.tuple(fc.option(fc.nat(), { nil: undefined }), fc.option(fc.nat(), { nil: undefined })).map(([a, z]) => `bytes=${a ?? ''}-${z ?? ''}`),
    byteInput(files, 300).map(latin1),
    fc.string({ maxLength: 300 }),
  );
  const size = fc.oneof(fc.nat(100), fc.nat(), fc.constantFrom(0, 1, Number.MAX_SAFE_INTEGER));
  fuzz('range', fc.tuple(fc.option(header, { nil: undefined }), size), ([text, n]) => {
    // parseRange answers every header with a result, never a throw.
    const r = parseRange(text, n);
    if (r.kind === 'range') {
      assert.ok(Number.isSafeInteger(r.range.start) && Number.isSafeInteger(r.range.end), JSON.stringify(r));
      assert.ok(r.range.start >= 0 && r.range.start <= r.range.end && r.range.end < n, `${JSON.stringify(text)} on ${n}: ${JSON.stringify(r)}`);
    } else if (r.kind !== 'none') {
      assert.ok(r.reason.length > 0 && !/[\r\n]/.test(r.reason), 'a reason is one line (it becomes a response body)');
    }
  }, files.flatMap((f) => [0, 1, 100, 2 ** 40].map((n) => [latin1(f), n] as [string | undefined, number])));
  // Every range inside the file reads back as itself.
  roundTrip(fc.tuple(fc.nat(), fc.nat(), fc.nat()).map(([a, b, extra]) => [Math.min(a, b), Math.max(a, b), Math.max(a, b) + 1 + extra] as const), ([start, end, n]) =>
    assert.deepEqual(parseRange(`bytes=${start}-${end}`, n), { kind: 'range', range: { start, end } }),
  );
});

// ---------------------------------------------------------------------------------------------
// Layer info (PUT-LAYER body) and the layered-asset manifest (layers.json, a file).

const layerInfo: fc.Arbitrary<LayerInfo> = fc
  .tuple(fc.constantFrom('cumulative' as const, 'simulcast' as const), fc.integer({ min: 1, max: 3600 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }), fc.array(fc.nat(1000), { minLength: 24, maxLength: 24 }))
  .map(([mode, segmentDuration, segmentCount, layerCount, sizes]) => ({
    version: 1 as const,
    mode,
    segmentDuration,
    segmentCount,
    layers: Array.from({ length: layerCount }, (_, k) => {
      let at = 0;
      const segments = Array.from({ length: segmentCount }, (_, s) => {
        const length = 1 + sizes[(k * segmentCount + s) % sizes.length]!;
        const seg: [number, number] = [at, length];
        at += length;
        return seg;
      });
      return { index: k, bitrate: 1000 * (k + 1), file: k, segments };
    }),
  }));

/** JSON-ish text: JSON's own tokens and the layer-info keys, in any order. */
const jsonish = fc
  .array(fc.constantFrom('{', '}', '[', ']', ',', ':', '"version"', '"mode"', '"cumulative"', '"simulcast"', '"segmentDuration"', '"segmentCount"', '"layers"', '"index"', '"bitrate"', '"file"', '"segments"', '"path"', '"__proto__"', '1', '0', '-1', '1e308', '2.5', '9007199254740993', 'true', 'null', '"a/b"', '"../x"', '"\\u0000"', ' '), { maxLength: 60 })
  .map((t) => t.join(''));
const layerSeeds = (files: readonly Uint8Array[]): Uint8Array[] => [
  ...files,
  new TextEncoder().encode(JSON.stringify({ version: 1, mode: 'cumulative', segmentDuration: 2, segmentCount: 2, layers: [{ index: 0, bitrate: 1000, file: 0, segments: [[0, 10], [10, 10]] }, { index: 1, bitrate: 2000, file: 1, segments: [[0, 5], [5, 5]] }] })),
];

test('fuzz: layer info (parseLayerInfo), with and without the torrent\'s file lengths', () => {
  const files = corpus('layer-info');
  const seeds = layerSeeds(files);
  const input = fc.oneof(
    byteInput(seeds, 128).map((bytes) => bytes as string | Uint8Array),
    byteInput(seeds, 128).map((bytes) => new TextDecoder().decode(bytes) as string | Uint8Array),
    jsonish,
    layerInfo.map((info) => JSON.stringify(info)),
  );
  const lengths = fc.option(fc.array(fc.nat(200_000), { maxLength: 6 }), { nil: undefined });
  fuzz('layer-info', fc.tuple(input, lengths), ([json, fileLengths]) => {
    typed(() => {
      const info = parseLayerInfo(json, fileLengths);
      // What passes is canonical: checking it again gives itself, and every segment is in its file.
      assert.deepEqual(validateLayerInfo(JSON.parse(JSON.stringify(info)), fileLengths), info);
      if (fileLengths) for (const l of info.layers) assert.ok(l.segments.every(([o, n]) => o + n <= fileLengths[l.file]!));
    }, LayerInfoError);
  }, files.flatMap((f) => [[f, undefined], [f, [1e6, 1e6]]] as [string | Uint8Array, number[] | undefined][]));
  roundTrip(layerInfo, (info) => assert.deepEqual(parseLayerInfo(JSON.stringify(info)), info));
});

test('fuzz: layered-asset manifest (validateManifest of layers.json)', () => {
  const files = corpus('layer-manifest');
  const seeds = [
    ...files,
    new TextEncoder().encode(JSON.stringify({ version: 1, mode: 'simulcast', segmentDuration: 2, segmentCount: 1, layers: [{ index: 0, bitrate: 1, path: 'a/b.ts', segments: [[0, 1]] }, { index: 1, bitrate: 2, path: 'c.ts', segments: [[0, 1]] }] })),
  ];
  const json = (bytes: Uint8Array): unknown => {
    try {
      return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    } catch {
      return undefined; // not JSON: readLayeredAsset stops before validateManifest
    }
  };
  const parsed = fc.oneof(byteInput(seeds, 64), jsonish.map((t) => new TextEncoder().encode(t))).map(json);
  const manifest = fc.tuple(layerInfo, fc.array(fc.constantFrom('a', 'b', '..', '.', '', 'x\\y', 'n\0', 'layers.json', 'd/e'), { minLength: 4, maxLength: 4 })).map(([info, names]) => ({
    ...info,
    layers: info.layers.map(({ file, ...l }, k) => ({ ...l, path: `${names[k]}/${k}.ts` })),
  }));
  fuzz('layer-manifest', fc.tuple(fc.oneof(parsed, manifest), fc.option(fc.array(fc.nat(20_000), { maxLength: 4 }), { nil: undefined })), ([value, fileLengths]) => {
    typed(() => {
      const m = validateManifest(value, fileLengths);
      // No path that passes can leave the asset folder.
      for (const l of m.layers) assert.ok(!l.path.split('/').some((p) => p === '' || p === '.' || p === '..') && !/[\\\0]/.test(l.path));
    }, LayerInfoError);
  }, files.map((f) => [json(f), undefined] as [unknown, number[] | undefined]));
});

// ---------------------------------------------------------------------------------------------
// BEP 10 extension handshakes and peer-wire messages: structured inputs and round trips.

test('fuzz: BEP 10 extension handshake payloads (structured dictionaries, round trip)', () => {
  const handshake: fc.Arbitrary<ExtensionHandshake> = record({
      m: fc.uniqueArray(fc.tuple(fc.constantFrom('ut_metadata', 'ut_pex', 'lt_tex', 'upload_only', 'pp_layer', 'pp_bitfield', 'ü', '名前', 'x'), fc.integer({ min: 1, max: 255 })), { selector: ([n]) => n, maxLength: 6 }),
      v: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
      p: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
      reqq: fc.option(fc.integer({ min: 1, max: 1_000_000 }), { nil: undefined }),
      yourip: fc.option(fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 })), { nil: undefined }),
      metadataSize: fc.option(fc.integer({ min: 1, max: 64 * 1024 * 1024 }), { nil: undefined }),
      uploadOnly: fc.option(fc.boolean(), { nil: undefined }),
    })
    .map((r) => {
      const hs: ExtensionHandshake = { m: new Map(r.m) };
      for (const key of ['v', 'p', 'reqq', 'yourip', 'metadataSize', 'uploadOnly'] as const) if (r[key] !== undefined) (hs as unknown as Record<string, unknown>)[key] = r[key];
      return hs;
    });
  roundTrip(handshake, (hs) => assert.deepEqual(decodeExtensionHandshake(encodeExtensionHandshake(hs)), hs));
  // This round trip found the one crash so far (names written as Latin-1): see REGRESSIONS.
  const files = corpus('extension-handshake');
  const seeds = [...files, encodeExtensionHandshake({ m: new Map([['ut_metadata', 3], ['ut_pex', 1]]), v: 'edge-swarm 0.1', p: 6881, reqq: 250, metadataSize: 31_337, uploadOnly: true, yourip: Uint8Array.of(10, 0, 0, 1) })];
  fuzz('extension-handshake', fc.oneof(byteInput(seeds, 96), handshake.map(encodeExtensionHandshake)), (payload) => {
    typed(() => {
      const hs = decodeExtensionHandshake(payload);
      for (const id of hs.m.values()) assert.ok(Number.isInteger(id) && id >= 1 && id <= 255);
    });
  }, files);
});

test('fuzz: peer-wire message bodies (decodeMessage) and their round trip', () => {
  const index = fc.nat({ max: 0xffffffff });
  const message: fc.Arbitrary<WireMessage> = fc.oneof(
    fc.constantFrom<WireMessage>({ type: 'keepAlive' }, { type: 'choke' }, { type: 'unchoke' }, { type: 'interested' }, { type: 'notInterested' }, { type: 'haveAll' }, { type: 'haveNone' }),
    fc.tuple(fc.constantFrom('have' as const, 'suggestPiece' as const, 'allowedFast' as const), index).map(([type, i]): WireMessage => ({ type, index: i })),
    fc.tuple(fc.constantFrom('request' as const, 'cancel' as const, 'rejectRequest' as const), index, index, index).map(([type, i, begin, length]): WireMessage => ({ type, index: i, begin, length })),
    fc.uint8Array({ maxLength: 40 }).map((bits): WireMessage => ({ type: 'bitfield', bits })),
    fc.tuple(index, index, fc.uint8Array({ maxLength: 40 })).map(([i, begin, block]): WireMessage => ({ type: 'piece', index: i, begin, block })),
    fc.integer({ min: 0, max: 65535 }).map((port): WireMessage => ({ type: 'port', port })),
    fc.tuple(fc.nat(255), fc.uint8Array({ maxLength: 40 })).map(([extendedId, payload]): WireMessage => ({ type: 'extended', extendedId, payload })),
  );
  roundTrip(message, (m) => {
    const framed = encodeMessage(m);
    assert.equal(new DataView(framed.buffer, framed.byteOffset).getUint32(0), framed.length - 4);
    assert.deepEqual(decodeMessage(framed.subarray(4)), m);
  });
  const files = corpus('wire-message');
  const seeds = [...files, ...[{ type: 'request', index: 1, begin: 0, length: 16384 }, { type: 'piece', index: 2, begin: 16, block: Uint8Array.of(1, 2) }, { type: 'port', port: 6881 }].map((m) => encodeMessage(m as WireMessage).subarray(4))];
  fuzz('wire-message', fc.oneof(byteInput(seeds, 48), message.map((m) => encodeMessage(m).subarray(4))), (body) => {
    typed(() => decodeMessage(body));
  }, files);
});

// ---------------------------------------------------------------------------------------------
// The UDP gateway's batch framing (POST /udp/batch) and IP text (BEP 7 ipv4=/ipv6=, gateway senders).

test('fuzz: UDP gateway batch bodies and replies', () => {
  const datagram = record({ client: fc.constantFrom('1.2.3.4:5', '[::1]:6881', '[2001:db8::1]:1', 'x', ''), packet: fc.uint8Array({ maxLength: 120 }) });
  roundTrip(fc.array(datagram, { maxLength: 20 }), (datagrams) => assert.deepEqual(decodeGatewayBatch(encodeGatewayBatch(datagrams)), datagrams));
  roundTrip(fc.array(fc.option(fc.uint8Array({ minLength: 1, maxLength: 100 }), { nil: undefined }), { maxLength: 20 }), (replies) =>
    assert.deepEqual(decodeGatewayReplies(encodeGatewayReplies(replies), replies.length), replies),
  );
  const files = corpus('gateway-batch');
  const seeds = [...files, encodeGatewayBatch([{ client: '10.0.0.1:6881', packet: udpRequestSeeds[0]! }, { client: '[::1]:1', packet: udpRequestSeeds[1]! }])];
  fuzz('gateway-batch', fc.tuple(byteInput(seeds, 512), fc.nat(300)), ([body, count]) => {
    typed(() => {
      const datagrams = decodeGatewayBatch(body);
      assert.ok(datagrams.length <= 256);
    });
    typed(() => decodeGatewayReplies(body, count));
  }, files.map((f) => [f, 2] as [Uint8Array, number]));
});

test('fuzz: IP text (parseIPv4, parseIPv6, canonicalIp) and peer-id prefixes', () => {
  const files = corpus('ip-text');
  const ipish = fc.oneof(
    fc.array(fc.constantFrom(...'0123456789abcdefABCDEF:.', '::', '255', '256', '00', '[', ']', '%eth0', 'ffff', '1.2.3.4'), { maxLength: 24 }).map((p) => p.join('')),
    byteInput(files, 50).map(latin1),
  );
  fuzz('ip-text', fc.tuple(ipish, fc.uint8Array({ minLength: 20, maxLength: 20 })), ([text, peerId]) => {
    // These answer undefined for what is not an address; a throw is a crash.
    const v4 = parseIPv4(text);
    if (v4) assert.deepEqual(parseIPv4(formatIPv4(v4)), v4);
    const v6 = parseIPv6(text);
    if (v6) assert.deepEqual(parseIPv6(formatIPv6(v6)), v6);
    const canonical = canonicalIp(text);
    if (canonical !== undefined) assert.equal(canonicalIp(canonical), canonical);
    parsePeerIdPrefix(peerId);
  }, files.map((f) => [latin1(f), new Uint8Array(20)] as [string, Uint8Array]));
  roundTrip(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => assert.deepEqual(parseIPv6(formatIPv6(bytes)), bytes));
});

// ---------------------------------------------------------------------------------------------
// BEP 17 seed requests (`GET /seed17?info_hash=&piece=&ranges=`): the query, then the piece and
// ranges against the torrent (shared/http/bep17-query.ts; the route answers err.status).

/** Piece sizes of a torrent of `count` pieces of `length` bytes, the last one `last` bytes. */
function pieces(count: number, length: number, last = length): PieceSizes {
  return { pieceCount: count, pieceSize: (i) => (i === count - 1 ? last : length) };
}

/** The outcome of a BEP 17 request: its ranges, or `status code` of its refusal. */
function bep17(query: string, geometry: PieceSizes): Bep17Ranges | string {
  try {
    return bep17Ranges(parseBep17Query(query), geometry);
  } catch (err) {
    if (!(err instanceof Bep17Error)) throw err;
    // 416 is for a range outside the piece only; every other refusal is a malformed request.
    assert.equal(err.status, err.code === 'seed17.range-outside' ? 416 : 400, err.code);
    // Our reasons are one line; the query splitter's (seed17.query) may quote the client's own
    // bytes, %0a included: harmless, a text body is never a header.
    if (err.code !== 'seed17.query') assert.ok(!/[\r\n]/.test(err.message), `one line: ${JSON.stringify(err.message)}`);
    return `${err.status} ${err.code}`;
  }
}

test('BEP 17 query: what the seed serves and what it refuses, with which status', () => {
  const hash = `info_hash=${escapeBytes(Uint8Array.from({ length: 20 }, (_, i) => i * 11))}`;
  const g = pieces(5, 1000, 100);
  const cases: [string, Bep17Ranges | string][] = [
    [`${hash}&piece=3`, { piece: 3, ranges: [[0, 999]] }],
    [`${hash}&piece=4&ranges=`, { piece: 4, ranges: [[0, 99]] }],
    [`${hash}&piece=3&ranges=0-9,20-29`, { piece: 3, ranges: [[0, 9], [20, 29]] }],
    [`${hash}&piece=03&ranges=5-5,5-5`, { piece: 3, ranges: [[5, 5], [5, 5]] }], // leading zeros, overlaps: served as asked
    [`${hash}&piece=1&piece=2`, { piece: 1, ranges: [[0, 999]] }], // the first value counts
    [`${hash}&piece=0&ranges=${Array(64).fill('0-0').join(',')}`, { piece: 0, ranges: Array.from({ length: 64 }, () => [0, 0]) }],
    ['', '400 seed17.info-hash'],
    ['info_hash=abc&piece=0', '400 seed17.info-hash'],
    [`info_hash=%zz&piece=0`, '400 seed17.query'],
    [`${hash}`, '400 seed17.piece'],
    [`${hash}&piece=5`, '400 seed17.piece'],
    [`${hash}&piece=-1`, '400 seed17.piece'],
    [`${hash}&piece=1e0`, '400 seed17.piece'],
    [`${hash}&piece=00000000001`, '400 seed17.piece'], // 11 digits
    [`${hash}&piece=4&ranges=0-100`, '416 seed17.range-outside'], // the short last piece
    [`${hash}&piece=3&ranges=9-8`, '416 seed17.range-outside'],
    [`${hash}&piece=3&ranges=0-1,x`, '400 seed17.ranges'],
    [`${hash}&piece=3&ranges=0-1000,x`, '416 seed17.range-outside'], // the first bad range decides
    [`${hash}&piece=3&ranges=0-1,`, '400 seed17.ranges'],
    [`${hash}&piece=3&ranges=-5`, '400 seed17.ranges'], // no suffix ranges in BEP 17
    [`${hash}&piece=0&ranges=${Array(65).fill('0-0').join(',')}`, '400 seed17.ranges'],
    [`${hash}&piece=3&ranges=0-999,0-0`, '400 seed17.too-long'],
  ];
  for (const [query, expected] of cases) assert.deepEqual(bep17(query, g), expected, query);
  assert.equal(formatBep17Query({ infoHash: new Uint8Array(20).fill(0x41), piece: 7, ranges: [[1, 2], [4, 4]] }), `info_hash=${'A'.repeat(20)}&piece=7&ranges=1-2,4-4`);
});

test('fuzz: BEP 17 seed queries (parseBep17Query, bep17Ranges): ranges always inside the piece', () => {
  const files = corpus('bep17-query');
  const number = fc.oneof(fc.nat(20), fc.nat(), fc.constantFrom(0, 16383, 16384, 4294967295, 9999999999, 10000000000)).map(String);
  const part = fc.oneof(
    { weight: 3, arbitrary: fc.tuple(number, number).map(([a, z]) => `${Math.min(+a, +z)}-${Math.max(+a, +z)}`) },
    { weight: 1, arbitrary: fc.tuple(number, number).map(([a, z]) => `${a}-${z}`) },
    { weight: 1, arbitrary: fc.constantFrom('-', '', '0-', '-0', '1--2', ' 1-2', '0x1-2', '１-２', '%30-1') },
  );
  // Mostly a good info_hash and a piece that may exist, so that most inputs reach the ranges.
  const hashField = fc.oneof({ weight: 8, arbitrary: fc.constant(`info_hash=${HASH}`) }, { weight: 1, arbitrary: fc.constantFrom('', 'info_hash=x', 'info_hash=') });
  const pieceField = fc.oneof({ weight: 8, arbitrary: fc.oneof(fc.nat(12), number).map((p) => `piece=${p}`) }, { weight: 1, arbitrary: fc.constantFrom('', 'piece=', 'piece=-1', 'piece=01', 'piece=a') });
  const rangesField = fc.option(fc.array(part, { maxLength: 70 }).map((p) => `ranges=${p.join(',')}`), { nil: '' });
  const query = fc.oneof(
    { weight: 5, arbitrary: fc.tuple(hashField, pieceField, rangesField).map((fields) => fields.filter((f) => f !== '').join('&')) },
    { weight: 2, arbitrary: byteInput(files, 64).map(latin1) },
    { weight: 1, arbitrary: rawQuery },
  );
  const geometry = fc
    .tuple(fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 2 ** 32 })), fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constantFrom(16384, 2 ** 24)), fc.nat())
    .map(([count, length, lastSeed]) => ({ count, length, last: 1 + (lastSeed % length) }));
  fuzz('bep17-query', fc.tuple(query, geometry), ([text, { count, length, last }]) => {
    const g = pieces(count, length, last);
    const r = bep17(text, g);
    if (typeof r === 'string') return;
    const size = g.pieceSize(r.piece);
    assert.ok(Number.isInteger(r.piece) && r.piece >= 0 && r.piece < count, `piece ${r.piece} of ${count}`);
    assert.ok(r.ranges.length >= 1 && r.ranges.length <= MAX_BEP17_RANGES);
    for (const [start, end] of r.ranges) assert.ok(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end < size, `${start}-${end} in ${size}`);
    assert.ok(r.ranges.reduce((n, [a, z]) => n + z - a + 1, 0) <= size);
  }, files.map((f) => [latin1(f), { count: 8, length: 16384, last: 100 }] as [string, { count: number; length: number; last: number }]));
  // Round trip: what a client writes (formatBep17Query) reads back as the same request.
  const request = fc
    .tuple(id20, fc.integer({ min: 1, max: 2 ** 32 }), fc.integer({ min: 1, max: 2 ** 24 }), fc.nat(), fc.option(fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: MAX_BEP17_RANGES }), { nil: undefined }))
    .map(([infoHash, count, size, pieceSeed, raw]) => {
      const piece = pieceSeed % count;
      // Ranges inside the piece, taken while they add up to no more than it.
      let total = 0;
      const ranges = raw
        ?.map(([a, z]): [number, number] => [Math.min(a % size, z % size), Math.max(a % size, z % size)])
        .filter(([a, z]) => (total += z - a + 1) <= size);
      return { infoHash, piece, ranges: ranges?.length ? ranges : undefined, geometry: pieces(count, size) };
    });
  roundTrip(request, ({ geometry, ...r }) => {
    const query = parseBep17Query(formatBep17Query(r));
    assert.deepEqual(query.infoHash, r.infoHash);
    assert.deepEqual(bep17Ranges(query, geometry), { piece: r.piece, ranges: r.ranges ?? [[0, geometry.pieceSize(r.piece) - 1]] });
  });
});

// ---------------------------------------------------------------------------------------------
// Passkeys (BEP 27 private torrents): the `/p/PASSKEY/` of a URL or of BEP 41 URL data, read by
// worker/access/passkeys.ts (`USER.MAC`, checked against the MAC of USER).

/** The secret the passkey corpus was made with (test/fuzz/write-corpus.ts). */
const PASSKEY_SECRET = 'fuzz-corpus-passkey-secret';

test('fuzz: passkeys (userOfPasskey, passkeyUserOf)', async () => {
  const files = corpus('passkey');
  const keyish = fc.oneof(
    { weight: 3, arbitrary: byteInput(files, 80).map(latin1) },
    { weight: 2, arbitrary: fc.array(fc.constantFrom('alice', 'bob', 'a', '-', '_', '.', '..', 'A', '0', 'x'.repeat(32), 'AAAAAAAAAAAAAAAAAAAAAAAA', '%2E', '/', '?', 'é', '\0', ' '), { maxLength: 8 }).map((p) => p.join('')) },
    { weight: 1, arbitrary: fc.string({ maxLength: 80, unit: 'binary' }) },
  );
  await fuzzAsync('passkey', keyish, async (passkey) => {
    // Never a throw: a passkey is ours (its user) or not (undefined).
    const user = await userOfPasskey(PASSKEY_SECRET, passkey);
    const dot = passkey.indexOf('.');
    const named = dot > 0 ? passkey.slice(0, dot) : undefined;
    if (user !== undefined) {
      assert.ok(USER_PATTERN.test(user) && user === named && passkey.length <= 64, `accepted ${JSON.stringify(passkey)} as ${user}`);
    }
    // Accepted exactly when it is the passkey of the user it names.
    const expected = named !== undefined && USER_PATTERN.test(named) ? await passkeyFor(PASSKEY_SECRET, named) : undefined;
    assert.equal(user !== undefined, passkey === expected, JSON.stringify(passkey));
    assert.equal(await passkeyUserOf(PASSKEY_SECRET, passkey), user ?? false);
    assert.equal(await passkeyUserOf(undefined, passkey), false, 'no secret: no private torrents');
  }, files.map(latin1));
  await roundTripAsync(fc.stringMatching(USER_PATTERN), async (user) => assert.equal(await userOfPasskey(PASSKEY_SECRET, await passkeyFor(PASSKEY_SECRET, user)), user));
});
