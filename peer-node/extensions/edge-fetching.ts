import { decodeEdgeFetching, EDGE_FETCHING_EXTENSION, encodeEdgeFetching, MAX_FETCHING_PIECES } from '../../shared/wire/edge-fetching.js';
import type { PeerSession } from '../engine/peer-session.js';
import { type PeerExtension, sendExtended } from './extension.js';

/**
 * How long a peer's word that it is fetching a piece from the edge holds us back from fetching
 * it too: the fetch itself (a few hundred ms, measured at the 90th percentile under a crowd's
 * load), its hash check and write, and the HAVE that follows, with room to spare.
 */
export const EDGE_FETCHING_HOLD_MS = 2_000;
/** Pieces a peer may name per second (a burst of twice as many); the rest are ignored, counted. */
export const EDGE_FETCHING_RATE = 128;

export interface EdgeFetchingHost {
  readonly pieceCount: number;
}

export type EdgeFetchingRefusal = 'rate-limited' | 'held-once';

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * EDGE-FETCHING (`pp_fetching`, shared/wire/edge-fetching.ts). We tell the peers that lack a
 * piece when we begin to fetch it from a web seed (collected over one scheduling pass: one
 * message per peer); a peer's notice holds that piece back from our own edge fetches for
 * EDGE_FETCHING_HOLD_MS, until its HAVE makes the piece available anyway.
 *
 * A notice only ever delays the edge, and only once per piece: a peer that names pieces it never
 * delivers (a liar, or a fetch that failed) costs each piece one hold at most, never the piece;
 * a streaming deadline still goes to the edge in time (the source policy treats a held piece as
 * one a peer is sending: half the margin first). Pieces past EDGE_FETCHING_RATE a second are
 * ignored and counted; a malformed message closes that connection.
 */
export class EdgeFetching implements PeerExtension {
  readonly name = EDGE_FETCHING_EXTENSION;
  readonly refused: Record<EdgeFetchingRefusal, number> = { 'rate-limited': 0, 'held-once': 0 };
  /** Notices taken, and pieces we told peers about. */
  heard = 0;
  told = 0;
  /** Piece -> until when a peer's fetch holds it back (ms). */
  private readonly held = new Map<number, number>();
  /** Pieces a notice has held once already: never again (bounded with the torrent's pieces). */
  private readonly heldBefore = new Set<number>();
  private readonly buckets = new WeakMap<PeerSession, Bucket>();
  private pending: number[] = [];

  constructor(
    private readonly host: EdgeFetchingHost,
    private readonly now: () => number = Date.now,
  ) {}

  message(s: PeerSession, payload: Uint8Array): void {
    const pieces = decodeEdgeFetching(payload, this.host.pieceCount);
    const now = this.now();
    let bucket = this.buckets.get(s);
    if (!bucket) this.buckets.set(s, (bucket = { tokens: 2 * EDGE_FETCHING_RATE, at: now }));
    bucket.tokens = Math.min(2 * EDGE_FETCHING_RATE, bucket.tokens + ((now - bucket.at) / 1000) * EDGE_FETCHING_RATE);
    bucket.at = now;
    for (const index of pieces) {
      if (bucket.tokens < 1) {
        this.refused['rate-limited']++;
        continue;
      }
      bucket.tokens--;
      if (this.heldBefore.has(index)) {
        this.refused['held-once']++;
        continue;
      }
      this.heldBefore.add(index);
      this.held.set(index, now + EDGE_FETCHING_HOLD_MS);
      this.heard++;
    }
  }

  /** Whether a peer's edge fetch holds piece i back from ours now. */
  holds(i: number, now = this.now()): boolean {
    const until = this.held.get(i);
    if (until === undefined) return false;
    if (until > now) return true;
    this.held.delete(i);
    return false;
  }

  /** We are fetching piece i from a web seed: told to peers at the next `flush`. */
  fetching(i: number): void {
    this.pending.push(i);
  }

  /**
   * Sends what `fetching` collected, to each peer that offers the message and lacks the piece
   * (a peer that has it will not fetch it; a seed wants nothing).
   */
  flush(sessions: Iterable<PeerSession>): void {
    if (this.pending.length === 0) return;
    const pieces = this.pending;
    this.pending = [];
    for (const s of sessions) {
      if (s.connection.closed || s.isSeed || !s.extensions?.m.get(this.name)) continue;
      const wanted = pieces.filter((i) => !s.bits.has(i));
      for (let at = 0; at < wanted.length; at += MAX_FETCHING_PIECES) {
        if (sendExtended(s, this.name, encodeEdgeFetching(wanted.slice(at, at + MAX_FETCHING_PIECES)))) this.told++;
      }
    }
  }
}
