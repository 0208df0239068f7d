/**
 * GET /stats, GET /stats/:infoHash and the /dashboard page on Miniflare's real Durable Objects:
 * exact figures for a swarm the test made (counts, edge-seed bytes, peer-reported bytes), busiest
 * first, the publisher view behind the publish token, private swarms, bad input, figures that
 * survive a restart, and an escaped page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../shared/bytes.js';
import { TEST_SECRETS, startTestEdge, tempStateDir, withEdge } from '../helpers/edge.js';
import { announce, infoHash } from '../helpers/tracker-client.js';
import { AUTH, eventually, makeKnownSwarm, type KnownSwarm } from '../helpers/stats-swarm.js';

interface ShownSwarm {
  infoHash: string;
  name?: string;
  seeds: number;
  leechers: number;
  downloaders: number;
  completed: number;
  edgeSeeding: boolean;
  layers?: { byLayer: Record<string, number> };
  edgeBytes: number;
  peerBytes: number;
  offload: number | null;
  private?: boolean;
  publisher?: { registered: boolean; hasLayerInfo: boolean; peers: { ipv4: number; ipv6: number; clients: Record<string, number>; users: number; partialSeeds: number } };
  series?: { t: number; seeds: number; leechers: number; edgeBytes: number; peerBytes: number }[];
}
interface StatsList {
  generatedAt: string;
  publisher: boolean;
  swarms: ShownSwarm[];
  totals: Record<string, number | null>;
}

async function get<T>(base: URL, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(new URL(path, base), { headers });
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}

/** The public figures of the known swarm, as GET /stats must show them. */
function expected(known: KnownSwarm): Omit<ShownSwarm, 'series' | 'publisher' | 'private'> {
  return {
    infoHash: known.infoHash,
    name: known.name,
    seeds: known.seeds,
    leechers: known.leechers,
    downloaders: known.downloaders,
    completed: known.completed,
    edgeSeeding: true,
    edgeBytes: known.edgeBytes,
    peerBytes: known.peerBytes,
    offload: known.peerBytes / (known.peerBytes + known.edgeBytes),
  };
}

test('GET /stats shows a swarm exactly as made: counts, edge-seed bytes, peer-reported bytes; busiest first; survives a restart', async () => {
  const state = await tempStateDir();
  let edge = await startTestEdge(state.dir);
  try {
    const known = await makeKnownSwarm(edge.url);
    // A second, smaller swarm (announces only, no name): listed after the busier one.
    const other = toHex(infoHash(71));
    await announce(edge.url, { hash: infoHash(71), peer: 9, left: 10, event: 'started' });

    const list = await eventually(
      () => get<StatsList>(edge.url, '/stats'),
      (r) => r.body.swarms[0]?.edgeBytes === known.edgeBytes && r.body.swarms[0]?.peerBytes === known.peerBytes,
    );
    assert.equal(list.status, 200);
    assert.equal(list.headers.get('cache-control'), 'no-store');
    assert.equal(list.body.publisher, false);
    assert.deepEqual(list.body.swarms.map((s) => s.infoHash), [known.infoHash, other], 'busiest first');
    assert.deepEqual(list.body.swarms[0], expected(known));
    assert.deepEqual(list.body.swarms[1], {
      infoHash: other, seeds: 0, leechers: 1, downloaders: 1, completed: 0, edgeSeeding: false, edgeBytes: 0, peerBytes: 0, offload: null,
    });
    assert.deepEqual(list.body.totals, {
      listed: 2, shown: 2, seeds: 2, leechers: 3, downloaders: 2, completed: 1,
      edgeBytes: known.edgeBytes, peerBytes: known.peerBytes, offload: known.peerBytes / (known.peerBytes + known.edgeBytes),
    });
    assert.ok(!Number.isNaN(Date.parse(list.body.generatedAt)));
    // A page of one: only the busiest.
    assert.deepEqual((await get<StatsList>(edge.url, '/stats?limit=1')).body.swarms.map((s) => s.infoHash), [known.infoHash]);

    const one = await get<{ swarm: ShownSwarm }>(edge.url, `/stats/${known.infoHash.toUpperCase()}`);
    assert.equal(one.status, 200);
    const { series, ...figures } = one.body.swarm;
    assert.deepEqual(figures, expected(known));
    assert.ok(series && series.length >= 1 && series.length <= 360, 'a bounded series');
    const last = series.at(-1)!;
    assert.equal(last.t % 10_000, 0, '10 s buckets');
    assert.deepEqual([last.seeds, last.leechers, last.edgeBytes, last.peerBytes], [known.seeds, known.leechers, known.edgeBytes, known.peerBytes]);
    for (let i = 1; i < series.length; i++) {
      assert.ok(series[i]!.t > series[i - 1]!.t && series[i]!.peerBytes >= series[i - 1]!.peerBytes, 'ordered, cumulative');
    }

    // Batched re-announces are written within 2 s; after that a restart keeps every figure.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await edge.close();
    edge = await startTestEdge(state.dir);
    const after = await get<StatsList>(edge.url, '/stats');
    // That the edge seed serves the swarm (for 5 minutes after it last did) is stored too.
    assert.deepEqual(after.body.swarms[0], expected(known));
    assert.equal(after.body.totals.listed, 2);
    const again = await get<{ swarm: ShownSwarm }>(edge.url, `/stats/${known.infoHash}`);
    assert.deepEqual(again.body.swarm.series?.at(-1), last, 'the series was stored');
  } finally {
    await edge.close();
    await state.remove();
  }
});

