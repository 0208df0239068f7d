import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../shared/bytes.js';
import { TEST_SECRETS, startTestEdge, tempStateDir, withEdge } from '../helpers/edge.js';
import { announce, announceRaw, announceRequest, infoHash, scrape } from '../helpers/tracker-client.js';
import { decodeUdpResponse, encodeUdpRequest, type AnnounceResponse, type TrackerFailure, type UdpRequest } from '../../shared/tracker/index.js';

function ok(r: AnnounceResponse | TrackerFailure): AnnounceResponse {
  if ('failure' in r) assert.fail(`tracker refused: ${r.failure}`);
  return r;
}
function failed(r: AnnounceResponse | TrackerFailure): TrackerFailure {
  assert.ok('failure' in r, 'expected a failure reason');
  return r;
}

test('HTTP tracker on Miniflare: peers find each other, counts follow events, scrape reports them', async () => {
  await withEdge({}, async (edge) => {
    const hash = infoHash(1);
    const first = ok(await announce(edge.url, { hash, peer: 1, event: 'started' }));
    assert.deepEqual(first.peers, []);
    assert.equal(first.externalIp, '127.0.0.1');
    assert.equal(first.interval, 900);
    assert.equal(first.minInterval, 60);
    const second = ok(await announce(edge.url, { hash, peer: 2, event: 'started' }));
    assert.deepEqual(second.peers, [{ host: '127.0.0.1', port: 6001 }]);
    assert.deepEqual([second.complete, second.incomplete], [0, 2]);

    ok(await announce(edge.url, { hash, peer: 1, left: 0, event: 'completed' }));
    ok(await announce(edge.url, { hash, peer: 1, left: 0, event: 'completed' }));
    const seedView = ok(await announce(edge.url, { hash, peer: 3, left: 0, event: 'started' }));
    assert.deepEqual(seedView.peers, [{ host: '127.0.0.1', port: 6002 }], 'a seed gets only the leecher');
    ok(await announce(edge.url, { hash, peer: 2, left: 50, event: 'paused' }));
    let counts = await scrape(edge.url, [hash, infoHash(99)]);
    assert.ok(!('failure' in counts));
    assert.deepEqual(counts.get(toHex(hash)), { complete: 2, incomplete: 1, downloaded: 1, downloaders: 0 });
    assert.deepEqual(counts.get(toHex(infoHash(99))), { complete: 0, incomplete: 0, downloaded: 0, downloaders: 0 });

    ok(await announce(edge.url, { hash, peer: 3, left: 0, event: 'stopped' }));
    counts = await scrape(edge.url, [hash]);
    assert.ok(!('failure' in counts));
    assert.equal(counts.get(toHex(hash))?.complete, 1);
  });
});

test('a client-sent CF-Connecting-IP is ignored: the address is the one the connection came from', async () => {
  await withEdge({}, async (edge) => {
    const hash = infoHash(14);
    const forged = ok(await announce(edge.url, { hash, peer: 1, headers: { 'cf-connecting-ip': '203.0.113.9' } }));
    assert.equal(forged.externalIp, '127.0.0.1');
    const other = ok(await announce(edge.url, { hash, peer: 2 }));
    assert.deepEqual(other.peers, [{ host: '127.0.0.1', port: 6001 }]);
  });
});

