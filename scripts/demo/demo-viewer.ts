/**
 * One demo viewer: our peer with a home link's download cap, playing the layered asset while it
 * downloads (the layered player chooses the layer its bandwidth sustains), trading with the
 * other viewers through the edge's tracker and falling back to the edge's seed. It keeps
 * seeding what it holds after the clip ends, until the demo stops.
 */
import { rm } from 'node:fs/promises';
import type { LayerInfo } from '../../shared/layers/layer-info.js';
import type { ParsedTorrent } from '../../shared/metainfo/torrent-file.js';
import { Client } from '../../peer-node/client.js';
import type { Torrent } from '../../peer-node/engine/torrent.js';
import { LAYERED_UPLOAD_SLOTS, LayeredPlayer } from '../../peer-node/stream/layered/layered-player.js';
import { LayeredServer } from '../../peer-node/stream/layered/layered-server.js';

export interface ViewerOptions {
  name: string;
  /** Download cap, bytes a second (a home link). */
  downloadRate: number;
  /** Its own folder, emptied at start: a viewer begins with nothing. */
  dir: string;
  /** Serve the stream over localhost HTTP (HLS), for a media player. */
  serve: boolean;
}

export class DemoViewer {
  streamUrl?: string;
  private client?: Client;
  private torrent?: Torrent;
  player?: LayeredPlayer;
  private server?: LayeredServer;
  private starting?: Promise<void>;

  constructor(readonly options: ViewerOptions) {}

  start(metainfo: ParsedTorrent, info: LayerInfo): Promise<void> {
    this.starting = this.open(metainfo, info);
    return this.starting;
  }

  private async open(metainfo: ParsedTorrent, info: LayerInfo): Promise<void> {
    await rm(this.options.dir, { recursive: true, force: true });
    // No DHT: the demo's swarm is this machine, found through the edge's tracker.
    this.client = new Client({ port: 0, host: '127.0.0.1', dht: false, downloadRateLimit: this.options.downloadRate });
    await this.client.listen();
    this.torrent = await this.client.add(metainfo, { dir: this.options.dir, files: [info.layers[0]!.file], uploadSlots: LAYERED_UPLOAD_SLOTS });
    this.player = new LayeredPlayer(this.torrent, info);
    if (this.options.serve) {
      this.server = new LayeredServer(this.player);
      this.streamUrl = await this.server.listen();
    }
    this.player.start();
  }

  get finished(): boolean {
    const p = this.player;
    return p !== undefined && p.played.length === p.info.segmentCount;
  }

  status(): { segment: number; layer: number | undefined; stalls: number; fromPeers: number; fromEdge: number } {
    const played = this.player?.played ?? [];
    const s = this.torrent?.statsSnapshot();
    return {
      segment: played.length,
      layer: played.at(-1)?.layer,
      stalls: this.player?.stalls ?? 0,
      fromPeers: s?.bytesFromPeers ?? 0,
      fromEdge: s?.bytesFromWebSeeds ?? 0,
    };
  }

  async stop(): Promise<void> {
    // A viewer still joining is let finish first, so that nothing it opens is left behind.
    await this.starting?.catch(() => undefined);
    this.player?.stop();
    await this.server?.close();
    await this.client?.close();
  }
}
