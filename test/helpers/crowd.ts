/**
 * A crowd of our peers on 127.0.0.1 around content published on our edge: each peer a Client
 * with its own upload cap (a home link's upstream), joining at its own moment, optionally
 * leaving and coming back, optionally playing the content as a stream at a given rate. Used by
 * the swarm scenario tests and by bench/hybrid-crowd.ts.
 */
import { once } from 'node:events';
import path from 'node:path';
import { Client } from '../../peer-node/client.js';
import type { Torrent, TorrentOptions, TorrentStats } from '../../peer-node/engine/torrent.js';
import type { ParsedTorrent } from '../../shared/metainfo/torrent-file.js';
import { SOURCE_POLICY_DEFAULTS } from '../../peer-node/engine/source-policy.js';

export interface CrowdOptions {
  peers: number;
  /** Each peer's upload cap, bytes a second. */
  uploadRate: number;
  /** Peers join at random moments within this window (ms). */
  joinWithinMs: number;
  /** Draws the join moments (0-1 each); Math.random by default. A seeded one repeats a crowd's arrivals. */
  joinRandom?: () => number;
  /** Peers that leave once they hold this share (0-1) and come back `rejoinAfterMs` later. */
  leavers?: { count: number; atShare: number; rejoinAfterMs: number };
  /** Playback at this rate (bytes a second) from the start, counting stalls; none by default. */
  playbackRate?: number;
  /** Edge only: no tracker, no peers (the baseline a CDN alone gives). */
  edgeOnly?: boolean;
  torrentOptions?: Partial<TorrentOptions>;
}

export interface PeerOutcome {
  stats: TorrentStats;
  /** From joining to the first verified piece, and to complete (ms). */
  firstPieceMs: number;
  completeMs: number;
  stalls: number;
  stalledMs: number;
  /** Playback could start (piece 0 verified) after this long (ms). */
  startupMs?: number;
  left: boolean;
}

export interface CrowdOutcome {
  peers: PeerOutcome[];
  contentBytes: number;
  bytesFromPeers: number;
  bytesFromEdge: number;
  /** Bytes from peers / all bytes received. */
  offload: number;
  /** Edge egress in multiples of the content size. */
  edgeMultiple: number;
  wallMs: number;
}