test('dictionary-model peers carry peer ids unless no_peer_id; peers6 for IPv6 peers', async () => {
  await withEdge({}, async (edge) => {
    const hash = infoHash(2);
    // Peer 1 over IPv4 HTTP; peer 5 an IPv6 BEP 15 sender, as the trusted gateway names it (a
    // client's own BEP 7 `ipv6=` is ignored: worker/swarm/swarm-rules.ts).
    await announce(edge.url, { hash, peer: 1, extra: '&ipv6=2001:db8::9' });
    const viaGateway = async (request: UdpRequest) => {
      const r = await fetch(new URL('/udp', edge.url), { method: 'POST', headers: { 'x-gateway-client': '[2001:db8::7]:6005', 'x-gateway-secret': TEST_SECRETS.GATEWAY_SECRET }, body: encodeUdpRequest(request) });
      return decodeUdpResponse(new Uint8Array(await r.arrayBuffer()), 6);
    };
    const connected = await viaGateway({ action: 'connect', transactionId: 1 });
    assert.equal(connected.action, 'connect');
    const v6 = await viaGateway(announceRequest(connected.action === 'connect' ? connected.connectionId : new Uint8Array(8), 5, { infoHash: hash, port: 6005 }));
    assert.equal(v6.action, 'announce');
    const dicts = ok(await announce(edge.url, { hash, peer: 2, extra: '&compact=0' }));
    const named = dicts.peers.map((p) => [p.host, new TextDecoder().decode(p.peerId)]).sort();
    assert.deepEqual(named, [['127.0.0.1', '-ES0100-000000000001'], ['2001:db8::7', '-ES0100-000000000005']]);
    const compact = ok(await announce(edge.url, { hash, peer: 3 }));
    assert.deepEqual(compact.peers.filter((p) => p.host.includes(':')), [{ host: '2001:db8::7', port: 6005 }]);
    const noIds = ok(await announce(edge.url, { hash, peer: 4, extra: '&compact=0&no_peer_id=1' }));
    assert.ok(noIds.peers.length > 0 && noIds.peers.every((p) => p.peerId === undefined));
  });
});

test('bad input gets a bencoded failure reason, never a 500, and the swarm stays correct', async () => {
  await withEdge({}, async (edge) => {
    const hash = infoHash(3);
    ok(await announce(edge.url, { hash, peer: 1 }));
    const bad = [
      '/announce',
      '/announce?info_hash=short&peer_id=-ES0100-000000000009&port=1',
      `/announce?info_hash=${'a'.repeat(20)}&peer_id=x&port=1`,
      `/announce?info_hash=${'a'.repeat(20)}&peer_id=-ES0100-000000000009&port=99999`,
      `/announce?info_hash=${'a'.repeat(20)}&peer_id=-ES0100-000000000009&port=1&numwant=%%%`,
      `/announce?info_hash=${'a'.repeat(20)}&peer_id=-ES0100-000000000009&port=1&event=boom`,
      '/scrape',
      '/scrape?info_hash=1234',
      `/announce?${'x'.repeat(10000)}`,
    ];
    for (const path of bad) {
      const response = await fetch(new URL(path, edge.url));
      assert.equal(response.status, 200, path);
      const text = Buffer.from(await response.arrayBuffer()).toString('latin1');
      assert.match(text, /^d14:failure reason\d+:/, `${path} -> ${text}`);
    }
    const counts = await scrape(edge.url, [hash]);
    assert.ok(!('failure' in counts));
    assert.deepEqual(counts.get(toHex(hash)), { complete: 0, incomplete: 1, downloaded: 0, downloaders: 1 });
  });
});

test('the swarm survives a restart of the whole local edge', async () => {
  const state = await tempStateDir();
  let edge = await startTestEdge(state.dir);
  try {
    const hash = infoHash(4);
    await announce(edge.url, { hash, peer: 1, left: 0 });
    await announce(edge.url, { hash, peer: 2 });
    await announce(edge.url, { hash, peer: 2, left: 0, event: 'completed' });
    await edge.close();
    edge = await startTestEdge(state.dir);
    const r = ok(await announce(edge.url, { hash, peer: 3 }));
    assert.deepEqual(r.peers.map((p) => p.port).sort(), [6001, 6002]);
    const counts = await scrape(edge.url, [hash]);
    assert.ok(!('failure' in counts));
    assert.deepEqual(counts.get(toHex(hash)), { complete: 2, incomplete: 1, downloaded: 1, downloaders: 1 });
  } finally {
    await edge.close();
    await state.remove();
  }
});

test('silent peers are expired by the Durable Object alarm (PEER_TTL=1s for the test)', async () => {
  await withEdge({ PEER_TTL: '1' }, async (edge) => {
    const hash = infoHash(5);
    await announce(edge.url, { hash, peer: 1 });
    await announce(edge.url, { hash, peer: 2 });
    let incomplete = 2;
    for (let i = 0; i < 40 && incomplete > 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const counts = await scrape(edge.url, [hash]);
      assert.ok(!('failure' in counts));
      incomplete = counts.get(toHex(hash))!.incomplete;
    }
    assert.equal(incomplete, 0, 'both peers expired without announcing again');
  });
});

