import type { PeerSession } from './peer-session.js';

/**
 * BEP 16 super-seeding for an initial seed: each peer is shown one piece at a time (a `have`
 * after an empty bitfield), the rarest it lacks and the one fewest other peers are being shown,
 * and only once that piece has been seen at another peer (its `have` from someone else) is it
 * shown the next. So the seed sends each piece about once and the peers spread it among
 * themselves. A peer alone with the seed cannot pass anything on, so there its own `have` is
 * enough, and a piece that has not spread `spreadWaitMs` after the peer announced it is given up
 * on (the others may not want it, or not reach that peer). Requests are served only for pieces
 * the peer was shown.
 */
export class SuperSeeder {
  private readonly current = new Map<PeerSession, number>();
  private readonly shown = new WeakMap<PeerSession, Set<number>>();
  private readonly showing: Uint32Array;
  /** When a peer announced the piece it was shown (then waiting for it to spread). */
  private readonly announcedAt = new Map<PeerSession, number>();

  constructor(
    private readonly pieceCount: number,
    /** How many connected peers have piece i. */
    private readonly availability: (i: number) => number,
    private readonly peers: () => Iterable<PeerSession>,
    private readonly random: () => number = Math.random,
    private readonly spreadWaitMs = 20_000,
  ) {
    this.showing = new Uint32Array(pieceCount);
  }

  /** Shows the peer its next piece (if any is left that it lacks). */
  offer(s: PeerSession): void {
    this.announcedAt.delete(s);
    const previous = this.current.get(s);
    if (previous !== undefined) this.showing[previous]!--;
    this.current.delete(s);
    let best: number | undefined;
    let bestScore = Infinity;
    const start = Math.floor(this.random() * this.pieceCount); // ties go to a random piece
    for (let k = 0; k < this.pieceCount; k++) {
      const i = (start + k) % this.pieceCount;
      if (s.hasPiece(i) || this.shown.get(s)?.has(i)) continue;
      const score = this.availability(i) * 1024 + this.showing[i]!;
      if (score < bestScore) {
        bestScore = score;
        best = i;
      }
    }
    if (best === undefined) return;
    this.current.set(s, best);
    this.showing[best]!++;
    let set = this.shown.get(s);
    if (!set) this.shown.set(s, (set = new Set()));
    set.add(best);
    s.send({ type: 'have', index: best });
  }

  /** A peer announced piece `index`: whoever was shown it and saw it spread gets the next. */
  peerHas(from: PeerSession, index: number): void {
    for (const [s, piece] of [...this.current]) {
      if (piece !== index) continue;
      if (s !== from) this.offer(s);
      else if (this.alone(s)) this.offer(s);
      else this.announcedAt.set(s, Date.now());
    }
  }

  /** The peer said what it has: a shown piece it already holds is replaced. */
  recheck(s: PeerSession): void {
    const piece = this.current.get(s);
    if (piece === undefined || s.hasPiece(piece)) this.offer(s);
  }

  /** Gives up waiting on pieces that did not spread in time. */
  tick(now: number): void {
    for (const [s, at] of [...this.announcedAt]) if (now - at > this.spreadWaitMs) this.offer(s);
  }

  mayServe(s: PeerSession, index: number): boolean {
    return this.shown.get(s)?.has(index) === true;
  }

  closed(s: PeerSession): void {
    const piece = this.current.get(s);
    if (piece !== undefined) this.showing[piece]!--;
    this.current.delete(s);
    this.announcedAt.delete(s);
    // Whoever is now alone with us and holds its piece needs no one else to see it.
    for (const [other] of [...this.announcedAt]) if (this.alone(other)) this.offer(other);
  }

  /** No other peer could take the piece from this one. */
  private alone(s: PeerSession): boolean {
    for (const p of this.peers()) if (p !== s && !p.connection.closed) return false;
    return true;
  }
}
