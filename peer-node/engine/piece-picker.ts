import { BLOCK_LENGTH, type TorrentGeometry } from '../../shared/metainfo/geometry.js';
import type { BlockRef } from '../../shared/wire/messages.js';

/**
 * Which blocks to ask a peer for next.
 *
 * - Rarest first: among pieces the peer has and we want, the ones fewest connected peers have,
 *   ties broken at random so that peers of one swarm spread over different pieces.
 * - Random first pieces: until we hold `randomFirst` pieces, any wanted piece the peer has, at
 *   random: a newcomer needs something to trade soon, and the rarest piece is often the slowest.
 * - Pieces already started are finished before new ones are opened (fewer half pieces, and
 *   a verified piece can be shared sooner).
 * - Endgame: once every missing block is requested, blocks still in flight may be asked again
 *   from another peer (at most `endgameDuplicates` holders per block); the engine cancels the
 *   others when one arrives.
 * - Streaming focus: pieces near the playback position (`setFocus`) come before everything
 *   else, the most urgent in order, the rest of the window rarest first (begun pieces first
 *   among equals); the first `urgent` of them may be asked of two peers at once (a late
 *   piece stalls the player; a duplicate costs only bandwidth).
 * - Web seeds take whole pieces (`reservePiece`): their free blocks count as requested, so peers
 *   are not asked for them except as endgame duplicates.
 * Availability counts come from bitfields, have, have-all and peers leaving.
 */
export interface PickerOptions {
  randomFirst?: number;
  endgameDuplicates?: number;
  random?: () => number;
}

interface Partial {
  /** Per block: how many requests are out for it (0 = free), or -1 when received. */
  blocks: Int8Array;
  received: number;
}

export class PiecePicker {
  readonly availability: Uint32Array;
  private have: Uint8Array;
  private wanted: Uint8Array;
  private haveCount = 0;
  private partial = new Map<number, Partial>();
  private readonly random: () => number;
  private readonly randomFirst: number;
  private readonly endgameDuplicates: number;
  /** Peers that have everything (have-all / full bitfield) are counted here, not per piece. */
  private seeds = 0;
  private focus: number[] = [];
  /** Drawn once: orders a streaming window's equally rare pieces (tieKey). */
  private readonly tieSalt: number;
  private urgent = 0;
  private focusOnly = false;

  constructor(
    readonly geometry: TorrentGeometry,
    options: PickerOptions = {},
  ) {
    const n = geometry.pieceCount;
    this.availability = new Uint32Array(n);
    this.have = new Uint8Array(n);
    this.wanted = new Uint8Array(n).fill(1);
    this.random = options.random ?? Math.random;
    this.randomFirst = options.randomFirst ?? 4;
    this.endgameDuplicates = options.endgameDuplicates ?? 2;
    this.tieSalt = Math.floor(this.random() * 2 ** 32);
  }

  get complete(): boolean {
    for (let i = 0; i < this.have.length; i++) if (this.wanted[i] && !this.have[i]) return false;
    return true;
  }

  hasPiece(i: number): boolean {
    return this.have[i] === 1;
  }

  setWanted(i: number, wanted: boolean): void {
    this.wanted[i] = wanted ? 1 : 0;
  }

  markHave(i: number): void {
    if (!this.have[i]) {
      this.have[i] = 1;
      this.haveCount++;
    }
    this.partial.delete(i);
  }

  /** A piece failed its hash: everything about it starts again. */
  resetPiece(i: number): void {
    this.partial.delete(i);
  }

  peerHasAll(delta: 1 | -1): void {
    this.seeds += delta;
  }

  peerHas(i: number, delta: 1 | -1): void {
    this.availability[i] = Math.max(0, this.availability[i]! + delta);
  }

  rarity(i: number): number {
    return this.availability[i]! + this.seeds;
  }

  /**
   * Pieces to fetch before all others: the first `inOrder` in this order (the first `urgent` of
   * them may be duplicated), the rest rarest first, begun pieces first among equals, then by a
   * key per piece fixed for this picker (tieKey). Viewers of one crowd who took a whole window
   * in order asked its one holder for the same pieces and had nothing to trade; taken by
   * rarity, they ask for different ones and pass them on.
   * `only`: nothing but these (a layered stream fetches its window and no more).
   */
  setFocus(pieces: number[], urgent = 2, only = false, inOrder = pieces.length): void {
    if (inOrder < pieces.length) {
      // Rarest first; among equals, pieces begun first (a piece is passed on only once whole),
      // then this picker's own fixed key: the order holds from one refresh to the next, and
      // another viewer's differs. "Begun" counts pieces only asked for, or whose requests were
      // given back: a given-back piece asked again soon measured better than one that waits its
      // turn (1.34x against 1.42x mean egress over seeds 1-10, docs/BENCHMARKS.md).
      const started = (i: number) => (this.partial.has(i) ? 0 : 1);
      const rest = pieces.slice(inOrder).sort((a, b) => this.rarity(a) - this.rarity(b) || started(a) - started(b) || this.tieKey(a) - this.tieKey(b));
      pieces = [...pieces.slice(0, inOrder), ...rest];
    }
    this.focus = pieces;
    // Only pieces in order may be asked of two peers at once.
    this.urgent = Math.min(urgent, inOrder);
    this.focusOnly = only;
  }