interface Running {
  client: Client;
  torrent: Torrent;
  joinedAt: number;
  firstPieceAt?: number;
  doneAt?: number;
  stalls: number;
  stalledMs: number;
  startupMs?: number;
  /** Counters of a first session before the peer left, added to the second. */
  carried: { fromPeers: number; fromEdge: number };
  left: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the crowd until every peer is complete; `dirOf(i)` is where peer i keeps its data. */
export async function runCrowd(torrent: ParsedTorrent, dirOf: (i: number) => string, options: CrowdOptions): Promise<CrowdOutcome> {
  const started = performance.now();
  const running: Running[] = [];
  const base: Partial<TorrentOptions> = options.edgeOnly ? { trackers: false, pex: false } : {};
  const start = async (i: number, carried = { fromPeers: 0, fromEdge: 0 }, previous?: Running): Promise<Running> => {
    const client = new Client({ port: 0, host: '127.0.0.1', dht: false, uploadRateLimit: options.uploadRate });
    await client.listen();
    const t = await client.add(torrent, { dir: dirOf(i), ...base, ...options.torrentOptions });
    const r: Running = previous ?? { client, torrent: t, joinedAt: performance.now(), stalls: 0, stalledMs: 0, carried, left: false };
    r.client = client;
    r.torrent = t;
    r.carried = carried;
    if (r.firstPieceAt === undefined) t.once('piece', () => (r.firstPieceAt ??= performance.now()));
    return r;
  };
  const done = (r: Running) => (r.torrent.complete ? Promise.resolve() : once(r.torrent, 'done').then(() => undefined));

  const joins = Array.from({ length: options.peers }, (_, i) => (i === 0 ? 0 : (options.joinRandom ?? Math.random)() * options.joinWithinMs)).sort((a, b) => a - b);
  const lives = joins.map(async (delay, i) => {
    await sleep(delay);
    let r = await start(i);
    running[i] = r;
    const startup = options.torrentOptions?.sourcePolicy?.startupMs ?? SOURCE_POLICY_DEFAULTS.startupMs;
    const play = options.playbackRate ? playback(r, options.playbackRate, startup) : undefined;
    const leaver = options.leavers && i > 0 && i <= options.leavers.count ? options.leavers : undefined;
    if (leaver) {
      // Leave mid-download, without a word to anyone but the tracker, then come back.
      await Promise.race([done(r), waitShare(r.torrent, leaver.atShare)]);
      if (!r.torrent.complete) {
        const s = r.torrent.statsSnapshot();
        r.left = true;
        await r.client.close();
        await sleep(leaver.rejoinAfterMs);
        r = await start(i, { fromPeers: s.bytesFromPeers, fromEdge: s.bytesFromWebSeeds }, r);
      }
    }
    await done(r);
    r.doneAt = performance.now();
    await play;
  });
  // CROWD_DEBUG=1: every 10 s, what the unfinished peers are doing.
  const debug = process.env.CROWD_DEBUG
    ? setInterval(() => {
        for (const [i, r] of running.entries()) {
          if (!r || r.torrent.complete) continue;
          const st = r.torrent.statsSnapshot();
          const sessions = [...r.torrent.sessions.values()];
          console.error(`peer ${i}: ${r.torrent.have.count}/${r.torrent.geometry.pieceCount} pieces, ${sessions.length} peers (${sessions.filter((x) => !x.peerChoking).length} unchoking us, ${sessions.reduce((n, x) => n + x.outstanding.size, 0)} requests out), edge ${JSON.stringify(st.webSeeds.map((w) => [w.bytes, w.failures, w.lastError]))}`);
        }
      }, 10_000)
    : undefined;
  await Promise.all(lives);
  clearInterval(debug);
  const outcomes = running.map((r): PeerOutcome => {
    const s = r.torrent.statsSnapshot();
    const stats = { ...s, bytesFromPeers: s.bytesFromPeers + r.carried.fromPeers, bytesFromWebSeeds: s.bytesFromWebSeeds + r.carried.fromEdge };
    return {
      stats,
      firstPieceMs: (r.firstPieceAt ?? r.doneAt!) - r.joinedAt,
      completeMs: r.doneAt! - r.joinedAt,
      stalls: r.stalls,
      stalledMs: r.stalledMs,
      ...(r.startupMs !== undefined ? { startupMs: r.startupMs } : {}),
      left: r.left,
    };
  });
  const wallMs = performance.now() - started;
  await Promise.all(running.map((r) => r.client.close()));
  const bytesFromPeers = outcomes.reduce((n, o) => n + o.stats.bytesFromPeers, 0);
  const bytesFromEdge = outcomes.reduce((n, o) => n + o.stats.bytesFromWebSeeds, 0);
  return {
    peers: outcomes,
    contentBytes: torrent.info.length,
    bytesFromPeers,
    bytesFromEdge,
    offload: bytesFromPeers / Math.max(1, bytesFromPeers + bytesFromEdge),
    edgeMultiple: bytesFromEdge / torrent.info.length,
    wallMs,
  };
}

function waitShare(t: Torrent, share: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (t.have.count >= share * t.geometry.pieceCount) {
        t.off('piece', check);
        resolve();
      }
    };
    t.on('piece', check);
    check();
  });
}

/**
 * A player: buffers for `startupMs` (as the torrent assumes), starts once the first piece is in
 * too, then consumes `rate` bytes a second in order;
 * reaching a piece not yet verified is a stall (counted once, timed until it arrives). The
 * torrent is told the playback position, so the pieces ahead get deadlines and the edge steps
 * in for late ones.
 */
async function playback(r: Running, rate: number, startupMs: number): Promise<void> {
  const tick = 50;
  const t0 = performance.now();
  r.torrent.setPlayback(0, rate);
  await sleep(startupMs);
  let t = r.torrent;
  let position = 0;
  const total = t.geometry.totalLength;
  const pieceAt = (offset: number) => Math.floor(offset / t.geometry.pieceLength);
  let stalledSince: number | undefined;
  let lastPiece = -1;
  while (position < total) {
    t = r.torrent; // a peer that left and came back has a new Torrent
    const piece = pieceAt(position);
    if (piece !== lastPiece && lastPiece >= 0) t.setPlayback(position, rate);
    lastPiece = piece;
    if (!t.have.has(piece)) {
      if (r.startupMs !== undefined && stalledSince === undefined) {
        stalledSince = performance.now();
        r.stalls++;
      }
      await sleep(tick);
      continue;
    }
    if (r.startupMs === undefined) r.startupMs = performance.now() - t0;
    if (stalledSince !== undefined) {
      r.stalledMs += performance.now() - stalledSince;
      stalledSince = undefined;
    }
    // Play up to the end of this piece, at the playback rate.
    const until = Math.min(total, (piece + 1) * t.geometry.pieceLength);
    const ms = ((until - position) / rate) * 1000;
    await sleep(ms);
    position = until;
  }
}

export function peerDir(root: string): (i: number) => string {
  return (i) => path.join(root, `peer-${i}`);
}
