import type { AnnounceParams } from '../../shared/tracker/announce-params.js';
import type { ScrapeCounts } from '../../shared/tracker/http-response.js';
import { encodeCompactPeer } from '../../shared/compact/compact-peers.js';
import { TrackerError } from '../../shared/errors.js';
import { concatBytes, toHex } from '../../shared/bytes.js';
import { IndexedSet, sampleGroups } from './indexed-set.js';
import { SwarmLayers } from './layer-state.js';

/** One peer of a swarm as the tracker keeps it. */
export interface PeerRecord {
  /** Hex of the 20-byte peer id: the peer's identity in this swarm. */
  peerId: string;
  /**
   * Where others can reach it: the address it announced from (one entry; records stored before
   * BEP 7 extra addresses were ignored may hold more, and are cut to the first on load).
   */
  addresses: { host: string; port: number }[];
  left: number;
  uploaded: number;
  downloaded: number;
  /** BEP 21: a partial seed (event=paused), needing nothing more. */
  paused: boolean;
  /** Its completion was already counted in `downloaded`: a completion counts once per peer. */
  completed: boolean;
  lastSeen: number;
  key?: string;
  /** The passkey's user, on private torrents. */
  user?: string;
  /** LAYER-CHANGE: the active layer it last reported; kept across announces without one. */
  layer?: number;
}

export interface SwarmConfig {
  /** Seconds between regular announces that the tracker asks for. */
  interval: number;
  /** BEP 3 `min interval`: clients must not re-announce sooner. */
  minInterval: number;
  /** A peer silent for this long (ms) leaves the swarm. */
  peerTtlMs: number;
  /** Most peers one swarm holds; later newcomers get peers but are not stored. */
  maxPeers: number;
  /** Most peers one IP address may hold in one swarm (default 200). */
  maxPeersPerIp?: number;
}

/** How long a stop is remembered, so that a late queued re-announce cannot bring the peer back. */
const STOP_MEMORY_MS = 10 * 60 * 1000;
const STOP_MEMORY_ENTRIES = 10_000;

/** One announce as the swarm sees it: the parsed parameters plus where the request came from. */
export interface SwarmAnnounce {
  params: AnnounceParams;
  /** The address the request came from: the only address the peer is listed at (the connection's, or the sender the trusted UDP gateway named). */
  client: { host: string };
  now: number;
  user?: string;
  /**
   * A re-announce answered elsewhere and applied late (tracker/swarm-views.ts). Whatever the
   * object saw in the same millisecond wins over it: events never wait in that queue, so they are
   * at least as new (Workers' clocks are coarse, so equal times are common).
   */
  late?: boolean;
}

/**
 * A peer as handed out: its record plus its addresses already in compact form (BEP 23 / BEP 7),
 * made once when it joins, so that answering an announce is mostly concatenation.
 */
export interface ListedPeer {
  record: PeerRecord;
  v4?: Uint8Array;
  v6?: Uint8Array;
  /** `host|port` of each address, to recognise the asker by address. */
  endpoints: Set<string>;
}

/**
 * A random sample of a swarm in compact form, for Worker isolates that answer plain
 * re-announces themselves (see tracker/swarm-views.ts): entries grouped by what the peers want.
 */
export interface SwarmSample {
  downloaders4: Uint8Array;
  downloaders6: Uint8Array;
  uploadOnly4: Uint8Array;
  uploadOnly6: Uint8Array;
}

export interface SwarmAnnounceResult {
  counts: ScrapeCounts;
  peers: ListedPeer[];
  warning?: string;
  /**
   * What changed, for the persistence layer. `uploaded` (when not 0): what this announce added to
   * `peerBytes` (the rise of the peer's reported `uploaded` since its previous announce).
   */
  change: { upsert?: PeerRecord; remove?: string; durable: boolean; uploaded?: number };
}

/**
 * The rules of one swarm, free of any platform: who is in it, the BEP 48 / BEP 21 counts, peer
 * selection and expiry. The Durable Object persists what `announce` reports as changed.
 */
