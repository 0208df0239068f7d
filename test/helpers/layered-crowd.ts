/**
 * A crowd of our peers playing a layered asset from our edge: each peer a Client on 127.0.0.1
 * with the caps of its bandwidth class (a home link: download and upload), joining at its own
 * moment, running a LayeredPlayer from the start to the end of the asset. Used by the layered
 * swarm scenario test and bench/layered-crowd.ts.
 */
import { Client } from '../../peer-node/client.js';
import type { Torrent } from '../../peer-node/engine/torrent.js';
import { LAYERED_UPLOAD_SLOTS, LayeredPlayer, type LayeredPlayerOptions, type LayerSwitch, type PlayedSegment } from '../../peer-node/stream/layered/layered-player.js';
import type { LayerInfo } from '../../shared/layers/layer-info.js';
import type { ParsedTorrent } from '../../shared/metainfo/torrent-file.js';

export interface BandwidthClass {
  name: string;
  /** Bytes a second. */
  download: number;
  upload: number;
}

export interface LayeredCrowdOptions {
  /** One peer per entry, in joining order. */
  classes: BandwidthClass[];
  joinWithinMs: number;
  player?: LayeredPlayerOptions;
}

export interface LayeredPeerOutcome {
  className: string;
  played: PlayedSegment[];
  stalls: number;
  stalledMs: number;
  switches: LayerSwitch[];
  meanLayer: number;
  bytesFromPeers: number;
  bytesFromEdge: number;
  /** Pieces asked of the edge, by the source policy's reason. */
  edgePieces: Record<string, number>;
  /** LAYER-CHANGE messages received from peers: [peer id, layer]. */
  peerLayerMessages: [string, number][];
  /** Peers told of our layer changes, summed over our changes. */
  peersTold: number;
}

export interface LayeredCrowdOutcome {
  peers: LayeredPeerOutcome[];
  bytesFromPeers: number;
  bytesFromEdge: number;
  /** Share of all bytes received that came from peers. */
  offload: number;
  wallMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runLayeredCrowd(torrent: ParsedTorrent, info: LayerInfo, dirOf: (i: number) => string, options: LayeredCrowdOptions): Promise<LayeredCrowdOutcome> {
  const started = performance.now();
  const clients: Client[] = [];
  const lives = options.classes.map(async (c, i): Promise<LayeredPeerOutcome> => {
    await sleep((options.joinWithinMs * i) / Math.max(1, options.classes.length - 1));
    const client = new Client({ port: 0, host: '127.0.0.1', dht: false, uploadRateLimit: c.upload, downloadRateLimit: c.download });
    clients.push(client);
    await client.listen();
    const fixed = options.player?.fixedLayer;
    const t: Torrent = await client.add(torrent, { dir: dirOf(i), files: [info.layers[fixed ?? 0]!.file], uploadSlots: LAYERED_UPLOAD_SLOTS });
    const peerLayerMessages: [string, number][] = [];
    t.on('peerLayer', (s: { id: string }, layer: number) => peerLayerMessages.push([s.id, layer]));
    const player = new LayeredPlayer(t, info, options.player ?? {});
    let peersTold = 0;
    player.on('announced', (_layer: number, told: number) => (peersTold += told));
    player.start();
    await player.finished();
    const s = t.statsSnapshot();
    return {
      className: c.name,
      played: player.played,
      stalls: player.stalls,
      stalledMs: player.stalledMs,
      switches: player.switches,
      meanLayer: player.played.reduce((n, p) => n + p.layer, 0) / Math.max(1, player.played.length),
      bytesFromPeers: s.bytesFromPeers,
      bytesFromEdge: s.bytesFromWebSeeds,
      edgePieces: { ...s.edgePieces },
      peerLayerMessages,
      peersTold,
    };
  });
  try {
    const peers = await Promise.all(lives);
    const bytesFromPeers = peers.reduce((n, p) => n + p.bytesFromPeers, 0);
    const bytesFromEdge = peers.reduce((n, p) => n + p.bytesFromEdge, 0);
    return { peers, bytesFromPeers, bytesFromEdge, offload: bytesFromPeers / Math.max(1, bytesFromPeers + bytesFromEdge), wallMs: performance.now() - started };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

/** Mbit/s classes as home links: download as named, upload half of it. */
export function homeLink(mbit: number): BandwidthClass {
  return { name: `${mbit} Mbit/s`, download: (mbit * 1e6) / 8, upload: (mbit * 1e6) / 8 / 2 };
}