test('the publisher view needs the right token: private swarms and peer summaries; a wrong or malformed token is refused, not downgraded', async () => {
  await withEdge({}, async (edge) => {
    const known = await makeKnownSwarm(edge.url);
    // A private swarm (BEP 27): registered, one passkey user announcing.
    const secret = toHex(infoHash(72));
    await fetch(new URL(`/api/torrents/${secret}`, edge.url), { method: 'PUT', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{"private":true}' });
    const issued = (await (await fetch(new URL('/api/passkeys', edge.url), { method: 'POST', headers: AUTH, body: JSON.stringify({ user: 'alice' }) })).json()) as { passkey: string };
    const joined = await announce(edge.url, { hash: infoHash(72), peer: 20, left: 10, event: 'started', path: `/p/${issued.passkey}/announce` });
    assert.ok(!('failure' in joined));

    const publisher = await eventually(
      () => get<StatsList>(edge.url, '/stats', AUTH),
      (r) => r.body.swarms.length === 2 && r.body.swarms.some((s) => s.peerBytes === known.peerBytes && s.edgeBytes === known.edgeBytes),
    );
    assert.equal(publisher.status, 200);
    assert.equal(publisher.body.publisher, true);
    const mine = publisher.body.swarms.find((s) => s.infoHash === known.infoHash)!;
    assert.deepEqual(mine, {
      ...expected(known),
      private: false,
      publisher: { registered: true, hasLayerInfo: false, peers: { ipv4: 4, ipv6: 0, clients: { '-ES0100-': 4 }, users: 0, partialSeeds: 1 } },
    });
    const hidden = publisher.body.swarms.find((s) => s.infoHash === secret)!;
    assert.equal(hidden.private, true);
    assert.deepEqual(hidden.publisher?.peers.users, 1);

    // Anyone: the private swarm is left out, and its own stats are refused.
    const anyone = await get<StatsList>(edge.url, '/stats');
    assert.deepEqual(anyone.body.swarms.map((s) => s.infoHash), [known.infoHash]);
    assert.equal(anyone.body.swarms[0]!.publisher, undefined);
    assert.equal(anyone.body.totals.listed, 2);
    const refused = await get<{ error: string }>(edge.url, `/stats/${secret}`);
    assert.equal(refused.status, 403);
    assert.match(refused.body.error, /private torrent/);
    assert.equal((await get<{ swarm: ShownSwarm }>(edge.url, `/stats/${secret}`, AUTH)).body.swarm.private, true);

    for (const path of ['/stats', `/stats/${known.infoHash}`]) {
      const wrong = await get<{ error: string }>(edge.url, path, { authorization: 'Bearer not-the-token' });
      assert.equal(wrong.status, 403);
      assert.deepEqual(wrong.body, { error: 'wrong publish token' });
      const malformed = await get<{ error: string }>(edge.url, path, { authorization: `Basic ${TEST_SECRETS.PUBLISH_TOKEN}` });
      assert.equal(malformed.status, 401);
      assert.match(malformed.body.error, /Authorization: Bearer/);
    }
  });
});

test('bad input: malformed and unknown info-hashes, bad limits, and the dashboard page for them (escaped, with its CSP)', async () => {
  await withEdge({}, async (edge) => {
    const bad = await get<{ error: string }>(edge.url, '/stats/not-a-hash');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'info-hash must be 40 hex characters');
    const unknown = 'ab'.repeat(20);
    const missing = await get<{ error: string }>(edge.url, `/stats/${unknown}`);
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /^no swarm with this info-hash/);
    for (const limit of ['0', '201', 'ten', '1.5', '-3', '']) {
      const r = await get<{ error: string }>(edge.url, `/stats?limit=${limit}`);
      assert.equal(r.status, 400, `limit=${limit}`);
      assert.match(r.body.error, /limit must be a whole number from 1 to 200/);
    }
    assert.deepEqual((await get<StatsList>(edge.url, '/stats?limit=200')).body.swarms, [], 'nothing listed yet');

    const page = await fetch(new URL('/dashboard', edge.url));
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const csp = page.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([A-Za-z0-9_-]+)'/.exec(csp)?.[1];
    assert.ok(nonce, csp);
    assert.match(csp, /default-src 'none'/);
    const html = await page.text();
    assert.ok(html.includes(`<script nonce="${nonce}">`), 'the inline script carries the nonce');
    assert.ok(!/<script[^>]+src=|<link[^>]+stylesheet/.test(html), 'no external assets');
    const second = await fetch(new URL('/dashboard', edge.url));
    assert.notEqual(/nonce-([^']+)/.exec(second.headers.get('content-security-policy') ?? '')?.[1], nonce, 'a fresh nonce per page');
    await second.arrayBuffer();

    const notFound = await fetch(new URL(`/dashboard?swarm=${unknown}`, edge.url));
    assert.equal(notFound.status, 404);
    assert.match(await notFound.text(), new RegExp(`no swarm with this info-hash on this edge: ${unknown}`));
    const hostile = await fetch(new URL(`/dashboard?swarm=${encodeURIComponent('<script>alert("x")</script>')}`, edge.url));
    assert.equal(hostile.status, 400);
    const text = await hostile.text();
    assert.ok(text.includes('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;'), 'the input comes back escaped');
    assert.ok(!text.includes('<script>alert'), 'and never as markup');
  });
});

test('active layers: /stats counts the swarm\'s peers by the layer each announced (LAYER-CHANGE), and follows a change', async () => {
  await withEdge({}, async (edge) => {
    const hash = infoHash(72);
    const hex = toHex(hash);
    // Peers that name no layer are not counted by layer; 11 and 12 play layer 1, 13 layer 2.
    await announce(edge.url, { hash, peer: 10, left: 10, event: 'started' });
    await announce(edge.url, { hash, peer: 11, left: 10, event: 'started', extra: '&layer=1' });
    await announce(edge.url, { hash, peer: 12, left: 10, event: 'started', extra: '&layer=1' });
    await announce(edge.url, { hash, peer: 13, left: 10, event: 'started', extra: '&layer=2' });
    const before = await get<{ swarm: ShownSwarm }>(edge.url, `/stats/${hex}`);
    assert.deepEqual(before.body.swarm.layers, { byLayer: { '1': 2, '2': 1 } });
    // Peer 12 steps down to the base layer; peer 13 leaves.
    await announce(edge.url, { hash, peer: 12, left: 10, extra: '&layer=0' });
    await announce(edge.url, { hash, peer: 13, left: 10, event: 'stopped', extra: '&layer=2' });
    const list = await get<StatsList>(edge.url, '/stats');
    assert.deepEqual(list.body.swarms.find((s) => s.infoHash === hex)?.layers, { byLayer: { '0': 1, '1': 1 } });
  });
});
