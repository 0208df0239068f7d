/**
 * Layered streaming from code: publish a (synthetic) layered asset with its layer info
 * (PUT-LAYER), fetch the layer info back from the tracker (GET-LAYER), and play it with the
 * LayeredPlayer, which chooses layers from the measured bandwidth and tells peers and the
 * tracker (LAYER-CHANGE). The LayeredServer would serve it to a media player as HLS.
 *
 *   npm start                                   # the edge, in another terminal
 *   PUBLISH_TOKEN=... node --import tsx docs/examples/layered-player.ts [EDGE-URL]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, type ClientOptions } from '../../peer-node/client.js';
import { publishLayeredAsset } from '../../peer-node/layers/publish-layers.js';
import { writeSyntheticLayeredAsset } from '../../peer-node/layers/synthetic-asset.js';
import { loadLayerInfo } from '../../peer-node/stream/layered/layer-info-source.js';
import { LayeredPlayer, type PlayedSegment } from '../../peer-node/stream/layered/layered-player.js';
import { parseTorrent } from '../../shared/metainfo/index.js';

/** Publishes a 4-segment, 2-layer synthetic asset on `edge` and plays it to the end; what was played. */
export async function playLayered(edge: URL, token: string, root: string, clientOptions: ClientOptions = {}): Promise<{ infoHash: string; played: PlayedSegment[]; segmentCount: number }> {
  // A 4-second asset: 2 cumulative layers (base 200 kbit/s, enhancement 400 kbit/s), 1 s segments.
  const assetDir = path.join(root, 'talk');
  await writeSyntheticLayeredAsset(assetDir, { bitrates: [200_000, 400_000], segmentDuration: 1, segmentCount: 4, mode: 'cumulative' });
  const published = await publishLayeredAsset({ dir: assetDir, edge, token });
  const torrent = await parseTorrent(published.torrent);

  // GET-LAYER from the torrent's HTTP tracker (`/layers/<info-hash>` beside `/announce`).
  const info = await loadLayerInfo(torrent);
  console.log(`${info.layers.length} ${info.mode} layers, ${info.segmentCount} segments of ${info.segmentDuration} s`);

  const client = new Client({ port: 0, dht: false, ...clientOptions });
  try {
    await client.listen();
    // Start with the base layer's file wanted; the player widens the wanted files as it moves up.
    const t = await client.add(torrent, { dir: path.join(root, 'play'), files: [info.layers[0]!.file] });
    const player = new LayeredPlayer(t, info);
    player.on('segment', (s: PlayedSegment) => console.log(`segment ${s.segment} played at layer ${s.layer}`));
    player.on('layer', (c: { from: number; to: number; reason: string }) => console.log(`layer ${c.from} -> ${c.to} (${c.reason})`));
    player.start();
    await player.finished();
    player.stop();
    return { infoHash: published.infoHash, played: player.played, segmentCount: info.segmentCount };
  } finally {
    await client.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const token = process.env.PUBLISH_TOKEN;
  if (!token) {
    console.error('usage: PUBLISH_TOKEN=... node --import tsx docs/examples/layered-player.ts [EDGE-URL]');
    process.exit(2);
  }
  const root = await mkdtemp(path.join(tmpdir(), 'example-layered-'));
  const { played, segmentCount } = await playLayered(new URL(process.argv[2] ?? 'http://127.0.0.1:8787'), token, root, { host: '127.0.0.1' });
  console.log(`played ${played.length}/${segmentCount} segments`);
  await rm(root, { recursive: true, force: true });
}
