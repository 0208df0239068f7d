/**
 * The one-command demo, on a running local edge: a generated layered sample asset published
 * once (reused by later starts), a few viewers on home links of different speeds joining one
 * after another and playing it while they download, and every few seconds one line with where
 * they are, the layers they play and the offload (bytes from peers against bytes from the edge).
 */
import path from 'node:path';
import { bitrateAt } from '../../shared/layers/layer-info.js';
import { loadLayerInfo } from '../../peer-node/stream/layered/layer-info-source.js';
import { type AssetKind, ensureDemoAsset } from './demo-asset.js';
import { ensurePublished } from './demo-publish.js';
import { DemoViewer } from './demo-viewer.js';

export interface DemoOptions {
  edge: URL;
  token: string;
  /** The state folder: the demo keeps its asset and viewers in `<stateDir>/demo`. */
  stateDir: string;
  viewers: number;
  /** Seconds of clip. */
  seconds: number;
  kind?: AssetKind;
  /** Seconds between viewers joining. */
  joinGapS?: number;
  /** Seconds between status lines. */
  reportEveryS?: number;
  log(line: string): void;
}

export interface Demo {
  infoHash: string;
  dashboardUrl: string;
  streamUrl: string;
  stop(): Promise<void>;
}

const mbit = (bytesPerSecond: number) => `${((bytesPerSecond * 8) / 1e6).toFixed(1)} Mbit/s`;
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

export async function startDemo(o: DemoOptions): Promise<Demo> {
  const demoDir = path.join(o.stateDir, 'demo');
  o.log(`demo: preparing the sample asset in ${demoDir} ...`);
  const asset = await ensureDemoAsset(demoDir, { seconds: o.seconds, ...(o.kind ? { kind: o.kind } : {}) });
  const what = asset.kind === 'media' ? 'real H.264 renditions, playable' : 'synthetic bytes (install ffmpeg for playable media)';
  o.log(`demo: ${asset.made ? 'made' : 'reusing'} the layered sample asset ${asset.dir} (${what})`);
  const publication = await ensurePublished(o.edge, o.token, asset.dir);
  const { infoHash, metainfo } = publication;
  o.log(`demo: ${publication.published ? 'published' : 'already on the edge:'} ${infoHash}`);
  const info = await loadLayerInfo(metainfo);

  // Links from just above the base layer to well above the top one, the fastest first (its
  // stream is the one printed: it plays the best layer the asset has).
  const need = (k: number) => bitrateAt(info, k) / 8;
  const top = info.layers.length - 1;
  const links = [2.5 * need(top), 1.3 * need(0), 1.3 * need(Math.min(1, top)), 2.5 * need(top)];
  const viewers = Array.from({ length: o.viewers }, (_, k) => new DemoViewer({
    name: `viewer ${k + 1}`,
    downloadRate: Math.round(links[k % links.length]!),
    dir: path.join(demoDir, 'viewers', String(k + 1)),
    serve: k === 0,
  }));

  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const join = async (v: DemoViewer) => {
    if (stopped) return;
    await v.start(metainfo, info);
    o.log(`demo: ${v.options.name} joined on a ${mbit(v.options.downloadRate)} link`);
  };
  await join(viewers[0]!);
  const dashboardUrl = new URL(`/dashboard?swarm=${infoHash}`, o.edge).href;
  const streamUrl = viewers[0]!.streamUrl!;
  o.log(`  dashboard: ${dashboardUrl}`);
  o.log(`  stream:    ${streamUrl}  (viewer 1; open it in a player, e.g. ffplay or mpv)`);
  const gap = (o.joinGapS ?? 4) * 1000;
  viewers.slice(1).forEach((v, k) => later(gap * (k + 1), () => void join(v).catch((err: Error) => o.log(`demo: ${v.options.name} failed to start: ${err.message}`))));

  let summarised = false;
  const report = () => {
    const s = viewers.map((v) => v.status());
    const fromPeers = s.reduce((n, x) => n + x.fromPeers, 0);
    const fromEdge = s.reduce((n, x) => n + x.fromEdge, 0);
    const offload = fromPeers + fromEdge > 0 ? `${((100 * fromPeers) / (fromPeers + fromEdge)).toFixed(0)}%` : '-';
    const stalls = s.reduce((n, x) => n + x.stalls, 0);
    if (viewers.every((v) => v.finished)) {
      if (summarised) return;
      summarised = true;
      o.log(`demo: done: ${viewers.length} viewers played all ${info.segmentCount} segments, ${stalls} stalls; ${mib(fromPeers)} from peers, ${mib(fromEdge)} from the edge: offload ${offload}. Still seeding; Ctrl-C stops everything.`);
      return;
    }
    const where = s.map((x) => `${x.segment}/${info.segmentCount}@${x.layer ?? '-'}`).join(' ');
    o.log(`demo: segment@layer per viewer ${where}; stalls ${stalls}; ${mib(fromPeers)} from peers, ${mib(fromEdge)} from the edge: offload ${offload}`);
  };
  const every = setInterval(report, (o.reportEveryS ?? 5) * 1000);

  return {
    infoHash,
    dashboardUrl,
    streamUrl,
    async stop() {
      stopped = true;
      clearInterval(every);
      for (const t of timers) clearTimeout(t);
      await Promise.all(viewers.map((v) => v.stop()));
    },
  };
}
