import type { PeerAddress } from '../../shared/compact/index.js';
import { LsdError } from '../../shared/errors.js';
import { decodeBtSearch, MAX_LSD_DATAGRAM } from '../../shared/lsd/bt-search.js';

/**
 * Why a received LSD datagram (or one infohash in it) led to no peer. Datagram-level reasons
 * count once per datagram; `unknown-torrent`, `private` and `too-many-peers` once per infohash.
 */
export type LsdIgnoreReason = 'too-large' | 'garbage' | 'own' | 'rate-limited' | 'unknown-torrent' | 'private' | 'too-many-peers';

export const LSD_IGNORE_REASONS: readonly LsdIgnoreReason[] = ['too-large', 'garbage', 'own', 'rate-limited', 'unknown-torrent', 'private', 'too-many-peers'];

/** A torrent as LSD sees it: whether it may take LSD peers, and where they go. */
export interface LsdTarget {
  /** BEP 27: a private torrent takes no peers from LSD. */
  readonly private: boolean;
  addPeers(peers: PeerAddress[]): void;
}

export interface LsdInboxOptions {
  /** Announces a source may send at once (default 5); BEP 14 senders send at most one a minute. */
  burst?: number;
  /** One more announce allowed per this many ms per source (default 12 s: five a minute). */
  refillMs?: number;
  /** Sources tracked for the rate limit (default 256); a newcomer past it is refused until one is idle. */
  maxSources?: number;
  /**
   * New LSD peers handed to torrents at once, over all sources and torrents (default 64): also the
   * size of the set remembered as pending (the oldest is forgotten first).
   */
  maxPendingPeers?: number;
  /** One more new peer allowed per this many ms once the burst is spent (default 1 s). */
  newPeerRefillMs?: number;
  /** How long a handed-over peer counts as pending: not handed again (default 5 minutes, BEP 14's announce interval). */
  pendingMs?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * The receive side of BEP 14, without sockets: each datagram is decoded, our own announces are
 * recognised by their cookie, sources are rate-limited, and each infohash's peer (the datagram's
 * source address with its Port header: BEP 14 says the address comes from the UDP source) goes to
 * its torrent. New peers pass a second bucket shared by every source (`maxPendingPeers` at once,
 * then one a second), so even many sources cannot make us dial without end; once a flood stops
 * the bucket refills within a minute and real neighbours get through again. Every ignored
 * datagram or infohash is counted by reason.
 */
export class LsdInbox {
  received = 0;
  peersFound = 0;
  /** The code of the last garbage datagram (`lsd.bad-port`...), for diagnosis. */
  lastGarbage?: string;
  readonly ignored = Object.fromEntries(LSD_IGNORE_REASONS.map((r) => [r, 0])) as Record<LsdIgnoreReason, number>;
  private readonly buckets = new Map<string, Bucket>();
  /** `infohash|host:port` -> when it stops counting as pending. */
  private readonly pending = new Map<string, number>();
  private readonly newPeers: Bucket;
  private readonly options: Required<LsdInboxOptions>;

  constructor(
    private readonly cookie: string,
    private readonly lookup: (infoHashHex: string) => LsdTarget | undefined,
    options: LsdInboxOptions = {},
  ) {
    this.options = { burst: 5, refillMs: 12_000, maxSources: 256, maxPendingPeers: 64, newPeerRefillMs: 1000, pendingMs: 5 * 60_000, ...options };
    this.newPeers = { tokens: this.options.maxPendingPeers, at: -Infinity };
  }

  /** Peers handed over and still pending. */
  get pendingPeers(): number {
    return this.pending.size;
  }

  receive(datagram: Uint8Array, from: { address: string; port: number }, now = Date.now()): void {
    this.received++;
    if (datagram.length > MAX_LSD_DATAGRAM) {
      this.ignored['too-large']++;
      return;
    }
    let search;
    try {
      search = decodeBtSearch(datagram);
    } catch (err) {
      if (!(err instanceof LsdError)) throw err;
      this.ignored.garbage++;
      this.lastGarbage = err.code;
      return;
    }
    // BEP 14: the cookie lets a sender drop its own announces, which multicast loopback returns.
    if (search.cookie !== undefined && search.cookie === this.cookie) {
      this.ignored.own++;
      return;
    }
    if (!this.take(`${from.address}:${from.port}`, now)) {
      this.ignored['rate-limited']++;
      return;
    }
    this.expire(now);
    for (const infoHash of search.infoHashes) {
      const target = this.lookup(infoHash);
      if (!target) {
        this.ignored['unknown-torrent']++;
        continue;
      }
      if (target.private) {
        this.ignored.private++; // BEP 27: private torrents use their tracker only
        continue;
      }
      const key = `${infoHash}|${from.address}:${search.port}`;
      if (this.pending.has(key)) continue; // handed over already; the torrent redials on its own schedule
      if (!this.takeNewPeer(now)) {
        this.ignored['too-many-peers']++;
        continue;
      }
      // A bounded memory: the oldest pending peer is forgotten first (the torrent still knows it).
      if (this.pending.size >= this.options.maxPendingPeers) this.pending.delete(this.pending.keys().next().value!);
      this.pending.set(key, now + this.options.pendingMs);
      this.peersFound++;
      target.addPeers([{ host: from.address, port: search.port }]);
    }
  }

  /** Token bucket per source; a full table takes a newcomer only in place of an idle source. */
  private take(source: string, now: number): boolean {
    const { burst, refillMs, maxSources } = this.options;
    let bucket = this.buckets.get(source);
    if (bucket) {
      bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.at) / refillMs);
      bucket.at = now;
    } else {
      if (this.buckets.size >= maxSources) {
        for (const [key, b] of this.buckets) if (b.tokens + (now - b.at) / refillMs >= burst) this.buckets.delete(key);
        if (this.buckets.size >= maxSources) return false;
      }
      bucket = { tokens: burst, at: now };
      this.buckets.set(source, bucket);
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  }

  private takeNewPeer(now: number): boolean {
    const bucket = this.newPeers;
    if (bucket.at !== -Infinity) bucket.tokens = Math.min(this.options.maxPendingPeers, bucket.tokens + (now - bucket.at) / this.options.newPeerRefillMs);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  }

  private expire(now: number): void {
    for (const [key, until] of this.pending) if (until <= now) this.pending.delete(key);
  }
}