  /** Has any block of piece i been asked for or received? */
  isStarted(i: number): boolean {
    return this.partial.has(i);
  }

  /** Is some block of piece i neither received nor asked of anyone? (Untouched pieces: all are.) */
  hasFreeBlocks(i: number): boolean {
    if (this.have[i]) return false;
    const p = this.partial.get(i);
    return !p || p.blocks.includes(0);
  }

  /** Marks every free block of piece i requested (a web seed fetches the piece); returns them. */
  reservePiece(i: number): BlockRef[] {
    const out: BlockRef[] = [];
    this.takeBlocks(i, out, Infinity, 0, () => false);
    return out;
  }

  /** Up to `count` blocks for a peer whose pieces are `peerHas`, excluding blocks it already has in flight (`mine`). */
  pick(peerHas: (i: number) => boolean, count: number, mine: (b: BlockRef) => boolean = () => false): BlockRef[] {
    const out: BlockRef[] = [];
    // 0. The streaming focus, in its order (setFocus); its most urgent pieces also from a second peer.
    for (const [n, i] of this.focus.entries()) {
      if (!this.wanted[i] || this.have[i] || !peerHas(i)) continue;
      if (this.takeBlocks(i, out, count, n < this.urgent ? 1 : 0, mine)) return out;
    }
    if (this.focusOnly) return out;
    // 1. Finish started pieces, rarest first.
    const started = [...this.partial.keys()].filter((i) => peerHas(i)).sort((a, b) => this.rarity(a) - this.rarity(b));
    for (const i of started) if (this.takeBlocks(i, out, count, 0, mine)) return out;
    // 2. Open new pieces.
    const candidates: number[] = [];
    for (let i = 0; i < this.have.length; i++) if (this.wanted[i] && !this.have[i] && !this.partial.has(i) && peerHas(i)) candidates.push(i);
    this.shuffle(candidates);
    if (this.haveCount >= this.randomFirst) candidates.sort((a, b) => this.rarity(a) - this.rarity(b)); // stable: ties stay shuffled
    for (const i of candidates) if (this.takeBlocks(i, out, count, 0, mine)) return out;
    // 3. Endgame: every missing block is requested somewhere; ask again, to at most N holders.
    if (out.length === 0 && this.allRequested()) {
      for (const i of started) if (this.takeBlocks(i, out, count, this.endgameDuplicates - 1, mine)) return out;
    }
    return out;
  }

  get inEndgame(): boolean {
    return this.allRequested();
  }

  /** A request was answered with data (true when that completes the piece's blocks). */
  received(b: BlockRef): boolean {
    const p = this.partial.get(b.index);
    if (!p) return false;
    const k = b.begin / BLOCK_LENGTH;
    if (p.blocks[k] === -1) return false;
    p.blocks[k] = -1;
    p.received++;
    return p.received === p.blocks.length;
  }

  /** A request ended without data (reject, choke, peer gone, timeout). */
  released(b: BlockRef): void {
    const p = this.partial.get(b.index);
    const k = b.begin / BLOCK_LENGTH;
    if (p && p.blocks[k]! > 0) p.blocks[k]!--;
  }

  private allRequested(): boolean {
    for (let i = 0; i < this.have.length; i++) {
      if (!this.wanted[i] || this.have[i]) continue;
      const p = this.partial.get(i);
      if (!p || p.blocks.some((v) => v === 0)) return false;
    }
    return true;
  }

  /** Adds free blocks of piece i (requested at most `already` times) to out; true when out is full. */
  private takeBlocks(i: number, out: BlockRef[], count: number, already: number, mine: (b: BlockRef) => boolean): boolean {
    let p = this.partial.get(i);
    if (!p) {
      p = { blocks: new Int8Array(this.geometry.blockCount(i)), received: 0 };
      this.partial.set(i, p);
    }
    for (let k = 0; k < p.blocks.length && out.length < count; k++) {
      const state = p.blocks[k]!;
      if (state < 0 || state > already) continue;
      const ref = { index: i, begin: k * BLOCK_LENGTH, length: this.geometry.blockSize(i, k) };
      if (state > 0 && mine(ref)) continue;
      p.blocks[k] = state + 1;
      out.push(ref);
    }
    return out.length >= count;
  }

  /**
   * A fixed key per piece, different for each picker: a Fibonacci (golden-ratio) hash of the piece
   * and the salt. Its orders are not independent draws: successive keys spread evenly over a
   * window, and two pickers whose salts share low bits walk one cyclic order from different
   * points, so at the same progress they take different pieces. A full 32-bit mix (MurmurHash3's
   * finaliser), independent per picker, measured worse in the 20-viewer crowd: 1.46x mean edge
   * egress against 1.42x over seeds 1-10 (docs/BENCHMARKS.md).
   */
  private tieKey(i: number): number {
    return Math.imul((i + 1) ^ this.tieSalt, 2654435761) >>> 0;
  }

  private shuffle(a: number[]): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
  }
}
