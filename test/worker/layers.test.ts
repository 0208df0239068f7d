/**
 * Layered streaming at the edge, on Miniflare's real Durable Objects: PUT-LAYER / GET-LAYER
 * (`/layers/:infoHash`), LAYER-CHANGE in announces (`layer=`, over HTTP and BEP 41 URL data),
 * the active layers of a swarm, and layer-aware peer selection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { publishPath } from '../../peer-node/publish/publish-client.js';
import { parseTorrent } from '../../shared/metainfo/index.js';
import { toHex } from '../../shared/bytes.js';
import { MAX_LAYER_INFO_BYTES, type LayerInfo } from '../../shared/layers/layer-info.js';
import { decodeGatewayReplies, encodeGatewayBatch } from '../../shared/tracker/gateway.js';
import { decodeUdpResponse, encodeUdpRequest, type AnnounceResponse, type TrackerFailure } from '../../shared/tracker/index.js';
import { makeContent } from '../helpers/content.js';
import { TEST_SECRETS, startTestEdge, tempStateDir, withEdge } from '../helpers/edge.js';
import { announce, announceRequest, infoHash } from '../helpers/tracker-client.js';

const AUTH = { authorization: `Bearer ${TEST_SECRETS.PUBLISH_TOKEN}` };

/** K layers of `count` segments of `size` bytes each, layer k in file k. */
function layerInfo(layers: number, options: { mode?: 'cumulative' | 'simulcast'; count?: number; size?: number } = {}): LayerInfo {
  const { mode = 'cumulative', count = 4, size = 1000 } = options;
  return {
    version: 1,
    mode,
    segmentDuration: 2,
    segmentCount: count,
    layers: Array.from({ length: layers }, (_, k) => ({
      index: k,
      bitrate: 250_000 * (k + 1),
      file: k,
      segments: Array.from({ length: count }, (_, s): [number, number] => [s * size, size]),
    })),
  };
}

function put(base: URL, hex: string, body: string | Uint8Array, headers: Record<string, string> = AUTH): Promise<Response> {
  return fetch(new URL(`/layers/${hex}`, base), { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body });
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

async function active(base: URL, hex: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(new URL(`/layers/${hex}/active`, base));
  return { status: response.status, body: await json(response) };
}

function ok(r: AnnounceResponse | TrackerFailure): AnnounceResponse {
  if ('failure' in r) assert.fail(`tracker refused: ${r.failure}`);
  return r;
}

test('PUT-LAYER needs the publish token; then GET-LAYER returns the same info', async () => {
  await withEdge({}, async (edge) => {
    const hex = toHex(infoHash(60));
    const info = layerInfo(2);
    const missing = await put(edge.url, hex, JSON.stringify(info), {});
    assert.equal(missing.status, 401);
    assert.match(String((await json(missing)).error), /Authorization/);
    const wrong = await put(edge.url, hex, JSON.stringify(info), { authorization: 'Bearer not-the-token' });
    assert.equal(wrong.status, 403);
    assert.match(String((await json(wrong)).error), /wrong publish token/);
    const none = await fetch(new URL(`/layers/${hex}`, edge.url));
    assert.equal(none.status, 404, 'a refused PUT stores nothing');
    assert.ok(typeof (await json(none)).error === 'string');

    const stored = await put(edge.url, hex.toUpperCase(), JSON.stringify(info));
    assert.equal(stored.status, 200);
    assert.deepEqual(await json(stored), { ok: true, infoHash: hex, layers: 2 });
    const got = await fetch(new URL(`/layers/${hex}`, edge.url));
    assert.equal(got.status, 200);
    assert.match(got.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await got.json(), info);
    // A swarm with layer info and no peers yet is known: nobody is at any layer.
    assert.deepEqual(await active(edge.url, hex), { status: 200, body: { peers: 0, byLayer: {} } });
  });
});

test('inconsistent, oversized or non-JSON layer info is a 400/413 with the reason and code; the stored info stays', async () => {
  await withEdge({}, async (edge) => {
    const hex = toHex(infoHash(61));
    const info = layerInfo(2);
    assert.equal((await put(edge.url, hex, JSON.stringify(info))).status, 200);

    const overlap = structuredClone(info);
    overlap.layers[1]!.segments[2] = [1500, 1000];
    const refused = await put(edge.url, hex, JSON.stringify(overlap));
    assert.equal(refused.status, 400);
    const reason = await json(refused);
    assert.equal(reason.code, 'layers.segment-overlap');
    assert.match(String(reason.error), /layer 1 segment 2 starts at 1500/);

    const badDuration = { ...info, segmentDuration: 0 };
    assert.equal((await json(await put(edge.url, hex, JSON.stringify(badDuration)))).code, 'layers.segment-duration');
    const notJson = await put(edge.url, hex, '{"version": 1,');
    assert.equal(notJson.status, 400);
    assert.equal((await json(notJson)).code, 'layers.json');

    // Too large: once declared in Content-Length, once streamed without one (chunked).
    const big = new Uint8Array(MAX_LAYER_INFO_BYTES + 1).fill(0x20);
    const declared = await put(edge.url, hex, big);
    assert.equal(declared.status, 413);
    assert.equal((await json(declared)).code, 'layers.too-large');
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < big.length; at += 64 * 1024) controller.enqueue(big.slice(at, at + 64 * 1024));
        controller.close();
      },
    });
    const chunked = await fetch(new URL(`/layers/${hex}`, edge.url), { method: 'PUT', headers: AUTH, body: stream, duplex: 'half' } as RequestInit);
    assert.equal(chunked.status, 413);

    assert.deepEqual(await (await fetch(new URL(`/layers/${hex}`, edge.url))).json(), info, 'the good info is still there');
  });
});

