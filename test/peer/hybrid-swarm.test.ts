/**
 * Hybrid delivery scenarios: our edge on Miniflare (tracker and HTTP seed over R2) and crowds of
 * our peers on 127.0.0.1, each with an upload cap like a home link's. (a) One viewer and no swarm:
 * everything from the edge. (b) A flash crowd joining within seconds: everyone complete and
 * byte-identical, most bytes from peers. (c) Churn: peers leave mid-download and come back;
 * everyone completes, the edge covering what the swarm lost.
 *
 * The edge's per-address seed limit is raised to its total: on loopback every peer shares one
 * address, where in the field each viewer has its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { publishPath } from '../../peer-node/publish/publish-client.js';
import { parseTorrent } from '../../shared/metainfo/index.js';
import type { ParsedTorrent } from '../../shared/metainfo/torrent-file.js';
import { makeContent, sameFiles, type TestContent } from '../helpers/content.js';
import { peerDir, runCrowd } from '../helpers/crowd.js';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';

const EDGE_VARS = { SEED_CLIENT_RATE: '209715200' };
const MiB = 1048576;

/** Content of `size` bytes published on a fresh edge, and a folder for the crowd, both removed after. */
function withPublished(size: number, body: (root: string, content: TestContent, torrent: ParsedTorrent) => Promise<void>): Promise<void> {
  return withEdge(EDGE_VARS, async (edge) => {
    const root = await mkdtemp(path.join(tmpdir(), 'hybrid-'));
    try {
      const content = await makeContent(path.join(root, 'content'), [size], { single: true, pieceLength: 65_536 });
      const result = await publishPath({ path: path.join(content.dir, content.name), edge: new URL(edge.url), token: TEST_SECRETS.PUBLISH_TOKEN, pieceLength: 65_536 });
      await body(root, content, await parseTorrent(result.torrent));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
}

test('(a) a single viewer with no swarm gets everything from the edge', { timeout: 120_000 }, () =>
  withPublished(3 * MiB, async (root, content, torrent) => {
    const out = await runCrowd(torrent, peerDir(root), { peers: 1, uploadRate: MiB, joinWithinMs: 0 });
    assert.equal(out.bytesFromEdge, torrent.info.length);
    assert.equal(out.bytesFromPeers, 0);
    assert.deepEqual(await sameFiles(content, peerDir(root)(0)), [true]);
  }),
);

test('(b) a flash crowd of 12 peers joining within 3 s: all complete byte-identical, most bytes from peers', { timeout: 180_000 }, () =>
  withPublished(6 * MiB, async (root, content, torrent) => {
    const out = await runCrowd(torrent, peerDir(root), { peers: 12, uploadRate: MiB, joinWithinMs: 3000 });
    for (let i = 0; i < 12; i++) assert.deepEqual(await sameFiles(content, peerDir(root)(i)), [true], `peer ${i} byte-identical`);
    assert.ok(out.offload > 0.5, `most bytes from peers: offload ${(out.offload * 100).toFixed(1)}%, edge ${out.edgeMultiple.toFixed(2)}x the content`);
    assert.ok(out.bytesFromEdge >= torrent.info.length * 0.99, 'the edge, the only seed, sent every piece at least once');
  }),
);

test('(c) churn: peers leave mid-download and come back; everyone completes, the edge covers the gaps', { timeout: 180_000 }, () =>
  withPublished(6 * MiB, async (root, content, torrent) => {
    const out = await runCrowd(torrent, peerDir(root), {
      peers: 10,
      uploadRate: MiB,
      joinWithinMs: 2000,
      leavers: { count: 4, atShare: 0.4, rejoinAfterMs: 1500 },
    });
    for (let i = 0; i < 10; i++) assert.deepEqual(await sameFiles(content, peerDir(root)(i)), [true], `peer ${i} byte-identical`);
    assert.ok(out.peers.some((p) => p.left), 'some peers did leave mid-download');
    assert.ok(out.offload > 0.5, `most bytes still from peers: offload ${(out.offload * 100).toFixed(1)}%`);
  }),
);