export class SwarmRules {
  private readonly peers = new Map<string, ListedPeer>();
  /** Peers that still download: leechers not paused. */
  private readonly downloaders = new IndexedSet<string>();
  /** Seeds and partial seeds: they only upload. */
  private readonly uploadOnly = new IndexedSet<string>();
  private seeds = 0;
  /** Which peer id holds each `host|port`: one peer per endpoint (a restarted client's new id replaces its old one). */
  private readonly byEndpoint = new Map<string, string>();
  /** Peers per IP address. */
  private readonly perIp = new Map<string, number>();
  /** When each recently stopped peer id stopped. */
  private readonly stoppedAt = new Map<string, number>();
  /** Peers pushed out by a newcomer on the same endpoint, for the persistence layer to delete. */
  private evicted: string[] = [];
  /** BEP 48 `downloaded`: completions seen, each peer counted once. */
  downloaded = 0;
  /**
   * Bytes peers reported uploading to each other: the sum of the rises of each peer's `uploaded`
   * between its announces. A peer's first announce is only its baseline (those bytes went
   * elsewhere or before it was here); a value lower than before means the client restarted its
   * counter, and the new value becomes the baseline.
   */
  peerBytes = 0;
  /** Layered streaming: the asset's layer summary and each peer's active layer. */
  readonly layers = new SwarmLayers();

  constructor(
    readonly config: SwarmConfig,
    private readonly random: () => number = Math.random,
  ) {}

  get size(): number {
    return this.peers.size;
  }

  /** Restores persisted state (after an object restart). */
  load(records: Iterable<PeerRecord>, downloaded: number, peerBytes = 0): void {
    this.downloaded = downloaded;
    this.peerBytes = peerBytes;
    // Only the announcing address counts (see `announce`): an extra address stored by an older
    // version is dropped, not handed out until the peer expires.
    for (const record of records) this.insert(record.addresses.length > 1 ? { ...record, addresses: record.addresses.slice(0, 1) } : record);
  }

  /** Until when the edge's HTTP seed counts as a seed of this swarm (ms; 0 = not serving). */
  edgeSeedUntil = 0;

  /** Seeds other than the edge: what the edge seed's policy looks at. */
  get p2pSeeds(): number {
    return this.seeds;
  }

  /** BEP 48 counts; the edge seed counts as one seed while it serves (`now` before `edgeSeedUntil`). */
  counts(now: number = Date.now()): ScrapeCounts {
    const incomplete = this.peers.size - this.seeds;
    const edge = this.edgeSeedUntil > now ? 1 : 0;
    return { complete: this.seeds + edge, incomplete, downloaded: this.downloaded, downloaders: this.downloaders.size };
  }

  announce(request: SwarmAnnounce): SwarmAnnounceResult {
    const { params, now } = request;
    const id = toHex(params.peerId);
    const existing = this.peers.get(id)?.record;
    // Before anything changes: a refused LAYER-CHANGE leaves the peer as it was.
    this.layers.check(params.layer);

    if (params.event === 'stopped') {
      // A stop counts only from the address the peer announced from: peer ids are not secret.
      if (!existing || existing.addresses[0]?.host !== request.client.host) {
        return { counts: this.counts(now), peers: [], change: { durable: false } };
      }
      this.remove(id);
      this.rememberStop(id, now);
      // The stop carries the session's final totals: its rise counts like any other.
      const uploaded = this.countUploaded(existing, params.uploaded);
      return { counts: this.counts(now), peers: [], change: { remove: id, durable: true, ...(uploaded > 0 ? { uploaded } : {}) } };
    }
    // A re-announce that was answered elsewhere and reaches us late (tracker/swarm-views.ts)
    // must not undo what happened since: a stop, or a newer announce.
    const staleBefore = existing ? existing.lastSeen : this.stoppedAt.get(id);
    if (params.event === 'none' && staleBefore !== undefined && (request.late || !existing ? now <= staleBefore : now < staleBefore)) {
      return { counts: this.counts(now), peers: [], change: { durable: false } };
    }
    if (existing) this.checkIdentity(existing, request);

    // A peer is listed only where its request came from: the connection's address over HTTP, or
    // over BEP 15 the sender named by the UDP gateway (trusted only with its secret, routes/udp.ts).
    // BEP 3 `ip` and BEP 7 `ipv4` / `ipv6` (`params.otherAddresses`) are the client's word alone,
    // of either family: honouring them would let anyone list a third party's address and have
    // peers dial it (a reflection attack), or push out the peer listed there. The cost: a
    // dual-stack client is listed at one address, the one of its latest announce (with its
    // BEP 7 `key` its id may move between families; see checkIdentity).
    const addresses = [{ host: request.client.host, port: params.port }];
    const paused = params.event === 'paused' && params.left > 0;
    const finishing = params.left === 0 && ((existing !== undefined && existing.left > 0) || params.event === 'completed');
    const countCompletion = finishing && !(existing?.completed ?? false);
    const record: PeerRecord = {
      peerId: id,
      addresses,
      left: params.left,
      uploaded: params.uploaded,
      downloaded: params.downloaded,
      paused,
      completed: (existing?.completed ?? false) || countCompletion,
      lastSeen: now,
    };
    if (params.key !== undefined) record.key = params.key;
    else if (existing?.key !== undefined) record.key = existing.key;
    if (request.user !== undefined) record.user = request.user;
    const layer = params.layer ?? existing?.layer;
    if (layer !== undefined) record.layer = layer;

    let warning: string | undefined;
    let stored = true;
    if (!existing && this.peers.size >= this.config.maxPeers) {
      stored = false;
      warning = 'swarm is full: you get peers but are not listed yet';
    } else if (!existing && (this.perIp.get(request.client.host) ?? 0) >= (this.config.maxPeersPerIp ?? 200)) {
      stored = false;
      warning = 'too many peers from your address in this swarm: you get peers but are not listed';
    }
    if (countCompletion && stored) this.downloaded++;
    // A peer that is not stored has no baseline here: nothing of it counts.
    const uploaded = stored && existing ? this.countUploaded(existing, params.uploaded) : 0;
    // Membership, seed state and address changes are written at once; a plain re-announce
    // only refreshes counters and last-seen, which may be written in a batch.
    const durable =
      !existing ||
      existing.left === 0 !== (record.left === 0) ||
      existing.paused !== record.paused ||
      countCompletion ||
      existing.layer !== record.layer ||
      JSON.stringify(existing.addresses) !== JSON.stringify(record.addresses);
    if (stored) {
      if (existing) this.remove(id);
      this.insert(record);
    }

    const peers = this.select(record, params.numwant);
    const result: SwarmAnnounceResult = {
      counts: this.counts(now),
      peers,
      change: stored ? { upsert: record, durable, ...(uploaded > 0 ? { uploaded } : {}) } : { durable: false },
    };
    if (warning !== undefined) result.warning = warning;
    return result;
  }

