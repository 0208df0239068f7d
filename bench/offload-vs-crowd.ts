/**
 * Offload against crowd size: the flash crowd of bench/hybrid-crowd.ts (content on our edge, our
 * peers on 127.0.0.1 with home-link upload caps, joining within a few seconds) at 2 to 20 peers,
 * downloading, then streaming at half the link rate. For each: the offload (bytes from peers /
 * all bytes) and the edge's egress in multiples of the content, beside the edge alone (a CDN
 * without the swarm: offload 0, egress = the crowd size, by definition). Writes
 * docs/plots/offload-vs-crowd.svg.
 *
 * usage: node --import tsx bench/offload-vs-crowd.ts [SIZES=2,5,10,20] [MIB=16] [UPLOAD_KIB_S=1024] [JOIN_S=5]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { publishPath } from '../peer-node/publish/publish-client.js';
import { parseTorrent } from '../shared/metainfo/index.js';
import { makeContent } from '../test/helpers/content.js';
import { type CrowdOutcome, peerDir, runCrowd } from '../test/helpers/crowd.js';
import { TEST_SECRETS, withEdge } from '../test/helpers/edge.js';
import { lineChartSvg, writePlot } from './svg-chart.js';
import { choosePieceLength } from '../shared/metainfo/build-torrent.js';

const SIZES = (process.argv[2] ?? '2,5,10,20').split(',').map(Number);
const MIB = Number(process.argv[3] ?? 16);
const UPLOAD = Number(process.argv[4] ?? 1024) * 1024;
const JOIN_MS = Number(process.argv[5] ?? 5) * 1000;
/**
 * Pieces as `peer-node publish` picks them (16 KiB for 16 MiB: at most about 1,500 pieces);
 * PIECE_KIB=256 repeats the runs before 2026-11-26, which overrode it with 256 KiB.
 */
const PIECE = process.env.PIECE_KIB ? Number(process.env.PIECE_KIB) * 1024 : choosePieceLength(MIB * 1048576);

const modes = [
  { name: 'download', playbackRate: undefined },
  { name: `streaming at ${UPLOAD / 2048} KiB/s`, playbackRate: UPLOAD / 2 },
] as const;

// The per-address seed limit raised to the total: on loopback every peer shares one address.
await withEdge({ SEED_CLIENT_RATE: '209715200' }, async (edge) => {
  const root = await mkdtemp(path.join(tmpdir(), 'bench-offload-'));
  try {
    const content = await makeContent(path.join(root, 'content'), [MIB * 1048576], { single: true, pieceLength: PIECE });
    const result = await publishPath({ path: path.join(content.dir, content.name), edge: new URL(edge.url), token: TEST_SECRETS.PUBLISH_TOKEN, pieceLength: PIECE });
    const torrent = await parseTorrent(result.torrent);
    const outcomes = new Map<string, CrowdOutcome>();
    for (const mode of modes) {
      for (const peers of SIZES) {
        const o = await runCrowd(torrent, peerDir(path.join(root, `${mode.name.split(' ')[0]}-${peers}`)), {
          peers,
          uploadRate: UPLOAD,
          joinWithinMs: JOIN_MS,
          ...(mode.playbackRate ? { playbackRate: mode.playbackRate } : {}),
        });
        const stalls = o.peers.reduce((n, p) => n + p.stalls, 0);
        console.error(`${mode.name}, ${peers} peers: offload ${(o.offload * 100).toFixed(1)}%, edge ${o.edgeMultiple.toFixed(2)}x, ${stalls} stalls, ${(o.wallMs / 1000).toFixed(1)} s`);
        outcomes.set(`${mode.name}/${peers}`, o);
      }
    }
    console.log(`\nflash crowds on ${MIB} MiB (256 KiB pieces), ${UPLOAD / 1024} KiB/s upload per peer, joining within ${JOIN_MS / 1000} s\n`);
    console.log('| peers | mode | offload (peers / all bytes) | edge egress (x content) | edge alone (x content) | edge saved | stalls |');
    console.log('|---:|---|---:|---:|---:|---:|---:|');
    for (const mode of modes) {
      for (const peers of SIZES) {
        const o = outcomes.get(`${mode.name}/${peers}`)!;
        const stalls = mode.playbackRate ? String(o.peers.reduce((n, p) => n + p.stalls, 0)) : '-';
        console.log(`| ${peers} | ${mode.name} | ${(o.offload * 100).toFixed(1)}% | ${o.edgeMultiple.toFixed(2)}x | ${peers}.00x | ${(peers / Math.max(o.edgeMultiple, 1e-9)).toFixed(1)}x less | ${stalls} |`);
      }
    }
    const file = await writePlot('offload-vs-crowd.svg', lineChartSvg({
      title: `Offload by crowd size (${MIB} MiB, ${UPLOAD / 1024} KiB/s up per peer)`,
      xLabel: 'peers in the flash crowd',
      yLabel: 'bytes from peers / all bytes (%)',
      yMax: 100,
      series: [
        ...modes.map((mode) => ({ name: `hybrid, ${mode.name}`, points: SIZES.map((n): [number, number] => [n, 100 * outcomes.get(`${mode.name}/${n}`)!.offload]) })),
        { name: 'edge alone (CDN)', points: SIZES.map((n): [number, number] => [n, 0]) },
      ],
    }));
    console.log(`\nchart: ${file}`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
process.exit(0);
