/**
 * An edge deployed without one of its secrets (docs/DEPLOY.md, "Secrets"): the routes that secret
 * guards answer 503 naming the secret to set, never a 500 and never open access; everything
 * else (the public tracker, the public seed, health) carries on. Run on Miniflare with the
 * secret bound as empty, which is how a missing `wrangler secret put` reads in the Worker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAnnounceResponse } from '../../shared/tracker/index.js';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';
import { announce, infoHash } from '../helpers/tracker-client.js';

const HASH = 'ab'.repeat(20);

async function json(response: Response): Promise<{ status: number; error: string }> {
  const body = (await response.json()) as { error?: string };
  return { status: response.status, error: body.error ?? '' };
}

test('no PUBLISH_TOKEN and no GATEWAY_SECRET: the publisher API, PUT-LAYER and the UDP relay answer 503 naming the secret; the tracker and health carry on', async () => {
  await withEdge({ PUBLISH_TOKEN: '', GATEWAY_SECRET: '' }, async (edge) => {
    const bearer = { authorization: 'Bearer anything', 'content-type': 'application/json' };
    for (const [method, path, body] of [
      ['POST', '/api/publish', '{}'],
      ['PUT', `/api/torrents/${HASH}`, '{}'],
      ['GET', `/api/torrents/${HASH}`, undefined],
      ['POST', '/api/passkeys', '{"user":"alice"}'],
      ['PUT', `/layers/${HASH}`, '{}'],
    ] as const) {
      // With a token, without one: no guess gets in while the secret is unset.
      for (const headers of [bearer, { 'content-type': 'application/json' }]) {
        const r = await json(await fetch(new URL(path, edge.url), { method, headers, ...(body ? { body } : {}) }));
        assert.equal(r.status, 503, `${method} ${path}`);
        assert.match(r.error, /PUBLISH_TOKEN/, `${method} ${path}: ${r.error}`);
      }
    }
    const udp = await json(await fetch(new URL('/udp', edge.url), { method: 'POST', headers: { authorization: `Bearer ${TEST_SECRETS.GATEWAY_SECRET}` }, body: new Uint8Array(16) }));
    assert.equal(udp.status, 503);
    assert.match(udp.error, /GATEWAY_SECRET/);

    // The open tracker and health do not depend on either secret.
    const answer = await announce(edge.url, { hash: infoHash(7), peer: 1, event: 'started' });
    assert.ok(!('failure' in answer), 'a public announce is answered');
    assert.equal((await fetch(new URL('/health', edge.url))).status, 200);
  });
});

test('no PASSKEY_SECRET: passkeys cannot be issued (503) and a private announce is refused in its bencoded answer; public announces carry on', async () => {
  await withEdge({ PASSKEY_SECRET: '' }, async (edge) => {
    const r = await json(
      await fetch(new URL('/api/passkeys', edge.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_SECRETS.PUBLISH_TOKEN}`, 'content-type': 'application/json' },
        body: '{"user":"alice"}',
      }),
    );
    assert.equal(r.status, 503);
    assert.match(r.error, /PASSKEY_SECRET/);

    const query = `info_hash=${'%ab'.repeat(20)}&peer_id=${'-ES0001-'}${'a'.repeat(12)}&port=6881&uploaded=0&downloaded=0&left=10&compact=1`;
    const response = await fetch(new URL(`/p/alice.${'A'.repeat(24)}/announce?${query}`, edge.url));
    assert.equal(response.status, 200, 'tracker answers are bencoded, with status 200');
    const refused = decodeAnnounceResponse(new Uint8Array(await response.arrayBuffer()));
    assert.ok('failure' in refused && /passkey/.test(refused.failure), JSON.stringify(refused));

    const answer = await announce(edge.url, { hash: infoHash(8), peer: 1, event: 'started' });
    assert.ok(!('failure' in answer), 'a public announce is answered');
  });
});
