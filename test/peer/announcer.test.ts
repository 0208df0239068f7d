/**
 * The announce loop against the edge tracker on Miniflare, seen through scrape: `started` makes
 * a peer count, `completed` bumps the swarm's download count once, `stopped` removes the peer at
 * once (not at expiry). A tracker that refuses is a warning and the next tier is tried.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '../../peer-node/client.js';
import type { Torrent } from '../../peer-node/engine/torrent.js';
import type { ScrapeCounts } from '../../shared/tracker/http-response.js';
import { until } from '../helpers/raw-peer.js';
import { makeContent } from '../helpers/content.js';
import { withEdge } from '../helpers/edge.js';
import { scrape } from '../helpers/tracker-client.js';


test('started, completed and stopped reach the tracker; a dead first tier falls through to the next', { timeout: 60_000 }, () =>
  withEdge({}, async (edge) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'announcer-'));
    const seed = new Client({ port: 0, host: '127.0.0.1' });
    const leech = new Client({ port: 0, host: '127.0.0.1' });
    try {
      const announce = new URL('/announce', edge.url).href;
      // Tier 1 is a port nobody listens on: every announce first fails there, then goes to tier 2.
      const content = await makeContent(path.join(dir, 'seed'), [200_000], { announceList: [['http://127.0.0.1:9/announce'], [announce]] });
      const hash = content.built.torrent.infoHash;
      const counts = async (): Promise<ScrapeCounts> => {
        const r = await scrape(edge.url, [hash]);
        if ('failure' in r) throw new Error(r.failure);
        return r.get(content.built.torrent.infoHashHex) ?? { complete: 0, incomplete: 0, downloaded: 0, downloaders: 0 };
      };
      await seed.listen();
      await leech.listen();
      const warnings: string[] = [];
      const seeding = await seed.add(content.built.torrent, { dir: content.dir });
      seeding.on('warning', (w: string) => warnings.push(w));
      await until('the seed on the tracker', async () => (await counts()).complete === 1);
      assert.ok(warnings.some((w) => w.includes('127.0.0.1:9')), 'the dead tracker was tried and reported');

      const t: Torrent = await leech.add(content.built.torrent, { dir: path.join(dir, 'leech') });
      if (!t.complete) await once(t, 'done');
      await until('completed counted', async () => {
        const c = await counts();
        return c.downloaded === 1 && c.complete === 2;
      });
      await leech.remove(t.infoHashHex);
      await until('stopped removes the peer', async () => (await counts()).complete === 1);
      assert.equal((await counts()).downloaded, 1, 'completed was said once');
    } finally {
      await leech.close();
      await seed.close();
      await rm(dir, { recursive: true, force: true });
    }
  }),
);
