/**
 * Tracker exchange (BEP 28) between our peers: a peer whose copy of the torrent lists no tracker
 * learns the edge tracker from a peer that verified it, announces there once, and only then uses
 * it (the edge's scrape counts it); a tracker that does not answer is never adopted; private
 * torrents exchange no trackers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '../../peer-node/client.js';
import type { Torrent } from '../../peer-node/engine/torrent.js';
import { buildTorrent } from '../../shared/metainfo/index.js';
import type { ScrapeCounts } from '../../shared/tracker/http-response.js';
import { until } from '../helpers/raw-peer.js';
import { makeContent } from '../helpers/content.js';
import { withEdge } from '../helpers/edge.js';
import { scrape } from '../helpers/tracker-client.js';


test('a peer learns a verified tracker from another and adopts it only after it answers', { timeout: 60_000 }, () =>
  withEdge({}, async (edge) => {
    const root = await mkdtemp(path.join(tmpdir(), 'tex-'));
    const a = new Client({ port: 0, host: '127.0.0.1' });
    const b = new Client({ port: 0, host: '127.0.0.1' });
    try {
      const announce = new URL('/announce', edge.url).href;
      const dead = 'http://127.0.0.1:9/announce';
      // A's copy lists the edge (it answers) and a dead tracker (it never does); B's lists none.
      // The announce list is outside the info dictionary: both copies are the same torrent.
      const content = await makeContent(path.join(root, 'seed'), [400_000], { announceList: [[dead], [announce]] });
      const bare = await buildTorrent({ name: 'content', pieceLength: content.built.torrent.info.pieceLength, pieces: new Uint8Array(Buffer.concat(content.built.torrent.info.pieces)), files: content.files.map((f) => ({ path: f.path, length: f.bytes.length })) });
      assert.equal(bare.torrent.infoHashHex, content.built.torrent.infoHashHex);
      await a.listen();
      await b.listen();
      // Neither has the data, so they stay connected (two seeds, or a finished leech, would hang up).
      const ta = await a.add(content.built.torrent, { dir: path.join(root, 'a') });
      await until('A verified the edge', () => ta.verifiedTrackers().includes(announce));
      const tb: Torrent = await b.add(bare.torrent, { dir: path.join(root, 'b') });
      assert.deepEqual(tb.trackers, []);
      tb.addPeers([{ host: '127.0.0.1', port: a.port }]);
      const adopted = once(tb, 'tracker');
      assert.equal((await adopted)[0], announce);
      assert.deepEqual(tb.trackers, [announce], 'only the verified tracker was passed on and adopted');
      const counts = async (): Promise<ScrapeCounts | undefined> => {
        const r = await scrape(edge.url, [content.built.torrent.infoHash]);
        return 'failure' in r ? undefined : r.get(content.built.torrent.infoHashHex);
      };
      await until('B announced to the learned tracker', async () => (await counts())?.incomplete === 2);
    } finally {
      await b.close();
      await a.close();
      await rm(root, { recursive: true, force: true });
    }
  }),
);

test('private torrents exchange no trackers', { timeout: 30_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'tex-private-'));
  const a = new Client({ port: 0, host: '127.0.0.1' });
  const b = new Client({ port: 0, host: '127.0.0.1' });
  try {
    const content = await makeContent(path.join(root, 'seed'), [100_000], { private: true });
    await a.listen();
    await b.listen();
    await a.add(content.built.torrent, { dir: path.join(root, 'a') }); // both empty: they stay connected
    const tb = await b.add(content.built.torrent, { dir: path.join(root, 'b') });
    tb.addPeers([{ host: '127.0.0.1', port: a.port }]);
    await until('connected', () => tb.sessions.size === 1 && tb.sessions.values().next().value!.extensions !== undefined);
    const offered = tb.sessions.values().next().value!.extensions!.m;
    assert.equal(offered.has('lt_tex'), false);
    assert.equal(offered.has('ut_pex'), false);
  } finally {
    await b.close();
    await a.close();
    await rm(root, { recursive: true, force: true });
  }
});