test('bad info-hashes are 400, unknown swarms 404, private swarms 403', async () => {
  await withEdge({}, async (edge) => {
    for (const bad of ['abc', 'g'.repeat(40), '0'.repeat(41)]) {
      assert.equal((await put(edge.url, bad, JSON.stringify(layerInfo(1)))).status, 400, bad);
      assert.equal((await fetch(new URL(`/layers/${bad}`, edge.url))).status, 400, bad);
      const a = await active(edge.url, bad);
      assert.equal(a.status, 400, bad);
      assert.match(String(a.body.error), /40 hex/);
    }
    const unknown = toHex(infoHash(62));
    assert.equal((await fetch(new URL(`/layers/${unknown}`, edge.url))).status, 404);
    assert.equal((await active(edge.url, unknown)).status, 404);
    // A registered torrent is a known swarm; a private one's peers are for its members (BEP 27).
    const register = (hex: string, priv: boolean) =>
      fetch(new URL(`/api/torrents/${hex}`, edge.url), { method: 'PUT', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ private: priv }) });
    assert.equal((await register(unknown, false)).status, 200);
    assert.deepEqual(await active(edge.url, unknown), { status: 200, body: { peers: 0, byLayer: {} } });
    const closed = toHex(infoHash(68));
    assert.equal((await register(closed, true)).status, 200);
    const refused = await active(edge.url, closed);
    assert.equal(refused.status, 403);
    assert.match(String(refused.body.error), /private/);
  });
});

