import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bitrateAt } from '../../shared/layers/layer-info.js';
import type { ParsedTorrent } from '../../shared/metainfo/torrent-file.js';
import type { Client } from '../client.js';
import type { SourcePolicyOptions } from '../engine/source-policy.js';
import { loadLayerInfo } from '../stream/layered/layer-info-source.js';
import { LAYERED_UPLOAD_SLOTS, LayeredPlayer } from '../stream/layered/layered-player.js';
import { LayeredServer } from '../stream/layered/layered-server.js';
import { CliError, UsageError } from './args.js';
import { oneLine } from './cli-errors.js';
import { PLAIN_EVERY_MS, transferLine } from './progress.js';

export interface LayeredStreamArgs {
  client: Client;
  metainfo: ParsedTorrent;
  peers: { host: string; port: number }[];
  out?: string;
  httpPort: number;
  layerInfo?: string;
  webSeeds: boolean;
  /** The source policy's thresholds from the command line (edge flags). */
  sourcePolicy: SourcePolicyOptions;
  fixedLayer?: number;
  json: boolean;
  /** No progress line on stderr. */
  quiet?: boolean;
}

const mbit = (bps: number | undefined) => (bps === undefined ? '?' : `${(bps / 1e6).toFixed(2)} Mbit/s`);

/**
 * `peer-node stream --layered`: GET-LAYER, then plays the layered asset while it downloads,
 * serving it over localhost HTTP (playlist URL first on stdout), one stdout line per segment
 * played with its layer, one per layer change (ours, and each peer's LAYER-CHANGE), and a summary
 * at the end of the asset. Exits 0 once the last segment has played and the media player has
 * stopped reading (2 s without a request). Progress on stderr, as the other transfers.
 */
export async function streamLayered(a: LayeredStreamArgs): Promise<number> {
  let info;
  try {
    info = await loadLayerInfo(a.metainfo, a.layerInfo);
  } catch (err) {
    const hint = a.layerInfo ? 'check --layer-info' : 'check that the edge is running (npm start) and that the asset was published with peer-node publish --layers, or give --layer-info FILE|URL';
    throw new CliError(`${oneLine((err as Error).message)}: ${hint}`);
  }
  if (a.fixedLayer !== undefined && a.fixedLayer >= info.layers.length) throw new UsageError(`--layer ${a.fixedLayer}: the asset has layers 0-${info.layers.length - 1}`);
  const dir = a.out ?? path.join(tmpdir(), 'peer-node-stream', a.metainfo.infoHashHex);
  await mkdir(dir, { recursive: true });
  // The starting layer's file; the player widens it as it moves up (setWantedFiles).
  const torrent = await a.client.add(a.metainfo, { dir, files: [info.layers[a.fixedLayer ?? 0]!.file], webSeeds: a.webSeeds, sourcePolicy: a.sourcePolicy, uploadSlots: LAYERED_UPLOAD_SLOTS });
  const player = new LayeredPlayer(torrent, info, a.fixedLayer !== undefined ? { fixedLayer: a.fixedLayer } : {});
  // On 127.0.0.1 whatever --host says: --host is where peers reach us, not the player.
  const server = new LayeredServer(player, { port: a.httpPort });
  const progress = transferLine(process.stderr, PLAIN_EVERY_MS, !a.json && !a.quiet);
  // Lines on stdout clear the live progress line first (both may be the same terminal).
  const say = (line: string) => {
    if (a.json) return;
    progress.interrupt();
    process.stdout.write(`${line}\n`);
  };
  let ticker: NodeJS.Timeout | undefined;
  try {
    const url = await server.listen();
    process.stdout.write(`${url}\n`);
    process.stderr.write(`peer-node stream: ${info.layers.length} ${info.mode} layers (${info.layers.map((l) => mbit(l.bitrate)).join(', ')}), ${info.segmentCount} segments of ${info.segmentDuration} s; data in ${dir}\n`);
    player.on('segment', (s) => say(`segment ${s.segment} layer ${s.layer}${s.stalledMs ? ` after a stall of ${(s.stalledMs / 1000).toFixed(2)} s` : ''}`));
    player.on('layer', (c) => say(`layer-change ${c.from} -> ${c.to} (${c.reason}; held ${Number.isFinite(c.leadS) ? `${c.leadS.toFixed(1)} s ahead` : 'to the end'}, estimate ${mbit(c.estimate)}, needs ${mbit(bitrateAt(info, c.to))}, buffer ${c.bufferS.toFixed(1)} s)`));
    player.on('stall', (n) => say(`stall at segment ${n}`));
    torrent.on('peerLayer', (s: { id: string }, layer: number) => say(`peer ${s.id} layer-change ${layer}`));
    torrent.addPeers(a.peers);
    player.start();
    const report = () => progress.update(torrent.complete ? 'complete' : 'streaming', torrent.statsSnapshot());
    report();
    ticker = setInterval(report, 1000);
    const stop = new Promise<'stopped'>((resolve) => {
      process.once('SIGINT', () => resolve('stopped'));
      process.once('SIGTERM', () => resolve('stopped'));
    });
    const outcome = await Promise.race([player.finished().then(() => 'played' as const), stop]);
    player.stop();
    // The media player may still be reading what has played.
    if (outcome === 'played') await Promise.race([server.idle(), stop]);
    clearInterval(ticker);
    progress.done();
    const s = torrent.statsSnapshot();
    const meanLayer = player.played.reduce((n, p) => n + p.layer, 0) / Math.max(1, player.played.length);
    const summary = {
      played: player.played.length,
      segments: info.segmentCount,
      meanLayer: Number(meanLayer.toFixed(3)),
      stalls: player.stalls,
      stalledMs: player.stalledMs,
      switches: player.switches.length,
      bytesFromPeers: s.bytesFromPeers,
      bytesFromWebSeeds: s.bytesFromWebSeeds,
      complete: outcome === 'played',
    };
    if (a.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else say(`played ${summary.played}/${summary.segments} segments, mean layer ${summary.meanLayer}, ${summary.stalls} stalls, ${summary.switches} layer changes; ${(s.bytesFromPeers / 1048576).toFixed(1)} MiB from peers, ${(s.bytesFromWebSeeds / 1048576).toFixed(1)} MiB from the edge`);
    return outcome === 'played' ? 0 : 1;
  } finally {
    clearInterval(ticker);
    player.stop();
    await server.close();
  }
}