  /**
   * PPSP Get-Peer: peers for a viewer that is only looking, chosen as for a downloader's
   * announce (layer-aware when it names a layer), without adding it or touching any count. A
   * member asking for more names its peer id and is left out of the answer.
   */
  getPeers(request: { numwant: number; layer?: number; peerId?: string }): ListedPeer[] {
    const looker: PeerRecord = { peerId: request.peerId ?? '', addresses: [], left: 1, uploaded: 0, downloaded: 0, paused: false, completed: false, lastSeen: 0 };
    if (request.layer !== undefined) looker.layer = request.layer;
    return this.select(looker, request.numwant);
  }

  /** Adds the rise of a known peer's `uploaded` to `peerBytes`; returns it (0 after a counter reset). */
  private countUploaded(existing: PeerRecord, uploaded: number): number {
    const rise = uploaded >= existing.uploaded ? uploaded - existing.uploaded : 0;
    this.peerBytes += rise;
    return rise;
  }

  /** Every peer's record (the dashboard's publisher summary reads them). */
  *records(): IterableIterator<PeerRecord> {
    for (const { record } of this.peers.values()) yield record;
  }

  /** GET /layers/:hash/active: peers in the swarm, and how many are at each active layer. */
  activeLayers(): { peers: number; byLayer: Record<string, number> } {
    return { peers: this.peers.size, byLayer: this.layers.byLayer() };
  }

  /** Peer ids removed because a newcomer took their endpoint, since the last call. */
  takeEvicted(): string[] {
    const out = this.evicted;
    this.evicted = [];
    return out;
  }

  /** Up to `limit` random downloaders and `limit` random seeds/partial seeds, compact. */
  sample(limit: number): SwarmSample {
    const pick = (group: IndexedSet<string>) => sampleGroups([group], limit, () => false, this.random).map((id) => this.peers.get(id)!);
    const join = (peers: ListedPeer[], family: 4 | 6) => concatBytes(peers.flatMap((p) => (family === 4 ? (p.v4 ? [p.v4] : []) : p.v6 ? [p.v6] : [])));
    const down = pick(this.downloaders);
    const up = pick(this.uploadOnly);
    return { downloaders4: join(down, 4), downloaders6: join(down, 6), uploadOnly4: join(up, 4), uploadOnly6: join(up, 6) };
  }

  /** Removes peers silent for longer than the TTL; returns their ids. */
  expire(now: number): string[] {
    const gone: string[] = [];
    for (const [id, { record }] of this.peers) {
      if (now - record.lastSeen > this.config.peerTtlMs) gone.push(id);
    }
    for (const id of gone) this.remove(id);
    return gone;
  }

  /** When the next peer would expire, for scheduling the sweep; undefined when empty. */
  nextExpiry(): number | undefined {
    let oldest = Infinity;
    for (const { record } of this.peers.values()) oldest = Math.min(oldest, record.lastSeen);
    return oldest === Infinity ? undefined : oldest + this.config.peerTtlMs;
  }