test('for a torrent published on the edge, segments past the end of a file are refused', { timeout: 60_000 }, () =>
  withEdge({}, async (edge) => {
    const root = await mkdtemp(path.join(tmpdir(), 'layers-'));
    try {
      const content = await makeContent(root, [40_000, 30_000], { name: 'asset' });
      const published = await publishPath({ path: path.join(content.dir, content.name), edge: edge.url, token: TEST_SECRETS.PUBLISH_TOKEN });
      const lengths = (await parseTorrent(published.torrent)).info.files.map((f) => f.length);
      assert.equal(lengths.length, 2);
      const info = layerInfo(2, { count: 3, size: 10_000 });
      assert.equal((await put(edge.url, published.infoHash, JSON.stringify(info))).status, 200, 'inside both files');

      const past = structuredClone(info);
      const shorter = lengths.indexOf(Math.min(...lengths));
      past.layers[shorter]!.segments[2] = [20_000, Math.min(...lengths) - 20_000 + 1];
      const refused = await put(edge.url, published.infoHash, JSON.stringify(past));
      assert.equal(refused.status, 400);
      const reason = await json(refused);
      assert.equal(reason.code, 'layers.segment-range');
      assert.match(String(reason.error), new RegExp(`past the end of file ${shorter} \\(${Math.min(...lengths)} bytes\\)`));

      const noSuchFile = structuredClone(info);
      noSuchFile.layers[1]!.file = 2;
      assert.equal((await json(await put(edge.url, published.infoHash, JSON.stringify(noSuchFile)))).code, 'layers.file');
      // The same info for a torrent not published here has no file lengths to be checked against.
      assert.equal((await put(edge.url, toHex(infoHash(63)), JSON.stringify(past))).status, 200);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }),
);

test('LAYER-CHANGE: announces report active layers, refused ones change nothing, and it all survives a restart', async () => {
  const state = await tempStateDir();
  let edge = await startTestEdge(state.dir);
  try {
    const hash = infoHash(64);
    const hex = toHex(hash);
    assert.equal((await put(edge.url, hex, JSON.stringify(layerInfo(3)))).status, 200);
    const layerOf = [0, 1, 2, 2];
    for (const [i, layer] of layerOf.entries()) ok(await announce(edge.url, { hash, peer: i + 1, event: 'started', extra: `&layer=${layer}` }));
    ok(await announce(edge.url, { hash, peer: 5, event: 'started' }));
    const before = { status: 200, body: { peers: 5, byLayer: { 0: 1, 1: 1, 2: 2 } } };
    assert.deepEqual(await active(edge.url, hex), before);

    // A layer the asset does not have: refused with the reason, and the peer stays at its layer.
    const missing = await announce(edge.url, { hash, peer: 1, extra: '&layer=3' });
    assert.deepEqual(missing, { failure: 'layer 3 does not exist (the asset has 3 layers)' });
    assert.deepEqual(await active(edge.url, hex), before);
    // Not a layer at all: a failure reason from the parser; the tracker carries on.
    for (const bad of ['abc', '-1', '16', '1.5', '', '%201']) {
      const r = await announce(edge.url, { hash, peer: 2, extra: `&layer=${bad}` });
      assert.ok('failure' in r && /^layer must be a whole number from 0 to 15/.test(r.failure), `layer=${bad}: ${JSON.stringify(r)}`);
    }
    const twice = await announce(edge.url, { hash, peer: 2, extra: '&layer=1&layer=2' });
    assert.ok('failure' in twice && /layer given more than once/.test(twice.failure));
    assert.deepEqual(await active(edge.url, hex), before);

    // Without `layer` a peer keeps its layer; with one it moves.
    ok(await announce(edge.url, { hash, peer: 1, event: 'started' }));
    ok(await announce(edge.url, { hash, peer: 2, extra: '&layer=2' }));
    ok(await announce(edge.url, { hash, peer: 5, extra: '&layer=0' }));
    const after = { status: 200, body: { peers: 5, byLayer: { 0: 2, 2: 3 } } };
    assert.deepEqual(await active(edge.url, hex), after);
    // A stopped peer leaves its layer's count.
    ok(await announce(edge.url, { hash, peer: 5, event: 'stopped' }));
    const stopped = { status: 200, body: { peers: 4, byLayer: { 0: 1, 2: 3 } } };
    assert.deepEqual(await active(edge.url, hex), stopped);

    await edge.close();
    edge = await startTestEdge(state.dir);
    assert.deepEqual(await active(edge.url, hex), stopped, 'layers are stored with the peers');
    assert.deepEqual(await (await fetch(new URL(`/layers/${hex}`, edge.url))).json(), layerInfo(3));
    assert.deepEqual(await announce(edge.url, { hash, peer: 1, extra: '&layer=5' }), { failure: 'layer 5 does not exist (the asset has 3 layers)' });
  } finally {
    await edge.close();
    await state.remove();
  }
});

test('without layer info any layer 0-15 is taken; GET-LAYER is 404 but the swarm counts layers', async () => {
  await withEdge({}, async (edge) => {
    const hash = infoHash(65);
    ok(await announce(edge.url, { hash, peer: 1, extra: '&layer=15' }));
    assert.deepEqual(await active(edge.url, toHex(hash)), { status: 200, body: { peers: 1, byLayer: { 15: 1 } } });
    assert.equal((await fetch(new URL(`/layers/${toHex(hash)}`, edge.url))).status, 404);
  });
});

test('layer-aware selection: an asker at layer 2 hears of the peers at layer 2 before those at layer 0', async () => {
  await withEdge({}, async (edge) => {
    const hash = infoHash(66);
    assert.equal((await put(edge.url, toHex(hash), JSON.stringify(layerInfo(3)))).status, 200);
    const atZero = [1, 2, 3, 4, 5, 6, 7, 8];
    const atTwo = [11, 12, 13, 14];
    for (const peer of atZero) ok(await announce(edge.url, { hash, peer, event: 'started', extra: '&layer=0' }));
    for (const peer of atTwo) ok(await announce(edge.url, { hash, peer, event: 'started', extra: '&layer=2' }));
    const portsOf = (peers: { port: number }[]) => peers.map((p) => p.port - 6000);
    for (let round = 0; round < 8; round++) {
      // Compact and dictionary answers both keep the order.
      const extra = round % 2 === 0 ? '&layer=2&numwant=50' : '&layer=2&numwant=50&compact=0';
      const got = portsOf(ok(await announce(edge.url, { hash, peer: 11, extra })).peers);
      assert.deepEqual([...got].sort((a, b) => a - b), [...atZero, 12, 13, 14], 'everyone but the asker');
      assert.deepEqual(new Set(got.slice(0, 3)), new Set([12, 13, 14]), `layer-2 peers first: ${got.join(',')}`);
      // With room for only the holders, only the holders.
      const few = portsOf(ok(await announce(edge.url, { hash, peer: 11, extra: '&layer=2&numwant=3' })).peers);
      assert.deepEqual(new Set(few), new Set([12, 13, 14]));
      // An asker at layer 0 needs what everyone holds: all peers, none preferred over another.
      const low = portsOf(ok(await announce(edge.url, { hash, peer: 1, extra: '&layer=0&numwant=50' })).peers);
      assert.equal(low.length, 11);
    }
  });
});

test('BEP 41 URL data carries layer= over UDP; bad or missing layers get an error packet', async () => {
  await withEdge({}, async (edge) => {
    const hash = infoHash(67);
    const hex = toHex(hash);
    assert.equal((await put(edge.url, hex, JSON.stringify(layerInfo(3)))).status, 200);
    const batch = async (datagrams: { client: string; packet: Uint8Array }[]) => {
      const r = await fetch(new URL('/udp/batch', edge.url), { method: 'POST', headers: { 'x-gateway-secret': TEST_SECRETS.GATEWAY_SECRET }, body: encodeGatewayBatch(datagrams) });
      return decodeGatewayReplies(new Uint8Array(await r.arrayBuffer()), datagrams.length).map((reply) => decodeUdpResponse(reply!, 4));
    };
    const client = '10.2.0.1:7000';
    const [connect] = await batch([{ client, packet: encodeUdpRequest({ action: 'connect', transactionId: 1 }) }]);
    assert.ok(connect?.action === 'connect');
    const announceWith = (urlData: string | undefined, peer = 1) =>
      encodeUdpRequest(announceRequest(connect.connectionId, peer, { transactionId: 50, infoHash: hash, key: 1, port: 7000, ...(urlData !== undefined ? { urlData } : {}) }));
    const [first] = await batch([{ client, packet: announceWith('/announce?layer=1') }]);
    assert.equal(first?.action, 'announce');
    assert.deepEqual((await active(edge.url, hex)).body, { peers: 1, byLayer: { 1: 1 } });
    assert.deepEqual(await batch([{ client, packet: announceWith('/announce?layer=3') }]), [
      { action: 'error', transactionId: 50, message: 'layer 3 does not exist (the asset has 3 layers)' },
    ]);
    const [bad] = await batch([{ client, packet: announceWith('/announce?key=x&layer=two') }]);
    assert.ok(bad?.action === 'error' && /^layer must be a whole number/.test(bad.message));
    assert.deepEqual((await active(edge.url, hex)).body, { peers: 1, byLayer: { 1: 1 } }, 'refused: nothing changed');
    const [plain] = await batch([{ client, packet: announceWith(undefined) }]);
    assert.equal(plain?.action, 'announce', 'the tracker carries on; no URL data keeps the layer');
    const [moved] = await batch([{ client, packet: announceWith('/announce?layer=2') }]);
    assert.equal(moved?.action, 'announce');
    assert.deepEqual((await active(edge.url, hex)).body, { peers: 1, byLayer: { 2: 1 } });
  });
});
