import { decodeEdgeFetching, EDGE_FETCHING_EXTENSION, encodeEdgeFetching, MAX_FETCHING_PIECES } from '../../shared/wire/edge-fetching.js';
import type { PeerSession } from '../engine/peer-session.js';
import { type PeerExtension, sendExtended } from './extension.js';

/**
 * How long a peer's word that it is fetching a piece from the edge holds us back from fetching
 * it too: the fetch itself (a few hundred ms, measured at the 90th percentile under a crowd's
 * load), its hash check and write, and the HAVE that follows, with room to spare.
 */
export const EDGE_FETCHING_HOLD_MS = 2_000;
/** Pieces a peer may name per second (a burst of twice as many); the rest are ignored, counted. We send no faster. */
export const EDGE_FETCHING_RATE = 128;
/**
 * Holds one peer may have running at once: an honest peer fetches a few pieces per web seed at a
 * time, so a liar can spend no more than this many pieces' holds before its strikes stop it.
 */
export const EDGE_FETCHING_MAX_HOLDS_PER_PEER = 64;
/** Holds that ran out without the peer's HAVE before its notices are ignored for good. */
export const EDGE_FETCHING_STRIKES = 2;
/** Holds a piece may have, from different peers, over the torrent's life. */
const HOLDS_PER_PIECE = 2;

export interface EdgeFetchingHost {
  readonly pieceCount: number;
  /** Whether we still want the piece from somewhere (a notice for any other is ignored). */
  wants(i: number): boolean;
}

export type EdgeFetchingRefusal = 'rate-limited' | 'held-before' | 'not-fetching' | 'too-many' | 'distrusted';

interface Hold {
  until: number;
  from: PeerSession;
}

/** Named pieces a second, EDGE_FETCHING_RATE with a burst of twice that: one bucket per peer, one for what we send. */
interface Bucket {
  tokens: number;
  at: number;
}

function refill(bucket: Bucket, now: number): void {
  bucket.tokens = Math.min(2 * EDGE_FETCHING_RATE, bucket.tokens + ((now - bucket.at) / 1000) * EDGE_FETCHING_RATE);
  bucket.at = now;
}

interface PeerState extends Bucket {
  holds: number;
  strikes: number;
}

/**
 * EDGE-FETCHING (`pp_fetching`, shared/wire/edge-fetching.ts). We tell the peers that lack a
 * piece when we begin to fetch it from a web seed (collected over one scheduling pass: one
 * message per peer, no faster than peers take them); a peer's notice holds that piece back from
 * our own edge fetches until the peer's HAVE (the piece is then an ordinary piece a peer has) or
 * for at most the hold.
 *
 * A notice only ever delays the edge: a streaming deadline still goes to the edge in time (the
 * source policy treats a held piece as one a peer is sending: half the margin first). Against a
 * peer that names pieces it never delivers: a notice from a peer that has the piece, or is a seed
 * or upload-only, is no notice; a peer holds at most EDGE_FETCHING_MAX_HOLDS_PER_PEER pieces at
 * once, and after EDGE_FETCHING_STRIKES holds that ran out without its HAVE it is not heard
 * again; a piece is held at most twice over the torrent's life, so a liar that spends a piece's
 * first hold leaves the second to an honest peer; a peer's holds end when it leaves. Pieces past EDGE_FETCHING_RATE a second are
 * ignored and counted; a malformed message closes that connection.
 */
export class EdgeFetching implements PeerExtension {
  readonly name = EDGE_FETCHING_EXTENSION;
  readonly refused: Record<EdgeFetchingRefusal, number> = { 'rate-limited': 0, 'held-before': 0, 'not-fetching': 0, 'too-many': 0, distrusted: 0 };
  /** Pieces held on a peer's word, and messages we sent. */
  held = 0;
  told = 0;
  private readonly holdsByPiece = new Map<number, Hold>();
  /** How many holds each piece has had (allocated at the first notice). */
  private holdCounts?: Uint8Array;
  private readonly peers = new WeakMap<PeerSession, PeerState>();
  private pending: number[] = [];
  private readonly sending: Bucket = { tokens: 2 * EDGE_FETCHING_RATE, at: 0 };

