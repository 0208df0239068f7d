/**
 * PPSP Get-Peer (`GET /peers`, `/p/PASSKEY/peers`) on Miniflare: peers of a swarm for a viewer
 * that is only looking. The asker is never added and no count moves; numwant, layer-aware
 * selection, access (private, registered mode, passkeys) and every parameter error are an
 * announce's. Driven through the peer's own client (httpGetPeers) and raw queries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../shared/bytes.js';
import { decodeAnnounceResponse, type AnnounceResponse, type TrackerFailure } from '../../shared/tracker/index.js';
import { getPeerUrl, httpGetPeers } from '../../peer-node/tracker/http-tracker-client.js';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';
import { announce, escapeBytes, infoHash, peerId, scrape } from '../helpers/tracker-client.js';

const AUTH = { authorization: `Bearer ${TEST_SECRETS.PUBLISH_TOKEN}`, 'content-type': 'application/json' };

function ok(r: AnnounceResponse | TrackerFailure): AnnounceResponse {
  if ('failure' in r) assert.fail(`tracker refused: ${r.failure}`);
  return r;
}

async function raw(base: URL, path: string): Promise<AnnounceResponse | TrackerFailure> {
  const response = await fetch(new URL(path, base));
  assert.equal(response.status, 200, 'tracker answers are always 200 with a bencoded body');
  return decodeAnnounceResponse(new Uint8Array(await response.arrayBuffer()));
}

const ports = (r: AnnounceResponse) => r.peers.map((p) => p.port).sort((a, b) => a - b);

test('Get-Peer: the swarm\'s peers for a viewer that does not join; no count moves and nobody is told of it', async () => {
  await withEdge({}, async (edge) => {
    const hash = infoHash(41);
    const tracker = new URL('/announce', edge.url).href;
    ok(await announce(edge.url, { hash, peer: 1, left: 0, event: 'completed' }));
    ok(await announce(edge.url, { hash, peer: 2, event: 'started' }));
    ok(await announce(edge.url, { hash, peer: 3, event: 'started' }));
    const before = await scrape(edge.url, [hash]);

    const looked = ok(await httpGetPeers(tracker, hash));
    assert.deepEqual(ports(looked), [6001, 6002, 6003], 'a viewer gets seeds and downloaders alike');
    assert.deepEqual([looked.complete, looked.incomplete], [1, 2]);
    assert.equal(looked.interval, 900);
    for (let i = 0; i < 5; i++) ok(await httpGetPeers(tracker, hash));
    assert.deepEqual(await scrape(edge.url, [hash]), before, 'looking added nobody and counted nothing');
    const member = ok(await announce(edge.url, { hash, peer: 4, event: 'started' }));
    assert.deepEqual(ports(member), [6001, 6002, 6003], 'a later announce lists only the three members');

    assert.equal(ok(await httpGetPeers(tracker, hash, { numwant: 1 })).peers.length, 1, 'numwant bounds the answer');
    assert.equal(ok(await httpGetPeers(tracker, hash, { numwant: 100_000 })).peers.length, 4, 'a huge numwant is clamped, not refused');
    const self = ok(await raw(edge.url, `/peers?info_hash=${escapeBytes(hash)}&peer_id=${escapeBytes(peerId(2))}`));
    assert.deepEqual(ports(self), [6001, 6003, 6004], 'a member asking for more is left out of its own answer');
    assert.deepEqual(ok(await httpGetPeers(tracker, infoHash(42))).peers, [], 'an empty swarm has no peers');
  });
});

test('Get-Peer: layer-aware like an announce: a viewer at layer 2 gets the peers that hold layer 2 first', async () => {
  await withEdge({}, async (edge) => {
    const hash = infoHash(43);
    for (const peer of [1, 2, 3]) ok(await announce(edge.url, { hash, peer, event: 'started', extra: '&layer=0' }));
    ok(await announce(edge.url, { hash, peer: 4, event: 'started', extra: '&layer=2' }));
    for (let i = 0; i < 8; i++) {
      assert.deepEqual(ports(ok(await httpGetPeers(new URL('/announce', edge.url).href, hash, { numwant: 1, layer: 2 }))), [6004]);
    }
  });
});

test('Get-Peer: bad queries get a failure reason; private torrents need a valid passkey; registered mode refuses unknown torrents', async () => {
  await withEdge({ TRACKER_MODE: 'registered' }, async (edge) => {
    const hash = infoHash(44);
    const q = `info_hash=${escapeBytes(hash)}`;
    const reasons: [string, RegExp][] = [
      ['/peers', /^info_hash is missing/],
      ['/peers?info_hash=abc', /^info_hash must be 20 bytes, got 3/],
      [`/peers?${q}&${q}`, /^info_hash given more than once/],
      [`/peers?${q}&numwant=lots`, /^numwant must be an integer/],
      [`/peers?${q}&layer=99`, /^layer must be a whole number from 0 to 15/],
      [`/peers?${q}&peer_id=short`, /^peer_id must be 20 bytes/],
      [`/peers?${q}`, /^unregistered torrent/],
      [`/p/not-a-passkey/peers?${q}`, /^unknown passkey/],
    ];
    for (const [path, reason] of reasons) {
      const r = await raw(edge.url, path);
      assert.ok('failure' in r && reason.test(r.failure), `${path}: ${JSON.stringify(r)}`);
    }

    const hex = toHex(hash);
    assert.equal((await fetch(new URL(`/api/torrents/${hex}`, edge.url), { method: 'PUT', headers: AUTH, body: JSON.stringify({ private: true }) })).status, 200);
    const alice = (await (await fetch(new URL('/api/passkeys', edge.url), { method: 'POST', headers: AUTH, body: JSON.stringify({ user: 'alice' }) })).json()) as { announce: string };
    ok(await announce(edge.url, { hash, peer: 1, path: new URL(alice.announce).pathname }));
    const open = await raw(edge.url, `/peers?${q}`);
    assert.ok('failure' in open && /^private torrent/.test(open.failure), 'no passkey, no peers of a private swarm');
    assert.equal(getPeerUrl(alice.announce), alice.announce.replace(/announce$/, 'peers'));
    assert.deepEqual(ports(ok(await httpGetPeers(alice.announce, hash))), [6001], 'with the passkey: the swarm');
  });
});