test('registered-only mode: unknown torrents get a clear failure, registered ones work', async () => {
  await withEdge({ TRACKER_MODE: 'registered' }, async (edge) => {
    const hash = infoHash(6);
    const refused = failed(await announce(edge.url, { hash, peer: 1 }));
    assert.match(refused.failure, /unregistered torrent/);
    assert.equal(refused.retryIn, 'never');
    const unauth = await fetch(new URL(`/api/torrents/${toHex(hash)}`, edge.url), { method: 'PUT' });
    assert.equal(unauth.status, 401);
    const wrong = await fetch(new URL(`/api/torrents/${toHex(hash)}`, edge.url), { method: 'PUT', headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 403);
    const reg = await fetch(new URL(`/api/torrents/${toHex(hash)}`, edge.url), { method: 'PUT', headers: { authorization: `Bearer ${TEST_SECRETS.PUBLISH_TOKEN}` } });
    assert.equal(reg.status, 200);
    ok(await announce(edge.url, { hash, peer: 1 }));
    const counts = await scrape(edge.url, [hash, infoHash(7)]);
    assert.ok(!('failure' in counts));
    assert.deepEqual([...counts.keys()], [toHex(hash)], 'unregistered torrents are left out of scrapes');
  });
});

test('private torrents (BEP 27): only valid passkeys get in, and a bad passkey never reaches the swarm', async () => {
  await withEdge({}, async (edge) => {
    const hash = infoHash(8);
    const auth = { authorization: `Bearer ${TEST_SECRETS.PUBLISH_TOKEN}`, 'content-type': 'application/json' };
    await fetch(new URL(`/api/torrents/${toHex(hash)}`, edge.url), { method: 'PUT', headers: auth, body: JSON.stringify({ private: true }) });
    const issued = (await (await fetch(new URL('/api/passkeys', edge.url), { method: 'POST', headers: auth, body: JSON.stringify({ user: 'alice' }) })).json()) as { passkey: string; announce: string };
    assert.match(issued.announce, /\/p\/alice\.[A-Za-z0-9_-]{24}\/announce$/);
    const bob = (await (await fetch(new URL('/api/passkeys', edge.url), { method: 'POST', headers: auth, body: JSON.stringify({ user: 'bob' }) })).json()) as { passkey: string };

    assert.match(failed(await announce(edge.url, { hash, peer: 1 })).failure, /private torrent/);
    assert.match(failed(await announce(edge.url, { hash, peer: 1, path: '/p/alice.AAAAAAAAAAAAAAAAAAAAAAAA/announce' })).failure, /unknown passkey/);
    assert.match(failed(await announce(edge.url, { hash, peer: 1, path: `/p/${issued.passkey}x/announce` })).failure, /unknown passkey/);
    ok(await announce(edge.url, { hash, peer: 1, path: `/p/${issued.passkey}/announce` }));
    const r = ok(await announce(edge.url, { hash, peer: 2, path: `/p/${bob.passkey}/announce` }));
    assert.deepEqual(r.peers, [{ host: '127.0.0.1', port: 6001 }]);
    const counts = await scrape(edge.url, [hash], `/p/${bob.passkey}/scrape`);
    assert.ok(!('failure' in counts));
    assert.equal(counts.get(toHex(hash))?.incomplete, 2, 'only the two passkey announces joined');
    const badUser = await fetch(new URL('/api/passkeys', edge.url), { method: 'POST', headers: auth, body: JSON.stringify({ user: '../x' }) });
    assert.equal(badUser.status, 400);
  });
});

test('the response is served as bencode with no caching', async () => {
  await withEdge({}, async (edge) => {
    const response = await announceRaw(edge.url, { hash: infoHash(9), peer: 1 });
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.match(Buffer.from(await response.arrayBuffer()).toString('latin1'), /^d8:completei0e/);
  });
});