  /**
   * A random sample of other peers. Seeds and partial seeds only get downloaders (they have
   * nothing to gain from each other); downloaders get anyone. Never the asker itself, by peer
   * id or by address.
   *
   * Layer-aware when the asker has an active layer: first a random sample of the peers that hold
   * the layers it needs (layer-state.ts), then, if numwant is not reached, a random sample of
   * the rest.
   */
  private select(asker: PeerRecord, numwant: number): ListedPeer[] {
    const askerOnlyUploads = asker.left === 0 || asker.paused;
    const groups = askerOnlyUploads ? [this.downloaders] : [this.downloaders, this.uploadOnly];
    const own = asker.addresses.map((a) => `${a.host}|${a.port}`);
    const isSelf = (id: string) => id === asker.peerId || own.some((e) => this.peers.get(id)!.endpoints.has(e));
    const listed = (ids: string[]) => ids.map((id) => this.peers.get(id)!);
    const layer = asker.layer;
    if (layer === undefined) return listed(sampleGroups(groups, numwant, isSelf, this.random));
    const holders = this.layers.holdersFor(layer, askerOnlyUploads);
    const first = sampleGroups(holders, numwant, isSelf, this.random);
    if (first.length >= numwant) return listed(first);
    // Every holder but the asker is in `first` now. The rest are drawn from everyone, skipping
    // the holders: as many more are drawn as there are holders, so that skips cannot leave the
    // answer short (there are at most numwant of them, else `first` would have been full).
    const skipped = holders.reduce((n, g) => n + g.size, 0);
    const isHolder = (id: string) => isSelf(id) || this.layers.holds(this.peers.get(id)!.record, layer);
    const rest = sampleGroups(groups, numwant - first.length + skipped, isHolder, this.random).slice(0, numwant - first.length);
    return listed([...first, ...rest]);
  }

  /**
   * A peer id already in the swarm may announce from a new address only if it proves it is the
   * same client with the same `key` (BEP 7 recommends keys for exactly this).
   */
  private checkIdentity(existing: PeerRecord, request: SwarmAnnounce): void {
    const moved = existing.addresses[0]?.host !== request.client.host;
    // Moving needs the key the peer registered with; a peer that never sent one cannot move
    // (else anyone who learned its id could take it over).
    if (moved && (existing.key === undefined || existing.key !== request.params.key)) {
      throw new TrackerError('peer-id-in-use', 'this peer id is in use by another client; restart with a new peer id');
    }
  }

  private rememberStop(id: string, now: number): void {
    this.stoppedAt.delete(id);
    this.stoppedAt.set(id, now);
    for (const [old, at] of this.stoppedAt) {
      if (this.stoppedAt.size <= STOP_MEMORY_ENTRIES && now - at < STOP_MEMORY_MS) break;
      this.stoppedAt.delete(old);
    }
  }

  private insert(record: PeerRecord): void {
    const listed: ListedPeer = { record, endpoints: new Set(record.addresses.map((a) => `${a.host}|${a.port}`)) };
    for (const endpoint of listed.endpoints) {
      const holder = this.byEndpoint.get(endpoint);
      if (holder !== undefined && holder !== record.peerId) {
        this.remove(holder);
        this.evicted.push(holder);
      }
      this.byEndpoint.set(endpoint, record.peerId);
    }
    const ip = record.addresses[0]!.host;
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    for (const address of record.addresses) {
      if (familyOf(address.host) === 4) listed.v4 ??= encodeCompactPeer(address);
      else listed.v6 ??= encodeCompactPeer(address);
    }
    this.peers.set(record.peerId, listed);
    this.layers.add(record);
    if (record.left === 0) this.seeds++;
    if (record.left === 0 || record.paused) this.uploadOnly.add(record.peerId);
    else this.downloaders.add(record.peerId);
  }

  private remove(id: string): void {
    const listed = this.peers.get(id);
    if (!listed) return;
    const record = listed.record;
    this.peers.delete(id);
    this.layers.delete(record);
    for (const endpoint of listed.endpoints) if (this.byEndpoint.get(endpoint) === id) this.byEndpoint.delete(endpoint);
    const ip = record.addresses[0]!.host;
    const left = (this.perIp.get(ip) ?? 1) - 1;
    if (left > 0) this.perIp.set(ip, left);
    else this.perIp.delete(ip);
    if (record.left === 0) this.seeds--;
    this.uploadOnly.delete(id);
    this.downloaders.delete(id);
  }
}

function familyOf(host: string): 4 | 6 {
  return host.includes(':') ? 6 : 4;
}
