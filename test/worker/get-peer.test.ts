/**
 * PPSP Get-Peer (`GET /peers`, `/p/PASSKEY/peers`) on Miniflare: peers of a swarm for a viewer
 * that is only looking. The asker is never added and no count moves; numwant, layer-aware
 * selection, access (private, registered mode, passkeys) and every parameter error are an
 * announce's; every refusal is counted by reason for the operator (GET /stats, publisher view).
 * Driven through the peer's own client (httpGetPeers) and raw queries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../shared/bytes.js';
import { decodeAnnounceResponse, type AnnounceResponse, type TrackerFailure } from '../../shared/tracker/index.js';
import { getPeerUrl, httpGetPeers } from '../../peer-node/tracker/http-tracker-client.js';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';
import { announce, escapeBytes, infoHash, peerId, scrape } from '../helpers/tracker-client.js';
import { until } from '../helpers/raw-peer.js';

/** How often an isolate reports refusal counts at most (REFUSAL_FLUSH_MS in worker/stats/refusal-counts.ts, which Node cannot load). */
const REFUSAL_FLUSH_MS = 2_000;
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

/** GET /stats as the publisher: its edge-wide Get-Peer refusal counts (worker/stats/refusal-counts.ts). */
async function getPeerRefusals(base: URL): Promise<Record<string, number>> {
  const response = await fetch(new URL('/stats', base), { headers: { authorization: AUTH.authorization } });
  assert.equal(response.status, 200);
  return ((await response.json()) as { refusals?: Record<string, Record<string, number>> }).refusals?.getPeer ?? {};
}

/**
 * Waits until the counts add up to `total` (an isolate reports at most every 2 s), then past
 * one more report interval, so that a count too many would show too.
 */
async function settledRefusals(base: URL, total: number): Promise<Record<string, number>> {
  const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
  await until(`${total} Get-Peer refusals counted`, async () => sum(await getPeerRefusals(base)) >= total);
  await new Promise((r) => setTimeout(r, REFUSAL_FLUSH_MS + 300));
  return getPeerRefusals(base);
}

test('Get-Peer: bad queries get a failure reason; private torrents need a valid passkey; registered mode refuses unknown torrents; each refusal is counted by reason', async () => {
  await withEdge({ TRACKER_MODE: 'registered', FAULT_INJECTION: '1' }, async (edge) => {
    const hash = infoHash(44);
    const q = `info_hash=${escapeBytes(hash)}`;
    const reasons: [string, RegExp][] = [
      ['/peers', /^info_hash is missing/],
      ['/peers?info_hash=abc', /^info_hash must be 20 bytes, got 3/],
      ['/peers?info_hash=%zz', /^info_hash: malformed percent-escape/],
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
    // The swarm's object failing (injected): the BEP 31 busy answer, counted as such.
    const busy = decodeAnnounceResponse(new Uint8Array(await (await fetch(new URL(`/peers?${q}`, edge.url), { headers: { 'x-fault-inject': 'swarm' } })).arrayBuffer()));
    assert.ok('failure' in busy && /^tracker busy/.test(busy.failure), JSON.stringify(busy));

    const hex = toHex(hash);
    const unknown = await fetch(new URL(`/stats/${hex}`, edge.url), { headers: { authorization: AUTH.authorization } });
    assert.equal(unknown.status, 404, 'refusing an unregistered torrent created no swarm');
    await unknown.body?.cancel();
    assert.equal((await fetch(new URL(`/api/torrents/${hex}`, edge.url), { method: 'PUT', headers: AUTH, body: JSON.stringify({ private: true }) })).status, 200);
    const alice = (await (await fetch(new URL('/api/passkeys', edge.url), { method: 'POST', headers: AUTH, body: JSON.stringify({ user: 'alice' }) })).json()) as { announce: string };
    ok(await announce(edge.url, { hash, peer: 1, path: new URL(alice.announce).pathname }));
    const open = await raw(edge.url, `/peers?${q}`);
    assert.ok('failure' in open && /^private torrent/.test(open.failure), 'no passkey, no peers of a private swarm');
    assert.equal(getPeerUrl(alice.announce), alice.announce.replace(/announce$/, 'peers'));
    assert.deepEqual(ports(ok(await httpGetPeers(alice.announce, hash))), [6001], 'with the passkey: the swarm');

    // Eleven refusals, each under its reason; the answered request is not among them.
    assert.deepEqual(await settledRefusals(edge.url, 11), {
      'bad-escape': 1,
      'bad-parameter': 4,
      busy: 1,
      'duplicate-parameter': 1,
      'missing-parameter': 1,
      private: 1,
      'unknown-passkey': 1,
      unregistered: 1,
    });
    const publicView = (await (await fetch(new URL('/stats', edge.url))).json()) as Record<string, unknown>;
    assert.equal(publicView.refusals, undefined, 'the counts are for the publisher (the operator) only');
  });
});
