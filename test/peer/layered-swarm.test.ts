/**
 * Layered streaming as a swarm: our edge on Miniflare (tracker, layer info, HTTP seed) and 12 of
 * our peers on 127.0.0.1 in three bandwidth classes (1, 3 and 10 Mbit/s down, half that up, as
 * home links), all playing a 4-layer cumulative asset from start to end. Every peer plays every
 * segment with no stall; the slow class settles on fewer layers than the fast one; LAYER-CHANGE
 * reaches the other peers (pp_layer messages) and the tracker (its /active counts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { publishLayeredAsset } from '../../peer-node/layers/publish-layers.js';
import { writeSyntheticLayeredAsset } from '../../peer-node/layers/synthetic-asset.js';
import { parseTorrent } from '../../shared/metainfo/index.js';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';
import { homeLink, runLayeredCrowd } from '../helpers/layered-crowd.js';

const SEGMENTS = 30;

test('12 peers in 1/3/10 Mbit/s classes play a layered asset: no stalls, slow peers on fewer layers, LAYER-CHANGE seen by peers and tracker', { timeout: 180_000 }, async (t) => {
  await withEdge({ SEED_CLIENT_RATE: '209715200' }, async (edge) => {
    const root = await mkdtemp(path.join(tmpdir(), 'layered-swarm-'));
    try {
      const dir = path.join(root, 'asset');
      await writeSyntheticLayeredAsset(dir, { bitrates: [200e3, 400e3, 800e3, 1600e3], segmentDuration: 1, segmentCount: SEGMENTS, mode: 'cumulative' });
      const published = await publishLayeredAsset({ dir, edge: new URL(edge.url), token: TEST_SECRETS.PUBLISH_TOKEN, pieceLength: 32 * 1024 });
      const torrent = await parseTorrent(published.torrent);
      const classes = [1, 3, 10, 1, 3, 10, 1, 3, 10, 1, 3, 10].map(homeLink);

      // The tracker's view while they play: the most peers it counted per layer.
      const seenByTracker = new Map<string, number>();
      let playing = true;
      const poll = (async () => {
        while (playing) {
          const r = await fetch(new URL(`/layers/${published.infoHash}/active`, edge.url));
          if (r.status === 200) {
            const { byLayer } = (await r.json()) as { byLayer: Record<string, number> };
            for (const [layer, n] of Object.entries(byLayer)) seenByTracker.set(layer, Math.max(seenByTracker.get(layer) ?? 0, n));
          }
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      })();
      const out = await runLayeredCrowd(torrent, published.layerInfo, (i) => path.join(root, `peer${i}`), { classes, joinWithinMs: 3000 }).finally(() => (playing = false));
      await poll;

      const mean = (name: string) => {
        const ps = out.peers.filter((p) => p.className === name);
        return ps.reduce((n, p) => n + p.meanLayer, 0) / ps.length;
      };
      const stallsOf = (name: string) => out.peers.filter((p) => p.className === name).reduce((n, p) => n + p.stalls, 0);
      t.diagnostic(`mean layer by class: ${['1 Mbit/s', '3 Mbit/s', '10 Mbit/s'].map((c) => `${c} ${mean(c).toFixed(2)} (stalls ${stallsOf(c)})`).join(', ')}; offload ${(out.offload * 100).toFixed(1)}%`);
      for (const [i, p] of out.peers.entries()) {
        assert.equal(p.played.length, SEGMENTS, `peer ${i} (${p.className}) played every segment`);
        assert.deepEqual(p.played.map((s) => s.segment), [...Array(SEGMENTS).keys()], `peer ${i} played in order`);
        assert.equal(p.stalls, 0, `peer ${i} (${p.className}) stalled ${p.stalls} times (${p.stalledMs} ms)`);
        assert.ok(p.peerLayerMessages.length > 0, `peer ${i} heard LAYER-CHANGE from its peers`);
      }
      assert.ok(mean('1 Mbit/s') < mean('10 Mbit/s'), `slow peers on fewer layers: mean layer ${mean('1 Mbit/s').toFixed(2)} at 1 Mbit/s, ${mean('10 Mbit/s').toFixed(2)} at 10 Mbit/s`);
      for (const p of out.peers.filter((x) => x.className === '1 Mbit/s')) {
        // Layers 0-2 need 1.4 Mbit/s: a 1 Mbit/s link never makes them its active set.
        assert.ok(p.switches.every((s) => s.to <= 1), `a 1 Mbit/s peer switched to ${p.switches.map((s) => s.to)}`);
      }
      assert.ok(out.peers.some((p) => p.switches.length > 0), 'layers changed');
      const counted = [...seenByTracker.values()].reduce((a, b) => a + b, 0);
      assert.ok(counted > 0 && [...seenByTracker.keys()].some((k) => k !== '0'), `the tracker saw the peers' layers: ${JSON.stringify(Object.fromEntries(seenByTracker))}`);
      assert.ok(out.bytesFromPeers > 0 && out.offload > 0.3, `peers carried ${(out.offload * 100).toFixed(0)}% of the bytes`);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
