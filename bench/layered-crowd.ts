/**
 * Layered streaming in a swarm, measured: our edge on Miniflare (tracker, layer info, HTTP seed)
 * and a crowd of our peers on 127.0.0.1 in 1, 3 and 10 Mbit/s classes (download as named, upload
 * half of it) playing a 4-layer cumulative asset from start to end. Three runs of the same crowd:
 * adaptive layers (the product), base layer only, and all layers without adaptation.
 *
 *   node --import tsx bench/layered-crowd.ts [PEERS_PER_CLASS] [SECONDS] [JOIN_S]
 *
 * Prints, per run and class: stalls (count, total time), mean layer played, layer switches per
 * minute; per run: offload (bytes from peers / all bytes) and edge egress (x the bytes of the
 * whole asset, all layers). Writes docs/plots/layer-vs-bandwidth.svg: mean layer played by class
 * for each run, beside the highest layer each class's link carries (the physical limit).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { publishLayeredAsset } from '../peer-node/layers/publish-layers.js';
import { writeSyntheticLayeredAsset } from '../peer-node/layers/synthetic-asset.js';
import { parseTorrent } from '../shared/metainfo/index.js';
import { TEST_SECRETS, withEdge } from '../test/helpers/edge.js';
import { homeLink, type LayeredCrowdOutcome, runLayeredCrowd } from '../test/helpers/layered-crowd.js';
import { barChartSvg, writePlot } from './svg-chart.js';

const PER_CLASS = Number(process.argv[2] ?? 4);
const SECONDS = Number(process.argv[3] ?? 60);
const JOIN_MS = Number(process.argv[4] ?? 3) * 1000;
const BITRATES = [200e3, 400e3, 800e3, 1600e3];
const MBITS = [1, 3, 10];

const meanLayer = (o: LayeredCrowdOutcome, mbit: number) => {
  const ps = o.peers.filter((p) => p.className === `${mbit} Mbit/s`);
  return ps.reduce((n, p) => n + p.meanLayer, 0) / ps.length;
};

/** The highest cumulative layer whose layers together fit in the link. */
const highestLayerCarried = (mbit: number) => BITRATES.reduce((best, _, k) => (BITRATES.slice(0, k + 1).reduce((a, b) => a + b) <= mbit * 1e6 ? k : best), -1);

function rows(label: string, o: LayeredCrowdOutcome, assetBytes: number): string[] {
  const out: string[] = [];
  for (const mbit of MBITS) {
    const ps = o.peers.filter((p) => p.className === `${mbit} Mbit/s`);
    const stalls = ps.reduce((n, p) => n + p.stalls, 0);
    const stalledS = ps.reduce((n, p) => n + p.stalledMs, 0) / 1000;
    const mean = meanLayer(o, mbit);
    const perMinute = ps.reduce((n, p) => n + p.switches.length, 0) / ps.length / (SECONDS / 60);
    out.push(`| ${label} | ${mbit} Mbit/s | ${stalls} (${stalledS.toFixed(1)} s) | ${mean.toFixed(2)} | ${perMinute.toFixed(1)} |`);
  }
  const reasons: Record<string, number> = {};
  for (const p of o.peers) for (const [k, n] of Object.entries(p.edgePieces)) reasons[k] = (reasons[k] ?? 0) + n;
  console.error(`${label}: edge pieces by reason ${JSON.stringify(reasons)}`);
  out.push(`| ${label} | all | offload **${(o.offload * 100).toFixed(1)}%** | edge egress ${(o.bytesFromEdge / 1e6).toFixed(1)} MB = **${(o.bytesFromEdge / assetBytes).toFixed(2)}x** the asset | edge share ${((1 - o.offload) * 100).toFixed(1)}% |`);
  return out;
}

await withEdge({ SEED_CLIENT_RATE: '209715200' }, async (edge) => {
  const root = await mkdtemp(path.join(tmpdir(), 'bench-layered-'));
  try {
    const dir = path.join(root, 'asset');
    await writeSyntheticLayeredAsset(dir, { bitrates: BITRATES, segmentDuration: 1, segmentCount: SECONDS, mode: 'cumulative' });
    const published = await publishLayeredAsset({ dir, edge: new URL(edge.url), token: TEST_SECRETS.PUBLISH_TOKEN, pieceLength: 32 * 1024 });
    const torrent = await parseTorrent(published.torrent);
    const assetBytes = torrent.info.length;
    const classes = Array.from({ length: PER_CLASS }, () => MBITS.map(homeLink)).flat();
    const runs: [string, LayeredCrowdOutcome][] = [];
    // ONLY_ADAPTIVE=1 (tuning runs): the baselines are skipped.
    const all = [['adaptive layers', undefined], ['base layer only', 0], ['all layers, no adaptation', BITRATES.length - 1]] as const;
    for (const [label, fixedLayer] of process.env.ONLY_ADAPTIVE ? all.slice(0, 1) : all) {
      const o = await runLayeredCrowd(torrent, published.layerInfo, (i) => path.join(root, label.replace(/\W+/g, '-'), `peer${i}`), { classes, joinWithinMs: JOIN_MS, ...(fixedLayer !== undefined ? { player: { fixedLayer } } : {}) });
      console.error(`${label}: done in ${(o.wallMs / 1000).toFixed(1)} s`);
      runs.push([label, o]);
    }
    console.log(`${classes.length} peers (${PER_CLASS} per class), ${SECONDS} s asset of 4 cumulative layers (${BITRATES.map((b) => b / 1e3).join('/')} kbit/s; all layers ${(BITRATES.reduce((a, b) => a + b) / 1e6).toFixed(1)} Mbit/s, ${(assetBytes / 1e6).toFixed(1)} MB), joining within ${JOIN_MS / 1000} s`);
    console.log('| run | class | stalls (count, time) | mean layer played (0-3) | layer switches / min |');
    console.log('|---|---|---:|---:|---:|');
    for (const [label, o] of runs) for (const line of rows(label, o, assetBytes)) console.log(line);
    const chart = await writePlot('layer-vs-bandwidth.svg', barChartSvg({
      title: `Mean layer played by bandwidth class (${classes.length} peers, ${SECONDS} s asset)`,
      yLabel: 'mean layer played (0-3)',
      categories: MBITS.map((m) => `${m} Mbit/s down`),
      series: [
        { name: 'the link carries (limit)', values: MBITS.map(highestLayerCarried) },
        ...runs.map(([label, o]) => ({ name: label, values: MBITS.map((m) => meanLayer(o, m)) })),
      ],
      yMax: BITRATES.length - 1,
    }));
    console.log(`\nchart: ${chart}`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
process.exit(0);
