/**
 * `GET /t/<info-hash>.torrent`: the public .torrent of a published torrent (the `xs=` of the
 * magnets `peer-node publish` prints): 200 for a public one, 403 for a private one (its
 * passkey-bearing torrent comes from the publisher API), 404 unknown, 400 malformed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { publishPath } from '../../peer-node/publish/publish-client.js';
import { parseTorrent } from '../../shared/metainfo/index.js';
import { makeContent } from '../helpers/content.js';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';

test('public torrents are served at /t/HASH.torrent without a token; private ones are not', { timeout: 60_000 }, () =>
  withEdge({}, async (edge) => {
    const root = await mkdtemp(path.join(tmpdir(), 'public-torrent-'));
    try {
      const publish = async (name: string, priv: boolean) => {
        const content = await makeContent(path.join(root, name), [50_000 + name.length], { single: true });
        return publishPath({ path: path.join(content.dir, content.name), edge: new URL(edge.url), token: TEST_SECRETS.PUBLISH_TOKEN, private: priv });
      };
      const open = await publish('open', false);
      const res = await fetch(new URL(`/t/${open.infoHash}.torrent`, edge.url));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/x-bittorrent');
      const t = await parseTorrent(new Uint8Array(await res.arrayBuffer()));
      assert.equal(t.infoHashHex, open.infoHash);
      assert.equal(t.urlList.length, 1);
      const closed = await publish('closed', true);
      assert.equal((await fetch(new URL(`/t/${closed.infoHash}.torrent`, edge.url))).status, 403);
      assert.equal((await fetch(new URL(`/t/${'0'.repeat(40)}.torrent`, edge.url))).status, 404);
      assert.equal((await fetch(new URL('/t/nothex.torrent', edge.url))).status, 400);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }),
);
