/**
 * Who we upload to (BEP 3 "choking"): tit-for-tat with a rotating optimistic unchoke.
 *
 * Every rechoke (the engine calls it every 10 s) the `slots - 1` interested peers that give us
 * the most (download rate from them) are unchoked. Peers that have sent nothing for `snubMs`
 * while we wanted data lose their regular slot. When we seed nobody gives us anything, and the
 * regular slots go round robin instead (as libtorrent's seeds do): a peer keeps its slot for one
 * turn (`turnMs`), then the slot goes to the interested peer whose last turn began longest ago
 * (never-unchoked peers first, ties at random). Ranking a seed's slots by the rate peers take,
 * as we did before, let whoever got a slot first keep it as long as it asked: 7 of 47 equally
 * greedy peers served in 60 s (test/peer/seed-200-connections.test.ts). One more slot, the
 * optimistic unchoke, goes to a random choked interested peer and moves every third rechoke
 * (30 s), with peers connected in the last minute three times as likely: that is how a newcomer
 * with nothing to offer gets its first pieces. Pure: times, rates and randomness come in.
 */
export interface ChokePeer {
  id: string;
  interested: boolean;
  /** Bytes/s we receive from it, and send to it. */
  downloadRate: number;
  uploadRate: number;
  connectedAt: number;
  /** When it last sent us a block; undefined if never. */
  lastBlockAt?: number;
  /** Whether we are interested in it (only then can it snub us). */
  weWant: boolean;
  /** Whether we unchoke it now, and when its current or latest turn began (seeding). */
  unchoked?: boolean;
  unchokedAt?: number;
}

export interface ChokerOptions {
  slots?: number;
  optimisticEvery?: number;
  snubMs?: number;
  /** A seed's regular slot is kept this long before it rotates (default 9 s: one 10 s rechoke). */
  turnMs?: number;
  random?: () => number;
}

export class Choker {
  private round = 0;
  private optimistic?: string;
  private readonly slots: number;
  private readonly optimisticEvery: number;
  private readonly snubMs: number;
  private readonly turnMs: number;
  private readonly random: () => number;

  constructor(options: ChokerOptions = {}) {
    this.slots = options.slots ?? 4;
    this.optimisticEvery = options.optimisticEvery ?? 3;
    this.snubMs = options.snubMs ?? 60_000;
    this.turnMs = options.turnMs ?? 9_000;
    this.random = options.random ?? Math.random;
  }

  get optimisticPeer(): string | undefined {
    return this.optimistic;
  }

  /** The ids to have unchoked after this round; everyone else is choked. */
  rechoke(peers: readonly ChokePeer[], now: number, seeding: boolean): Set<string> {
    const interested = peers.filter((p) => p.interested);
    const snubbed = (p: ChokePeer) => !seeding && p.weWant && now - (p.lastBlockAt ?? p.connectedAt) > this.snubMs;
    const regular = (seeding ? this.roundRobin(interested, now) : interested.filter((p) => !snubbed(p)).sort((a, b) => b.downloadRate - a.downloadRate)).slice(0, Math.max(0, this.slots - 1));
    const unchoked = new Set(regular.map((p) => p.id));

    const stillThere = interested.some((p) => p.id === this.optimistic && !unchoked.has(p.id));
    if (this.round % this.optimisticEvery === 0 || !stillThere) {
      const choked = interested.filter((p) => !unchoked.has(p.id));
      const weights = choked.map((p) => (now - p.connectedAt < 60_000 ? 3 : 1));
      let pick = this.random() * weights.reduce((a, b) => a + b, 0);
      this.optimistic = undefined;
      for (let i = 0; i < choked.length; i++) {
        pick -= weights[i]!;
        if (pick < 0) {
          this.optimistic = choked[i]!.id;
          break;
        }
      }
    }
    this.round++;
    if (this.optimistic) unchoked.add(this.optimistic);
    return unchoked;
  }

  /**
   * Seeding: peers mid-turn first (not the optimistic peer: its slot is the optimistic one), then
   * by when their last turn began (never first), ties at random.
   */
  private roundRobin(interested: ChokePeer[], now: number): ChokePeer[] {
    const midTurn = (p: ChokePeer) => p.id !== this.optimistic && p.unchoked === true && p.unchokedAt !== undefined && now - p.unchokedAt < this.turnMs;
    const keyed = interested.map((p) => ({ p, key: midTurn(p) ? -Infinity : (p.unchokedAt ?? -Number.MAX_VALUE), tie: this.random() }));
    return keyed.sort((a, b) => (a.key === b.key ? a.tie - b.tie : a.key - b.key)).map((k) => k.p);
  }
}