  constructor(
    private readonly host: EdgeFetchingHost,
    private readonly now: () => number = Date.now,
    private readonly holdMs = EDGE_FETCHING_HOLD_MS,
  ) {}

  private state(s: PeerSession, now: number): PeerState {
    let st = this.peers.get(s);
    if (!st) this.peers.set(s, (st = { tokens: 2 * EDGE_FETCHING_RATE, at: now, holds: 0, strikes: 0 }));
    return st;
  }

  message(s: PeerSession, payload: Uint8Array): void {
    const pieces = decodeEdgeFetching(payload, this.host.pieceCount);
    const now = this.now();
    const st = this.state(s, now);
    refill(st, now);
    const counts = (this.holdCounts ??= new Uint8Array(this.host.pieceCount));
    for (const index of pieces) {
      if (st.tokens < 1) {
        this.refused['rate-limited']++;
        continue;
      }
      st.tokens--;
      if (st.strikes >= EDGE_FETCHING_STRIKES) {
        this.refused.distrusted++;
        continue;
      }
      // A seed, an upload-only peer or one that has the piece fetches nothing; a piece we have
      // or do not want needs no hold.
      if (s.isSeed || s.uploadOnly || s.bits.has(index) || !this.host.wants(index)) {
        this.refused['not-fetching']++;
        continue;
      }
      if (this.holds(index, now)) continue; // held already: one HAVE will do for both
      if (counts[index]! >= HOLDS_PER_PIECE) {
        this.refused['held-before']++;
        continue;
      }
      if (st.holds >= EDGE_FETCHING_MAX_HOLDS_PER_PEER) {
        this.refused['too-many']++;
        continue;
      }
      counts[index]!++;
      st.holds++;
      this.holdsByPiece.set(index, { until: now + this.holdMs, from: s });
      this.held++;
    }
  }

  /**
   * Whether a peer's edge fetch holds piece i back from ours now. A hold ends with the peer's
   * HAVE (or leaving), or runs out: then the peer earns a strike.
   */
  holds(i: number, now = this.now()): boolean {
    const hold = this.holdsByPiece.get(i);
    if (hold === undefined) return false;
    const delivered = hold.from.isSeed || hold.from.bits.has(i);
    if (!delivered && !hold.from.connection.closed && hold.until > now) return true;
    this.release(i, hold, !delivered && !hold.from.connection.closed);
    return false;
  }

  private release(i: number, hold: Hold, strike: boolean): void {
    this.holdsByPiece.delete(i);
    const st = this.peers.get(hold.from);
    if (!st) return;
    st.holds--;
    if (strike) st.strikes++;
  }

  /** Ends the holds that ran out or were delivered (holds() does it for pieces it is asked about). */
  tick(now: number): void {
    // Deleting the entry being visited is safe in a Map's iteration.
    for (const i of this.holdsByPiece.keys()) this.holds(i, now);
  }

  closed(s: PeerSession): void {
    for (const [i, hold] of this.holdsByPiece) if (hold.from === s) this.release(i, hold, false);
  }

  /** We are fetching piece i from a web seed: told to peers at the next `flush`. */
  fetching(i: number): void {
    this.pending.push(i);
  }

  /**
   * Sends what `fetching` collected, to each peer that offers the message and lacks the piece
   * (a peer that has it will not fetch it; a seed wants nothing), at most EDGE_FETCHING_RATE
   * pieces a second: more would be dropped by the receivers' limit anyway.
   */
  flush(sessions: Iterable<PeerSession>): void {
    if (this.pending.length === 0) return;
    const now = this.now();
    const bucket = this.sending;
    refill(bucket, now);
    const pieces = this.pending.slice(0, Math.floor(bucket.tokens));
    bucket.tokens -= pieces.length;
    this.pending = [];
    if (pieces.length === 0) return;
    for (const s of sessions) {
      if (s.connection.closed || s.isSeed || !s.extensions?.m.get(this.name)) continue;
      const wanted = pieces.filter((i) => !s.bits.has(i));
      for (let at = 0; at < wanted.length; at += MAX_FETCHING_PIECES) {
        if (sendExtended(s, this.name, encodeEdgeFetching(wanted.slice(at, at + MAX_FETCHING_PIECES)))) this.told++;
      }
    }
  }
}
