/**
 * The flash crowd (issue 8): content published on our edge (Miniflare, R2), a crowd of our peers
 * on 127.0.0.1 joining within a few seconds, each with an upload cap like a home link's, each
 * playing the content as a stream at half its link rate while it downloads. Measured: the
 * offload ratio (bytes from peers / all bytes), the edge's egress in multiples of the content,
 * time to first piece and to complete, and stalls of playback. The reference, in the same run:
 * the same crowd fetching from the edge alone (a CDN without the swarm).
 *
 * The edge's per-address seed limit is raised to its total: on loopback every peer shares one
 * address, where in the field each viewer has its own.
 *
 * usage: node --import tsx bench/hybrid-crowd.ts [PEERS=20] [MIB=16] [UPLOAD_KIB_S=1024] [JOIN_S=5]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { publishPath } from '../peer-node/publish/publish-client.js';
import { parseTorrent } from '../shared/metainfo/index.js';
import { makeContent } from '../test/helpers/content.js';
import { type CrowdOutcome, peerDir, runCrowd } from '../test/helpers/crowd.js';
import { TEST_SECRETS, withEdge } from '../test/helpers/edge.js';
import { seeded } from '../test/helpers/seeded.js';
import { choosePieceLength } from '../shared/metainfo/build-torrent.js';

const PEERS = Number(process.argv[2] ?? 20);
const MIB = Number(process.argv[3] ?? 16);
const UPLOAD = Number(process.argv[4] ?? 1024) * 1024;
const JOIN_MS = Number(process.argv[5] ?? 5) * 1000;
/**
 * Pieces as `peer-node publish` picks them (16 KiB for 16 MiB: at most about 1,500 pieces);
 * PIECE_KIB=256 repeats the runs before 2026-11-26, which overrode it with 256 KiB.
 */
const PIECE = process.env.PIECE_KIB ? Number(process.env.PIECE_KIB) * 1024 : choosePieceLength(MIB * 1048576);
const PLAYBACK = process.env.NO_PLAYBACK ? undefined : UPLOAD / 2;
/**
 * JOIN_SEED=n: the join moments come from a seeded generator, so that two configurations can be
 * compared on the same arrivals (how many viewers arrive together moves the streaming egress
 * more than most changes do).
 */
const JOIN_SEED = process.env.JOIN_SEED ? Number(process.env.JOIN_SEED) : undefined;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const max = (xs: number[]) => Math.max(...xs);
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function row(label: string, o: CrowdOutcome): string {
  const p = o.peers;
  return (
    `| ${label} | ${(o.offload * 100).toFixed(1)}% | ${o.edgeMultiple.toFixed(2)}x | ${s(median(p.map((x) => x.firstPieceMs)))} | ` +
    `${PLAYBACK ? s(median(p.map((x) => x.startupMs ?? NaN))) : '-'} | ${s(median(p.map((x) => x.completeMs)))} / ${s(max(p.map((x) => x.completeMs)))} | ` +
    `${PLAYBACK ? `${p.reduce((n, x) => n + x.stalls, 0)} (${s(p.reduce((n, x) => n + x.stalledMs, 0))})` : '-'} |`
  );
}

await withEdge({ SEED_CLIENT_RATE: '209715200' }, async (edge) => {
  const root = await mkdtemp(path.join(tmpdir(), 'bench-crowd-'));
  try {
    const content = await makeContent(path.join(root, 'content'), [MIB * 1048576], { single: true, pieceLength: PIECE });
    const result = await publishPath({ path: path.join(content.dir, content.name), edge: new URL(edge.url), token: TEST_SECRETS.PUBLISH_TOKEN, pieceLength: PIECE });
    const torrent = await parseTorrent(result.torrent);
    const options = { peers: PEERS, uploadRate: UPLOAD, joinWithinMs: JOIN_MS, ...(PLAYBACK ? { playbackRate: PLAYBACK } : {}), ...(JOIN_SEED !== undefined ? { joinRandom: seeded(JOIN_SEED) } : {}) };
    console.error(`${PEERS} peers, ${MIB} MiB, upload ${UPLOAD / 1024} KiB/s each, joining within ${JOIN_MS / 1000} s${JOIN_SEED !== undefined ? ` (join seed ${JOIN_SEED})` : ''}, playback ${PLAYBACK ? `${PLAYBACK / 1024} KiB/s` : 'none'}`);
    const hybrid = await runCrowd(torrent, peerDir(path.join(root, 'hybrid')), options);
    console.error(`hybrid done in ${s(hybrid.wallMs)}`);
    // HYBRID_ONLY=1 (tuning runs): the reference is skipped and its row repeats the hybrid's.
    const edgeOnly = process.env.HYBRID_ONLY ? hybrid : await runCrowd(torrent, peerDir(path.join(root, 'edge-only')), { ...options, edgeOnly: true });
    console.error(`edge only done in ${s(edgeOnly.wallMs)}`);
    console.log(`${PEERS} peers, ${MIB} MiB content in ${PIECE / 1024} KiB pieces, each peer uploads at most ${UPLOAD / 1024} KiB/s and ${PLAYBACK ? `plays at ${PLAYBACK / 1024} KiB/s` : 'does not play it'}, joining within ${JOIN_MS / 1000} s`);
    console.log('| delivery | offload (peers / all bytes) | edge egress (x content) | first piece (median) | playback start (median) | complete (median / max) | stalls (count, total time) |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    console.log(row('hybrid: swarm first, edge fallback', hybrid));
    console.log(row('edge only (reference)', edgeOnly));
    const reasons = { deadline: 0, unavailable: 0, rate: 0 };
    for (const p of hybrid.peers) for (const k of Object.keys(reasons) as (keyof typeof reasons)[]) reasons[k] += p.stats.edgePieces[k];
    console.log(`hybrid: pieces asked of the edge because a deadline was near ${reasons.deadline}, no peer had them ${reasons.unavailable}, the swarm was too slow ${reasons.rate}; wasted ${(hybrid.peers.reduce((n, p) => n + p.stats.wasted, 0) / 1048576).toFixed(1)} MiB`);
    console.log(`edge egress saved: ${(edgeOnly.bytesFromEdge / Math.max(1, hybrid.bytesFromEdge)).toFixed(1)}x less than edge-only`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
process.exit(0);
