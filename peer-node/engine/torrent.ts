import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { PeerAddress } from '../../shared/compact/index.js';
import { bytesEqual, compareBytes, toHex } from '../../shared/bytes.js';
import { ProtocolError } from '../../shared/errors.js';
import { canonicalIp, parseIPv4, parseIPv6 } from '../../shared/ip.js';
import { BLOCK_LENGTH } from '../../shared/metainfo/geometry.js';
import type { ParsedTorrent } from '../../shared/metainfo/torrent-file.js';
import { sha1 } from '../../shared/sha1.js';
import { allowedFastSet } from '../../shared/wire/allowed-fast.js';
import type { ExtensionHandshake } from '../../shared/wire/extension-handshake.js';
import type { BlockRef } from '../../shared/wire/messages.js';
import { LOCAL_EXTENSION_IDS, type PeerExtension, sendExtended } from '../extensions/extension.js';
import { UtMetadataServer } from '../extensions/ut-metadata-server.js';
import { type PexHost, UtPex } from '../extensions/ut-pex.js';
import { UploadOnly, type UploadOnlyHost } from '../extensions/upload-only.js';
import { LayerChange, type LayerChangeHost } from '../extensions/layer-change.js';
import { EDGE_FETCHING_HOLD_MS, EdgeFetching } from '../extensions/edge-fetching.js';
import { BitfieldRequest } from '../extensions/bitfield-request.js';
import { LtTex, type TexHost } from '../extensions/lt-tex.js';
import { TrHashpiece } from '../extensions/tr-hashpiece.js';
import { MerkleTree } from '../../shared/metainfo/merkle.js';
import { encodeHashPiece } from '../../shared/wire/tr-hashpiece.js';
import { MerkleHashes } from './merkle-hashes.js';
import { PEX_FLAG, type PexPeer } from '../../shared/wire/ut-pex.js';
import { PieceCache } from '../storage/piece-cache.js';
import { TorrentStorage } from '../storage/torrent-storage.js';
import { Announcer, type AnnounceState } from '../tracker/announcer.js';
import { TrackerTiers } from '../tracker/tracker-tiers.js';
import type { LocalTrackerDiscovery } from '../tracker/local-tracker-discovery.js';
import { LocalTrackerAnnouncer, type LocalTrackerStats } from '../tracker/local-tracker-announcer.js';
import type { UdpTrackerClient } from '../tracker/udp-tracker-client.js';
import { type ConnectionOptions, PeerConnection } from '../wire/peer-connection.js';
import { Bitfield } from './bitfield.js';
import { Choker } from './choker.js';
import type { DeadlineSchedule } from './deadline-schedule.js';
import { SuperSeeder } from './super-seeder.js';
import type { DhtNode } from '../dht/dht-node.js';
import { PeerSession, MAX_INCOMING_REQUESTS, type SessionHost } from './peer-session.js';
import { PiecePicker } from './piece-picker.js';
import { RateMeter } from './rate-meter.js';
import type { Dispatcher } from 'undici';
import type { RateLimiter } from './rate-limiter.js';
import { rankAmong } from './inject-rank.js';
import { type EdgeReason, pickEdgePiece, SOURCE_POLICY_DEFAULTS, type SourcePolicyOptions } from './source-policy.js';
import { WebSeed, type WebSeedKind, type WebSeedOptions } from '../webseed/web-seed.js';

/** What a torrent borrows from the client that runs it. */
export interface TorrentContext {
  connection: ConnectionOptions;
  /** Our listen port, for trackers and the extension handshake. */
  port(): number;
  udp: UdpTrackerClient;
  clientName: string;
  /** The client's DHT node, when it runs one. */
  dht?: DhtNode;
  /** The client's BEP 14 local service discovery, when it runs it. */
  lsd?: { join(infoHashHex: string): void; leave(infoHashHex: string): void };
  /** The client's BEP 22 local tracker discovery, when on. */
  localTracker?: LocalTrackerDiscovery;
  /** HTTP connections (keep-alive) for web seeds; without it web seeds are not used. */
  http?: Dispatcher;
  /** The client's upload cap, shared by all its torrents. */
  uploadLimiter?: RateLimiter;
  downloadLimiter?: RateLimiter;
}

export interface TorrentOptions {
  /** The folder that holds the torrent's NAME (a save path, as in every client). */
  dir: string;
  /** File indexes to download (selective download); default every file. */
  files?: number[];
  /** Connections per torrent (default 50). */
  maxPeers?: number;
  /** Upload slots including the optimistic one (default 4). */
  uploadSlots?: number;
  /** How long a peer's pp_fetching notice holds a piece back from our web seeds (default 2 s). */
  edgeFetchHoldMs?: number;
  /** A request unanswered this long is cancelled and asked elsewhere (default 20 s). */
  requestTimeoutMs?: number;
  /** Bad-piece strikes before a peer is banned (default 3; a piece it sent alone counts 2). */
  maxStrikes?: number;
  /** Peers to dial at once (default 10). */
  maxHalfOpen?: number;
  /** Ask the torrent's trackers (default true). */
  trackers?: boolean;
  /** Peer exchange, BEP 11 (default true; never for private torrents). */
  pex?: boolean;
  /** BEP 16 super-seeding while we hold every piece (an initial seed). Default off. */
  superSeed?: boolean;
  /** Fetch from the torrent's web seeds (BEP 19 url-list, BEP 17 httpseeds). Default true. */
  webSeeds?: boolean;
  webSeed?: WebSeedOptions;
  /** When web seeds (the edge) are used instead of peers. */
  sourcePolicy?: SourcePolicyOptions;
}

/** One web seed's share, for the API and the summary. */
export interface WebSeedStats {
  url: string;
  bytes: number;
  failures: number;
  dropped?: string;
  lastError?: string;
}

/** Snapshot of a torrent for progress lines, the API and `--json`. */
export interface TorrentStats {
  infoHash: string;
  name: string;
  /** Verified bytes of wanted pieces, and their total. */
  done: number;
  wanted: number;
  complete: boolean;
  downloadRate: number;
  uploadRate: number;
  /** Payload bytes received from peers (all of them, including wasted ones) and sent to peers. */
  bytesFromPeers: number;
  bytesFromWebSeeds: number;
  /** Pieces delivered by web seeds, by why the edge was asked. */
  edgePieces: Record<EdgeReason, number>;
  webSeeds: WebSeedStats[];
  uploaded: number;
  wasted: number;
  hashFailures: number;
  peers: number;
  seeds: number;
  /** Seconds until done at the current rate; undefined when unknown. */
  eta?: number;
  /** BEP 22: the local tracker announced to besides the torrent's own, and what was refused. */
  localTracker?: LocalTrackerStats;
}

interface Assembly {
  data: Uint8Array;
  got: Uint8Array;
  count: number;
  /** Peers that sent blocks of it (a web seed's piece, checked on its own, names none). */
  from: Set<PeerSession>;
}

/** A piece a web seed is fetching. */
interface WebFetch {
  seed: WebSeed;
  abort: AbortController;
  /** Blocks reserved in the picker for it, and the piece's reset count when they were. */
  refs: BlockRef[];
  resets: number;
}

/** Streaming: where the player reads and how fast it plays, for deadlines and the focus. */
interface Playback {
  offset: number;
  bytesPerSecond: number;
  at: number;
  windowBytes: number;
  /** The pieces in the window ahead of where playback should be now, in order. */
  order: number[];
}

/** A piece that failed with blocks from several peers: fetched again from one peer alone. */
interface Parole {
  owner?: PeerSession;
}

/** Where we heard of a peer. */
export type PeerSource = 'tracker' | 'pex' | 'dht' | 'lsd' | 'given';

interface KnownPeer extends PeerAddress {
  source: PeerSource;
  /** Known to be a seed (PEX flag 0x02): not worth dialling once we want nothing either. */
  seed: boolean;
  failures: number;
  nextTry: number;
  connecting: boolean;
}

const RECHOKE_MS = 10_000;
/**
 * A stream's window pieces due within this many deadline margins (2 s by default) are fetched
 * in order; the rest of its window rarest first. With the whole window in order, the first
 * viewers of a flash crowd asked the one peer holding their next pieces for the same pieces,
 * each at a share of its uplink, traded nothing, and the edge made up the rest for the whole
 * stream. 20-viewer crowd, seeds 1-10 (docs/BENCHMARKS.md): edge egress 1.52x mean, worst
 * 2.07x, all in order; 1.42x, worst 1.65x, at 4/3 margins; 1.43x, worst 1.75x, at 2 margins;
 * 1.34x, worst 1.43x, at 4/3 once preemption stopped ranking the rarest-first part by position.
 */
const IN_ORDER_MARGINS = 4 / 3;
/** A stream's window, and the in-order part of it, hold at least this many pieces. */
const MIN_WINDOW_PIECES = 4;

/**
 * How a peer's address is keyed among known peers and sessions: one spelling per address (a
 * tracker's text `ip`, an IPv4-mapped IPv6 one); a host name stays as given.
 */
function peerKey(host: string, port: number | string): string {
  return `${canonicalIp(host) ?? host}:${port}`;
}
/** Verified pieces waiting for the disk, in bytes, before we stop asking for more. */
const MAX_WRITE_BACKLOG = 16 * 1024 * 1024;
/** Pieces a peer may fetch while choked (BEP 6 suggests 10). */
const ALLOWED_FAST_COUNT = 10;
/** Upload stops feeding a socket that holds this much unsent data, until it drains. */
const SOCKET_HIGH_WATER = 1024 * 1024;
const MAX_KNOWN_PEERS = 2000;
/** Streaming: a peer's queue of other requests longer than this (at its rate) yields to the focus. */
const PREEMPT_QUEUE_S = 0.5;
/** ...except the requests of about this much time, which are likely being sent already. */
const ON_THE_WIRE_S = 0.25;
/** A plain stream asks each peer for about this much of its rate at a time (see fillRequests). */
const STREAM_PIPELINE_SECONDS = 1;
const STREAM_PIPELINE_MIN = 4;
/**
 * Layered streams: a piece no peer has goes to the edge from one peer of the crowd, chosen by
 * rendezvous hashing, and from the next one only if the first did not deliver. Each rank waits
 * this much longer than the one before it: for a piece with a deadline (the base layer) 500 ms,
 * for one without (enhancement layers and the probe) 1.5 s. On a slow downlink a HAVE arrives
 * behind the data queued before it, and a piece held only by a peer that chokes us is missing
 * to us while the crowd has it: at 500 ms the next ranks fetched such pieces again (measured:
 * of 349 duplicate edge fetches in one run of the 60 s layered bench, 332 were of pieces
 * another peer had verified before, 293 of them enhancement pieces; edge share 20.4-23.1% over
 * five runs; with 6 upload slots, see LAYERED_UPLOAD_SLOTS: 18.1-20.2% over seven runs at 1 s,
 * 17.3-18.6% over four at 1.5 s, the 10 Mbit/s class at mean layer 2.2-2.5). A base piece
 * keeps the shorter wait, as a precaution: with every rank at 1 s a 1 Mbit/s viewer stalled
 * (0.2 s, in one of nine runs), where no earlier run of the bench had a stall with adaptation.
 */
const INJECT_RANK_MS = { deadline: 500, other: 1500 };
/**
 * ...and a peer whose upstream is slower than this counts itself that many ranks further back
 * (log2 of the ratio, at most 3): whoever fetches a piece from the edge is the one the crowd
 * then fetches it from, and a 0.5 Mbit/s upstream feeding a crowd holds every peer back
 * (measured: the first viewers to join, on slow links, became the crowd's only sources).
 */
const INJECT_REFERENCE_UPLOAD = 256 * 1024;
/** How often a torrent announces itself in the DHT (BEP 5 nodes keep peers for 30 minutes). */
const DHT_ANNOUNCE_MS = 15 * 60_000;

/**
 * One torrent being downloaded or seeded: its storage, its peers and the decisions that span
 * them. Events: `ready` (pieces on disk checked), `piece` (index verified), `done` (every wanted
 * piece verified), `peer` (PeerSession), `peerClosed` (id, reason), `ban` (address, reason),
 * `hashFailed` (index), `warning` (text).
 */
export class Torrent extends EventEmitter implements SessionHost, PexHost, UploadOnlyHost, TexHost {
  readonly infoHash: Uint8Array;
  readonly infoHashHex: string;
  readonly storage: TorrentStorage;
  readonly geometry;
  readonly have: Bitfield;
  readonly picker: PiecePicker;
  readonly sessions = new Map<string, PeerSession>();
  readonly banned = new Map<string, string>();
  private readonly cache: PieceCache;
  private readonly choker: Choker;
  private readonly announcer: Announcer;
  private readonly localTracker?: LocalTrackerAnnouncer;
  private readonly assembling = new Map<number, Assembly>();
  private readonly extensions = new Map<string, PeerExtension>();
  /** Bad-piece strikes by ban key, so that leaving and coming back does not clear them. */
  private readonly strikes = new Map<string, number>();
  private readonly parole = new Map<number, Parole>();
  private ready = false;
  private readonly uploadOnlyExtension: UploadOnly;
  private readonly layerChange: LayerChange;
  private readonly bitfieldRequest: BitfieldRequest;
  /** pp_fetching: the edge fetches peers told us of, and ours we tell them of. */
  private readonly edgeFetching: EdgeFetching;
  /** Layered streaming: our active layer and the asset's layer count (LAYER-CHANGE). */
  activeLayer?: number;
  layerCount?: number;
  private readonly superSeeder: SuperSeeder;
  /** BEP 30: the Merkle hashes we know, for a torrent with a root hash instead of piece hashes. */
  readonly merkle?: MerkleHashes;
  /**
   * Full-size piece buffers for reuse once written: allocating a fresh megabyte per piece left
   * tens of megabytes of dead buffers waiting for the garbage collector at high rates.
   */
  private readonly spareBuffers: Uint8Array[] = [];
  private readonly known = new Map<string, KnownPeer>();
  private wanted: Uint8Array;
  private readonly downloadRate = new RateMeter();
  private readonly uploadRate = new RateMeter();
  private readonly options: Required<Omit<TorrentOptions, 'files'>> & { files?: number[] };
  readonly webSeeds: WebSeed[] = [];
  private readonly webFetches = new Map<number, WebFetch>();
  /** When a scheduled piece was first seen with no peer holding it (see unavailableReady). */
  private readonly unavailableSince = new Map<number, number>();
  /** Times each piece was started over (hash failure, a banned sender): reservations older than that are void. */
  private readonly resets = new Map<number, number>();
  private readonly peerRate = new RateMeter();
  private startedAt = 0;
  private playback?: Playback;
  /** A schedule from outside (the layered player), instead of `playback`. */
  private schedule?: DeadlineSchedule;
  /** The pieces leading the picker now, most urgent first (from playback or the schedule). */
  private focusOrder: number[] = [];
  /**
   * Ranks in focusOrder from here on are equal for preemption: the part of a stream's window the
   * picker takes rarest first, not in order (Infinity: all of it in order, as a schedule's).
   */
  private focusHead = Infinity;
  /** The source policy's options with their defaults filled in. */
  private readonly policy: typeof SOURCE_POLICY_DEFAULTS & SourcePolicyOptions;
  /** The policy for a schedule from outside (a layered stream). */
  private readonly schedulePolicy: typeof SOURCE_POLICY_DEFAULTS & SourcePolicyOptions;
  private timer?: NodeJS.Timeout;
  private lastRechoke = 0;
  private lastDhtAnnounce = 0;
  private writeBacklog = 0;
  private stopped = false;
  private started = false;
  private halfOpen = 0;
  private wasComplete = false;
  stats = { bytesFromPeers: 0, bytesFromWebSeeds: 0, uploaded: 0, wasted: 0, hashFailures: 0, verifiedDownloaded: 0 };
  private readonly edgePieces: Record<EdgeReason, number> = { deadline: 0, unavailable: 0, rate: 0 };

  constructor(
    readonly metainfo: ParsedTorrent,
    private readonly context: TorrentContext,
    options: TorrentOptions,
  ) {
    super();
    this.setMaxListeners(100); // stream readers wait on 'piece', one listener each
    this.options = {
      maxPeers: 50,
      uploadSlots: 4,
      edgeFetchHoldMs: EDGE_FETCHING_HOLD_MS,
      requestTimeoutMs: 20_000,
      maxStrikes: 3,
      maxHalfOpen: 10,
      trackers: true,
      pex: true,
      superSeed: false,
      webSeeds: true,
      webSeed: {},
      sourcePolicy: {},
      ...options,
    };
    this.policy = { ...SOURCE_POLICY_DEFAULTS, ...this.options.sourcePolicy };
    // A layered stream keeps the rate rule's buffer at two deadline margins (3 s by default) unless
    // told otherwise: its slow class plays near its link rate, and at 1.5 s a 1 Mbit/s viewer
    // stalled (250 ms) in a CI run.
    this.schedulePolicy = this.options.sourcePolicy?.rateBufferMs === undefined ? { ...this.policy, rateBufferMs: 2 * this.policy.deadlineMarginMs } : this.policy;
    this.infoHash = metainfo.infoHash;
    this.infoHashHex = metainfo.infoHashHex;
    this.storage = new TorrentStorage(metainfo.info, options.dir);
    this.geometry = this.storage.geometry;
    this.have = new Bitfield(this.geometry.pieceCount);
    this.picker = new PiecePicker(this.geometry);
    this.cache = new PieceCache(this.storage, 16 * 1024 * 1024);
    this.choker = new Choker({ slots: this.options.uploadSlots });
    this.wanted = this.wantedPieces(options.files);
    this.addExtension(new UtMetadataServer(metainfo.infoBytes));
    // BEP 27: a private torrent's peers and trackers come from its .torrent only.
    if (this.options.pex && !metainfo.info.private) this.addExtension(new UtPex(this));
    if (!metainfo.info.private) this.addExtension(new LtTex(this));
    if (metainfo.info.rootHash) {
      this.merkle = new MerkleHashes(metainfo.info.rootHash, this.geometry.pieceCount);
      this.addExtension(new TrHashpiece(this.merkle));
    }
    this.superSeeder = new SuperSeeder(this.geometry.pieceCount, (i) => this.picker.rarity(i), () => this.sessions.values());
    this.uploadOnlyExtension = new UploadOnly(this);
    this.addExtension(this.uploadOnlyExtension);
    this.layerChange = new LayerChange(this);
    this.addExtension(this.layerChange);
    this.bitfieldRequest = new BitfieldRequest({
      pieceCount: this.geometry.pieceCount,
      // A super-seeder reveals pieces one peer at a time: it does not hand out its whole set.
      announcedPieces: () => (this.superSeeding ? undefined : this.have),
      peerPieces: (s, have) => this.learnPieces(s, have),
    });
    this.addExtension(this.bitfieldRequest);
    this.edgeFetching = new EdgeFetching({ pieceCount: this.geometry.pieceCount, wants: (i) => this.wants(i) }, Date.now, this.options.edgeFetchHoldMs);
    this.addExtension(this.edgeFetching);
    for (let i = 0; i < this.wanted.length; i++) this.picker.setWanted(i, this.wanted[i] === 1);
    for (const url of metainfo.urlList) this.addWebSeed(url, 'url-list');
    for (const url of metainfo.httpSeeds) this.addWebSeed(url, 'httpseeds');
    // BEP 27: a private torrent's peers come from its own trackers only; that is all we use yet.
    this.announcer = new Announcer(
      new TrackerTiers(metainfo.announceList, metainfo.announce),
      context.udp,
      () => this.announceState(),
      {
        peers: (peers) => this.addPeers(peers, 'tracker'),
        warning: (text) => this.emit('warning', text),
        externalIp: (ip) => this.localTracker?.observe(ip, 'tracker'),
      },
    );
    if (context.localTracker && this.options.trackers) {
      this.localTracker = new LocalTrackerAnnouncer(context.localTracker, context.udp, {
        private: metainfo.info.private === true,
        ownTrackers: () => this.announcer.trackers,
        state: () => this.announceState(),
        peers: (peers) => this.addPeers(peers, 'tracker'),
        warning: (text) => this.emit('warning', text),
      });
    }
  }

  /**
   * Adds an HTTP seed (from the .torrent, a magnet's `ws=`, or the caller). Ignored when web seeds
   * are off, the client has no HTTP dispatcher, the URL is not http(s) or is known already.
   */
  addWebSeed(url: string, kind: WebSeedKind = 'url-list'): WebSeed | undefined {
    // BEP 30: Merkle torrents are between peers only (their hashes come from peers, not HTTP).
    if (!this.options.webSeeds || !this.context.http || this.merkle || this.webSeeds.length >= 16) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return undefined;
    }
    if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || this.webSeeds.some((w) => w.url === url)) return undefined;
    const seed = new WebSeed(url, kind, this.metainfo.info, this.infoHash, this.geometry, this.context.http, { ...this.options.webSeed, ...(this.context.downloadLimiter ? { downloadLimiter: this.context.downloadLimiter } : {}) });
    this.webSeeds.push(seed);
    return seed;
  }

  /** Plugs a BEP 10 extension in; peers connected from now on see it in our handshake. */
  addExtension(extension: PeerExtension): void {
    if (!(extension.name in LOCAL_EXTENSION_IDS)) throw new Error(`no local id for extension ${extension.name}`);
    this.extensions.set(extension.name, extension);
  }

  get name(): string {
    return this.metainfo.info.name;
  }

  get complete(): boolean {
    return this.picker.complete;
  }

  /** BEP 21: every wanted piece is here, so we only upload (a seed or a partial seed). */
  get uploadOnly(): boolean {
    // A super-seed keeps its state hidden: upload_only with an empty bitfield makes libtorrent
    // hang up at once (an upload-only peer with nothing it wants).
    return this.complete && !this.superSeeding;
  }

  get superSeeding(): boolean {
    return this.options.superSeed && this.have.complete;
  }

  mayServe(s: PeerSession, index: number): boolean {
    return this.have.has(index) && (!this.superSeeding || this.superSeeder.mayServe(s, index));
  }

  /** Some block is asked of a peer or some piece of a web seed: data is on its way. */
  get fetching(): boolean {
    if (this.webFetches.size > 0) return true;
    for (const s of this.sessions.values()) if (s.outstanding.size > 0) return true;
    return false;
  }

  peerLayer(s: PeerSession, layer: number): void {
    this.emit('peerLayer', s, layer);
  }

  /**
   * Layered streaming: our active layer changed. Every peer that offers LAYER-CHANGE is told
   * (returns how many), and the trackers hear it with the next announce (`layer=`).
   */
  setActiveLayer(layer: number, layerCount: number): number {
    if (!Number.isSafeInteger(layer) || layer < 0 || layer >= layerCount) throw new RangeError(`layer ${layer} is not one of the asset's ${layerCount}`);
    this.layerCount = layerCount;
    if (this.activeLayer === layer) return 0;
    this.activeLayer = layer;
    this.announcer.setLayer(layer);
    this.localTracker?.setLayer(layer);
    return this.layerChange.announce(this.sessions.values());
  }

  peerUploadOnly(s: PeerSession): void {
    // Neither side wants anything from the other: the connection only costs a slot.
    if (s.uploadOnly && this.uploadOnly && this.started && !this.schedule) s.connection.close('both sides are upload-only (BEP 21)');
  }

  /**
   * Bytes of the torrent we lack: what trackers hear as `left`. The whole torrent, as libtorrent
   * reports it, so a partial seed (BEP 21) is not counted as a seed; it says `paused` instead.
   */
  get left(): number {
    let left = 0;
    for (let i = 0; i < this.geometry.pieceCount; i++) if (!this.have.has(i)) left += this.geometry.pieceSize(i);
    return left;
  }

  /** What every announce reports, to the torrent's trackers and a local tracker alike. */
  private announceState(): AnnounceState {
    return {
      infoHash: this.infoHash,
      peerId: this.context.connection.peerId,
      port: this.context.port(),
      uploaded: this.stats.uploaded,
      downloaded: this.stats.verifiedDownloaded,
      left: this.left,
      // BEP 21: a partial seed says `paused` in its announces.
      paused: this.uploadOnly && this.have.count < this.geometry.pieceCount,
    };
  }

  /** Checks what is already on disk (resume), then starts announcing and trading. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const onDisk = this.merkle ? await this.verifyMerkle() : await this.storage.verify(() => !this.stopped);
    const files = this.options.files ? new Set(this.options.files) : undefined;
    await this.storage.createEmptyFiles((i) => !files || files.has(i));
    onDisk.forEach((ok, i) => ok && this.markHave(i));
    this.stats.verifiedDownloaded = 0;
    this.wasComplete = this.complete;
    this.ready = true;
    this.emit('ready', this.have.count);
    if (this.stopped) return;
    if (this.options.trackers) this.announcer.start();
    this.localTracker?.start();
    this.announceToDht();
    // BEP 14 on the local network too; BEP 27: never for a private torrent.
    if (!this.metainfo.info.private) this.context.lsd?.join(this.infoHashHex);
    this.lastRechoke = Date.now(); // free slots are given at once; the first rotation is 10 s away
    this.startedAt = Date.now();
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
    if (this.wasComplete) this.emit('done');
    this.connectMore();
  }

  /** Stops trading: says `stopped` to the tracker, closes every connection and file. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.emit('stopped');
    clearInterval(this.timer);
    this.context.lsd?.leave(this.infoHashHex);
    for (const f of this.webFetches.values()) f.abort.abort();
    for (const s of this.sessions.values()) s.connection.close('torrent stopped');
    await Promise.all([this.announcer.stop(), this.localTracker?.stop()]);
    await this.storage.close();
    this.cache.clear();
  }

  statsSnapshot(): TorrentStats {
    let wanted = 0;
    let done = 0;
    for (let i = 0; i < this.wanted.length; i++) {
      if (!this.wanted[i]) continue;
      const size = this.geometry.pieceSize(i);
      wanted += size;
      if (this.have.has(i)) done += size;
    }
    const downloadRate = this.downloadRate.rate;
    const seeds = [...this.sessions.values()].filter((s) => s.isSeed).length;
    return {
      infoHash: this.infoHashHex,
      name: this.name,
      done,
      wanted,
      complete: this.complete,
      downloadRate,
      uploadRate: this.uploadRate.rate,
      bytesFromPeers: this.stats.bytesFromPeers,
      bytesFromWebSeeds: this.stats.bytesFromWebSeeds,
      edgePieces: { ...this.edgePieces },
      webSeeds: this.webSeeds.map((w) => ({ url: w.url, bytes: w.bytes, failures: w.failures, ...(w.dropped ? { dropped: w.dropped } : {}), ...(w.lastError ? { lastError: w.lastError } : {}) })),
      uploaded: this.stats.uploaded,
      wasted: this.stats.wasted,
      hashFailures: this.stats.hashFailures,
      peers: this.sessions.size,
      seeds,
      ...(downloadRate > 0 && done < wanted ? { eta: (wanted - done) / downloadRate } : {}),
      ...(this.localTracker ? { localTracker: this.localTracker.stats() } : {}),
    };
  }

  /** Peers to try (from trackers, the command line, PEX, later the DHT). */
  addPeers(peers: readonly (PeerAddress & { flags?: number })[], source: PeerSource = 'given'): void {
    for (const p of peers) {
      const host = canonicalIp(p.host) ?? p.host;
      const id = peerKey(host, p.port);
      if (this.known.has(id) || p.port === 0) continue;
      if (this.known.size >= MAX_KNOWN_PEERS && !this.evictKnownPeer()) continue;
      const seed = ((p.flags ?? 0) & PEX_FLAG.seed) !== 0;
      this.known.set(id, { host, port: p.port, source, seed, failures: 0, nextTry: 0, connecting: false });
    }
    this.connectMore();
  }

  /** Makes room in the peer list: the peer that failed most often and is not in use. */
  private evictKnownPeer(): boolean {
    let worst: [string, KnownPeer] | undefined;
    for (const entry of this.known) {
      const p = entry[1];
      if (p.connecting || p.failures === 0) continue;
      if (!worst || p.failures > worst[1].failures) worst = entry;
    }
    if (!worst) return false;
    this.known.delete(worst[0]);
    return true;
  }

  /** Where we first heard of HOST:PORT, if we did. */
  peerSource(address: string): PeerSource | undefined {
    const colon = address.lastIndexOf(':');
    return this.known.get(peerKey(address.slice(0, colon), address.slice(colon + 1)))?.source;
  }

  /** BEP 5: looks the torrent up in the DHT and announces us there; never for private torrents. */
  private announceToDht(): void {
    const dht = this.context.dht;
    this.lastDhtAnnounce = Date.now();
    if (!dht || this.metainfo.info.private || this.stopped) return;
    void dht.announce(this.infoHash, this.context.port(), this.complete).then((r) => {
      if (!this.stopped) this.addPeers(r.peers, 'dht');
    });
  }

  /** A peer's PORT message (BEP 5): its DHT node goes into our routing table if it answers. */
  peerDhtPort(s: PeerSession, port: number): void {
    const host = s.connection.remoteIp;
    if (this.context.dht && host && port > 0) void this.context.dht.query({ host, port }, { method: 'ping', id: this.context.dht.id });
  }

  // --- PexHost ---

  pexPeers(): Map<PeerSession, PexPeer> {
    const out = new Map<PeerSession, PexPeer>();
    for (const s of this.sessions.values()) {
      // Only IP addresses travel in PEX (a peer dialled by host name has its IP in the socket).
      if (!s.listenAddress || net.isIP(s.listenAddress.host) === 0) continue;
      const flags = (s.isSeed || s.bits.complete ? PEX_FLAG.seed : 0) | (s.outgoing ? PEX_FLAG.reachable : 0);
      out.set(s, { ...s.listenAddress, flags });
    }
    return out;
  }

  learned(peers: PexPeer[]): void {
    this.addPeers(peers, 'pex');
  }

  // --- TexHost ---

  verifiedTrackers(): string[] {
    return this.announcer.verifiedTrackers;
  }

  learnedTrackers(urls: string[]): void {
    if (!this.options.trackers) return;
    for (const url of urls) {
      void this.announcer.probe(url).then((ok) => ok && this.emit('tracker', url));
    }
  }

  /** The trackers this torrent announces to, in order (BEP 12, plus ones learned by BEP 28). */
  get trackers(): string[] {
    return this.announcer.trackers;
  }

  /** A connection whose handshake named this torrent: incoming, or one we dialled at `dialled`. */
  attach(connection: PeerConnection, dialled?: PeerAddress): void {
    const reason = this.refusal(connection, dialled !== undefined);
    if (reason) return connection.close(reason);
    const session = new PeerSession(connection, this, this.ourExtensionIds());
    if (dialled) {
      session.listenAddress = { host: dialled.host, port: dialled.port };
      session.outgoing = true;
    }
    this.sessions.set(session.id, session);
    connection.on('message', (m) => {
      try {
        session.handle(m);
      } catch (err) {
        if (err instanceof ProtocolError) connection.close(`protocol error: ${err.message}`);
        else throw err;
      }
    });
    connection.on('close', (why: string) => this.detach(session, why));
    session.greet(this.ourExtensionHandshake(connection));
    // BEP 5: both set the DHT bit, so our node's port goes over.
    if (connection.negotiated.dht && this.context.dht) session.send({ type: 'port', port: this.context.dht.port });
    if (this.superSeeding) this.superSeeder.offer(session);
    else void this.grantAllowedFast(session);
    this.emit('peer', session);
  }

  private refusal(connection: PeerConnection, outgoing: boolean): string | undefined {
    if (this.stopped) return 'torrent stopped';
    if (!this.ready) return 'still checking the files on disk';
    if (this.bannedReason(connection)) return `banned: ${this.bannedReason(connection)}`;
    const peerId = connection.remote!.peerId;
    const ours = this.context.connection.peerId;
    for (const s of this.sessions.values()) {
      if (!bytesEqual(s.connection.remote!.peerId, peerId)) continue;
      // Two peers that dial each other at once (PEX makes it common) must keep the same one of
      // the two connections, or each closes the other's: the one the smaller peer id dialled.
      // Only for a fresh connection from the same address: a peer id is no secret, and anyone
      // could otherwise push an established peer out by claiming its id.
      const sameIp = s.connection.socket.remoteAddress === connection.socket.remoteAddress;
      const fresh = Date.now() - s.connectedAt < 5_000;
      const keepNew = sameIp && fresh && outgoing === compareBytes(ours, peerId) < 0;
      if (!keepNew) return 'already connected to this peer';
      s.connection.close('a second connection to this peer replaces this one');
      break;
    }
    if (this.sessions.size >= this.options.maxPeers) return 'too many peers';
    return undefined;
  }

  private bannedReason(connection: PeerConnection): string | undefined {
    for (const k of banKeys(connection)) {
      const reason = this.banned.get(k);
      if (reason) return reason;
    }
    return undefined;
  }

  /** Bans a peer: its address (on loopback, where every peer shares one, its peer id) for this torrent. */
  ban(session: PeerSession, reason: string, key = banKeys(session.connection)[0]): void {
    if (key) this.banned.set(key, reason);
    this.emit('ban', session.id, reason);
    session.connection.close(`banned: ${reason}`);
    // Its blocks in unfinished pieces cannot be trusted either: those pieces start over, or an
    // honest peer completing them would fail the hash and take the blame.
    for (const [index, assembly] of this.assembling) if (assembly.from.has(session) && assembly.count < assembly.got.length) this.discardPiece(index);
  }

  /** Forgets a partly received piece: its blocks, and our requests for the rest. */
  private discardPiece(index: number): void {
    this.resets.set(index, (this.resets.get(index) ?? 0) + 1);
    this.assembling.delete(index);
    for (const s of this.sessions.values()) {
      for (const o of [...s.outstanding.values()]) if (o.ref.index === index) s.cancel(o.ref);
    }
    this.picker.resetPiece(index);
  }

  private detach(session: PeerSession, reason: string): void {
    if (this.sessions.get(session.id) !== session) return;
    this.sessions.delete(session.id);
    for (const o of session.outstanding.values()) this.picker.released(o.ref);
    session.outstanding.clear();
    if (session.isSeed) this.picker.peerHasAll(-1);
    else for (let i = 0; i < session.bits.length; i++) if (session.bits.has(i)) this.picker.peerHas(i, -1);
    for (const ext of this.extensions.values()) ext.closed?.(session);
    this.superSeeder.closed(session);
    this.emit('peerClosed', session.id, reason);
    if (!this.stopped) {
      if (!session.amChoking) this.fillUploadSlots();
      this.fillAll();
      this.connectMore();
      this.scheduleWebSeeds(); // its pieces may now be nowhere but the edge
    }
  }

  // --- SessionHost: what one peer's messages mean for the torrent ---

  peerHas(s: PeerSession, index: number): void {
    this.picker.peerHas(index, 1);
    if (this.superSeeding) this.superSeeder.peerHas(s, index);
    if (!this.wants(index)) return;
    s.interesting++;
    s.setInterested(true);
    // Only a piece we may ask for now is worth a trip to the picker (a choking peer's haves are not).
    if (s.mayRequest(index)) this.fillRequests(s);
  }

  /**
   * Bitfield Request (`pp_bitfield`): asks every peer that offers it to resend its current
   * pieces, for a view that missed HAVEs; how many were asked. Answers add to each peer's set.
   */
  requestPeerBitfields(): number {
    let asked = 0;
    for (const s of this.sessions.values()) if (!s.connection.closed && this.bitfieldRequest.ask(s)) asked++;
    return asked;
  }

  /** Bitfield Requests we answered, and those ignored by reason. */
  get bitfieldRequests(): { answered: number; refused: Readonly<Record<string, number>> } {
    return { answered: this.bitfieldRequest.answered, refused: this.bitfieldRequest.refused };
  }

  /** pp_fetching: pieces held on peers' word, messages we sent, named pieces ignored by reason. */
  get edgeFetchNotices(): { held: number; told: number; refused: Readonly<Record<string, number>> } {
    return { held: this.edgeFetching.held, told: this.edgeFetching.told, refused: this.edgeFetching.refused };
  }

  /** Pieces a Bitfield Response names that we did not know the peer had: as if it sent HAVEs. */
  private learnPieces(s: PeerSession, have: 'all' | Uint8Array): void {
    if (s.isSeed) return;
    for (let i = 0; i < this.geometry.pieceCount; i++) {
      if ((have === 'all' || (have[i >> 3]! & (0x80 >> (i & 7))) !== 0) && s.bits.set(i)) this.peerHas(s, i);
    }
  }

  peerHasAll(s: PeerSession): void {
    this.picker.peerHasAll(1);
    if (this.complete && this.wasComplete && !this.schedule) return s.connection.close('both sides are seeds');
    this.recountInterest(s);
  }

  peerBitfield(s: PeerSession): void {
    if (this.superSeeding) this.superSeeder.recheck(s);
    s.interesting = 0;
    for (let i = 0; i < s.bits.length; i++) {
      if (!s.bits.has(i)) continue;
      this.picker.peerHas(i, 1);
      if (this.wants(i)) s.interesting++;
    }
    this.updateInterest(s);
  }

  block(s: PeerSession, ref: BlockRef, data: Uint8Array): void {
    this.stats.bytesFromPeers += data.length;
    this.downloadRate.add(data.length);
    this.peerRate.add(data.length);
    const k = ref.begin / BLOCK_LENGTH;
    const assembly = this.have.has(ref.index) ? undefined : (this.assembling.get(ref.index) ?? this.newAssembly(ref.index));
    if (!assembly || assembly.got[k]) {
      this.stats.wasted += data.length; // an endgame duplicate
    } else {
      assembly.data.set(data, ref.begin);
      assembly.got[k] = 1;
      assembly.count++;
      assembly.from.add(s);
      this.picker.received(ref);
      // Endgame: whoever else was asked for this block need not send it.
      for (const other of this.sessions.values()) if (other !== s && other.isOutstanding(ref)) other.cancel(ref);
      if (assembly.count === assembly.got.length) void this.finishPiece(ref.index, assembly);
    }
    this.fillRequests(s);
  }

  released(_s: PeerSession, refs: BlockRef[]): void {
    for (const ref of refs) this.picker.released(ref);
    this.fillAll();
  }

  canRequest(s: PeerSession): void {
    this.fillRequests(s);
  }

  peerWants(s: PeerSession): void {
    if (s.peerInterested && s.amChoking) this.fillUploadSlots(s);
    void this.serve(s);
  }

  peerLostInterest(s: PeerSession): void {
    if (!s.amChoking) this.fillUploadSlots();
  }

  /**
   * A free upload slot goes to an interested peer at once rather than at the next rechoke (up
   * to 10 s away): when a peer becomes interested (`first`, if given, is served first), and when
   * a peer holding a slot loses interest or leaves; a finished viewer hanging up would otherwise
   * leave its share of our uplink idle. A slot is held by an unchoked peer that still wants
   * data. Seeding, the peers waiting longest since their last turn come first (never-unchoked
   * first), as in the choker's round robin; downloading, those that give us the most.
   */
  private fillUploadSlots(first?: PeerSession): void {
    const sessions = [...this.sessions.values()].filter((p) => !p.connection.closed);
    let free = this.options.uploadSlots - sessions.filter((p) => !p.amChoking && p.peerInterested).length;
    if (free <= 0) return;
    const waiting = sessions.filter((p) => p.amChoking && p.peerInterested);
    const rank = this.complete ? (p: PeerSession) => -(p.unchokedAt ?? -1) : (p: PeerSession) => p.download.rate;
    waiting.sort((a, b) => (a === first ? -1 : b === first ? 1 : rank(b) - rank(a)));
    for (const p of waiting) {
      if (free-- <= 0) break;
      p.setChoking(false);
      if (p !== first) void this.serve(p);
    }
  }

  extended(s: PeerSession, name: string, payload: Uint8Array): void {
    this.extensions.get(name)?.message(s, payload);
  }

  extensionHandshake(s: PeerSession): void {
    const ip = s.connection.remoteIp;
    if (!s.listenAddress && s.extensions?.p && ip) s.listenAddress = { host: ip, port: s.extensions.p };
    // BEP 10 `yourip`: our address as this peer sees it, a vote for BEP 22 discovery.
    if (s.extensions?.yourip) this.localTracker?.observe(s.extensions.yourip, 'peer', ip);
    for (const ext of this.extensions.values()) ext.peerHandshake?.(s);
    this.emit('extensionHandshake', s);
  }

  // --- downloading ---

  /**
   * Changes which files are downloaded (every file when `files` is undefined): a layered stream
   * wants only the files of the layers it plays. Interest in each peer follows; pieces already
   * asked for still arrive.
   */
  setWantedFiles(files: number[] | undefined): void {
    const wasComplete = this.complete;
    this.wanted = this.wantedPieces(files);
    for (let i = 0; i < this.wanted.length; i++) this.picker.setWanted(i, this.wanted[i] === 1);
    for (const s of this.sessions.values()) this.recountInterest(s);
    // What we held may now be all we want (a partial seed), or no longer all of it: peers and
    // trackers hear of it either way (BEP 21 upload_only, paused / a plain announce).
    if (this.complete && !wasComplete && !this.wasComplete) this.onComplete();
    else if (!this.complete && this.wasComplete) {
      this.wasComplete = false;
      this.uploadOnlyExtension.announce(this.sessions.values());
      this.announcer.more();
    }
    this.scheduleWebSeeds();
  }

  private wants(index: number): boolean {
    return this.wanted[index] === 1 && !this.have.has(index);
  }

  /** Counts the pieces the peer has that we want, and says whether we are interested. */
  private recountInterest(s: PeerSession): void {
    s.interesting = 0;
    for (let i = 0; i < this.wanted.length; i++) if (this.wants(i) && s.hasPiece(i)) s.interesting++;
    this.updateInterest(s);
  }

  private updateInterest(s: PeerSession): void {
    s.setInterested(s.interesting > 0);
    if (s.amInterested) this.fillRequests(s);
  }

  private fillAll(): void {
    for (const s of this.sessions.values()) this.fillRequests(s);
  }

  /** Tops up the peer's request pipeline from the picker. */
  private fillRequests(s: PeerSession): void {
    if (!s.amInterested || this.stopped || s.connection.closed || this.writeBacklog > MAX_WRITE_BACKLOG) return;
    const budget = this.schedule?.requestBudget?.();
    // Under a budget each peer's share follows what it delivers (2 s of its rate, at least 2
    // blocks): a 16-block pipeline to a slow peer would hold the budget while fast peers idle.
    // A plain stream keeps about 1 s of each peer's rate asked (at least 4 blocks), not 3 s: a
    // piece that falls due waits behind everything asked of that peer before it (measured: a
    // newcomer's first pieces queued behind 10-39 requests at peers sending 60 KiB/s went to the
    // edge at their deadline; flash-crowd edge egress 1.53x against 1.75x, mean of six runs).
    const [least, seconds] = budget !== undefined ? [2, 2] : this.playback ? [STREAM_PIPELINE_MIN, STREAM_PIPELINE_SECONDS] : [undefined, 0];
    const depth = least === undefined ? s.pipelineDepth() : Math.min(s.pipelineDepth(), Math.max(least, Math.ceil((s.download.rate * seconds) / BLOCK_LENGTH)));
    // Refill in batches: asking the picker for one block per arriving block costs more than it saves.
    if (s.outstanding.size > depth - Math.max(1, depth >> 2)) return;
    let count = depth - s.outstanding.size;
    if (budget !== undefined) {
      let asked = 0;
      for (const other of this.sessions.values()) asked += other.outstanding.size;
      count = Math.min(count, Math.floor(budget / BLOCK_LENGTH) - asked);
      if (count <= 0) return;
    }
    const refs = this.picker.pick((i) => s.mayRequest(i) && this.paroleAllows(i, s), count, (ref) => s.isOutstanding(ref));
    if (refs.length === 0) return;
    for (const ref of refs) {
      const p = this.parole.get(ref.index);
      if (p && (!p.owner || p.owner.connection.closed)) p.owner = s;
    }
    // One write for the batch: a syscall per 17-byte request was the leech's largest cost.
    const socket = s.connection.socket;
    socket.cork();
    for (const ref of refs) s.request(ref);
    socket.uncork();
  }

  private newAssembly(index: number): Assembly {
    const size = this.geometry.pieceSize(index);
    const data = (size === this.geometry.pieceLength && this.spareBuffers.pop()) || new Uint8Array(size);
    const assembly = { data, got: new Uint8Array(this.geometry.blockCount(index)), count: 0, from: new Set<PeerSession>() };
    this.assembling.set(index, assembly);
    return assembly;
  }

  /**
   * A Merkle torrent's data on disk is good only as a whole: the tree rebuilt from it must end in
   * the root. (Partial Merkle downloads are not resumed: the proofs are not kept on disk.)
   */
  private async verifyMerkle(): Promise<boolean[]> {
    const hashes = await this.storage.pieceHashes(() => !this.stopped);
    const all = hashes.length === this.geometry.pieceCount && hashes.every((h) => h !== undefined);
    const ok = all && this.merkle!.adoptTree(await MerkleTree.fromPieceHashes(hashes as Uint8Array[]));
    return new Array<boolean>(this.geometry.pieceCount).fill(ok);
  }

  private async finishPiece(index: number, assembly: Assembly): Promise<void> {
    const expected = this.merkle ? await this.merkle.pieceHash(index) : this.metainfo.info.pieces[index];
    const digest = await sha1(assembly.data);
    if (this.stopped) return;
    if (!expected || !bytesEqual(digest, expected)) return this.pieceFailed(index, assembly);
    return this.storePiece(index, assembly);
  }

  /** A verified piece: written, announced to peers, and counted. */
  private async storePiece(index: number, assembly: Assembly): Promise<void> {
    this.writeBacklog += assembly.data.length;
    try {
      await this.storage.writePiece(index, assembly.data);
    } catch (err) {
      if (this.stopped) return;
      this.emit('warning', `cannot write piece ${index}: ${(err as Error).message}`);
      this.assembling.delete(index);
      this.picker.resetPiece(index);
      return;
    } finally {
      this.writeBacklog -= assembly.data.length;
    }
    if (this.stopped) return;
    this.assembling.delete(index);
    // Fresh pieces are what the swarm asks for next, but only worth memory when someone asks.
    if ([...this.sessions.values()].some((s) => s.peerInterested)) this.cache.put(index, assembly.data);
    else this.recycle(assembly.data);
    this.stats.verifiedDownloaded += assembly.data.length;
    this.markHave(index);
    for (const s of this.sessions.values()) s.send({ type: 'have', index });
    this.emit('piece', index);
    this.parole.delete(index);
    if (this.complete && !this.wasComplete) this.onComplete();
    else {
      this.fillAll();
      this.scheduleWebSeeds();
    }
  }

  private markHave(index: number): void {
    if (!this.have.set(index)) return;
    this.picker.markHave(index);
    if (!this.wanted[index]) return;
    for (const s of this.sessions.values()) {
      if (!s.hasPiece(index)) continue;
      s.interesting--;
      if (s.interesting <= 0) s.setInterested(false);
    }
  }

  private recycle(buffer: Uint8Array): void {
    if (buffer.length === this.geometry.pieceLength && this.spareBuffers.length < 8) this.spareBuffers.push(buffer);
  }

  /**
   * A piece failed its hash. When one peer sent all of it, that peer is to blame: two strikes
   * (kept by ban key, so reconnecting does not clear them). When several did, nobody can tell
   * who lied: no strikes, and the piece goes on parole, fetched next time from one peer only, so
   * that a repeat failure has a single culprit. (Blaming every contributor would let a peer that
   * spoils one block per piece get the honest seed that completed those pieces banned.)
   */
  private pieceFailed(index: number, assembly: Assembly): void {
    this.resets.set(index, (this.resets.get(index) ?? 0) + 1);
    this.assembling.delete(index);
    this.recycle(assembly.data);
    this.picker.resetPiece(index);
    this.stats.hashFailures++;
    this.stats.wasted += assembly.data.length;
    this.emit('hashFailed', index);
    if (assembly.from.size !== 1) {
      this.parole.set(index, {});
      return this.fillAll();
    }
    this.parole.delete(index);
    const [culprit] = assembly.from;
    const [k] = banKeys(culprit!.connection);
    const strikes = (k ? (this.strikes.get(k) ?? 0) : culprit!.strikes) + 2;
    if (k) this.strikes.set(k, strikes);
    culprit!.strikes = strikes;
    if (strikes >= this.options.maxStrikes) this.ban(culprit!, `sent pieces that failed the hash check (last: piece ${index})`, k);
    this.fillAll();
  }

  /** May this peer take blocks of piece i? Not when the piece is on parole with another peer. */
  private paroleAllows(i: number, s: PeerSession): boolean {
    const p = this.parole.get(i);
    return !p || !p.owner || p.owner === s || p.owner.connection.closed;
  }

  private onComplete(): void {
    this.wasComplete = true;
    this.emit('done');
    // A whole download is `completed`; a partial seed re-announces at once, as `paused` (BEP 21).
    if (this.have.count === this.geometry.pieceCount) {
      this.announcer.completed();
      this.localTracker?.completed();
    } else {
      this.announcer.paused();
      this.localTracker?.paused();
    }
    this.uploadOnlyExtension.announce(this.sessions.values());
    // Two seeds, or upload-only peers, have nothing to trade; unless a stream is playing, which
    // may want more of them in a moment (a layered player moving up a layer).
    if (this.schedule) return;
    for (const s of this.sessions.values()) if (s.isSeed || s.bits.complete || s.uploadOnly) s.connection.close('both sides are seeds or upload-only');
  }

  // --- the edge: web seeds ---

  /**
   * Streaming: the player reads byte `offset` of the torrent and plays `bytesPerSecond`. Pieces
   * from there on get deadlines (when playback reaches them) and lead the picker (refreshFocus);
   * those due within the margin are fetched from the edge if no peer has delivered them.
   */
  setPlayback(offset: number, bytesPerSecond: number, windowBytes = this.playbackWindow(bytesPerSecond)): void {
    if (!(bytesPerSecond > 0)) throw new RangeError('a playback rate must be above 0 bytes a second');
    // A fresh stream plays once the player has buffered: deadlines count from then.
    const startup = this.playback ? 0 : this.policy.startupMs;
    this.schedule = undefined;
    this.playback = { offset, bytesPerSecond, at: Date.now() + startup, windowBytes, order: [] };
    this.refreshFocus(Date.now());
    this.preemptForFocus();
    this.fillAll();
    this.scheduleWebSeeds();
  }

  /**
   * Streaming by an outside schedule (the layered player): its pieces lead the picker and get its
   * deadlines; undefined ends it. Replaces `setPlayback`.
   */
  setSchedule(schedule: DeadlineSchedule | undefined): void {
    this.playback = undefined;
    this.schedule = schedule;
    if (!schedule) return this.clearPlayback();
    this.refreshFocus(Date.now());
    this.preemptForFocus();
    this.fillAll();
    this.scheduleWebSeeds();
  }

  /**
   * Streaming: a request waits behind every request queued at the peer before it, and a slow
   * peer's queue is seconds long (at least 16 blocks: 2.5 s at 100 KiB/s). For each peer, the
   * most urgent window piece it can give us (queued there, or asked of nobody) is found; the
   * requests standing before it for less urgent pieces (outside the window, or later in its
   * in-order head) are withdrawn, all but the few likely on the wire already, and the refill asks
   * again in the picker's order. The part of the window taken rarest first ranks as one: ranked
   * by position, its rare late pieces were cancelled every second for earlier common ones and
   * asked again by the next refill. A peer whose queue drains quickly is left alone: cancelling
   * would waste its bytes.
   */
  private preemptForFocus(): void {
    const order = this.focusOrder;
    const rank = new Map(order.map((i, n) => [i, n]));
    const rankOf = (i: number) => {
      const r = rank.get(i);
      return r === undefined ? Infinity : Math.min(r, this.focusHead);
    };
    const free = order.filter((i) => this.wants(i) && this.picker.hasFreeBlocks(i));
    for (const s of this.sessions.values()) {
      if (s.connection.closed) continue;
      const queue = [...s.outstanding.values()]; // oldest first
      let target = Infinity;
      let at = queue.length; // a free piece would be asked for at the end
      for (const [k, o] of queue.entries()) {
        if (rankOf(o.ref.index) < target) [target, at] = [rankOf(o.ref.index), k];
      }
      const room = free.find((i) => s.mayRequest(i));
      if (room !== undefined && rankOf(room) < target) [target, at] = [rankOf(room), queue.length];
      if (target === Infinity) continue;
      const rate = Math.max(s.download.rate, BLOCK_LENGTH);
      const onTheWire = Math.max(2, Math.ceil((rate * ON_THE_WIRE_S) / BLOCK_LENGTH));
      const ahead = queue.slice(0, at).filter((o) => rankOf(o.ref.index) > target);
      if ((ahead.length * BLOCK_LENGTH) / rate < PREEMPT_QUEUE_S) continue;
      for (const { ref } of queue.slice(onTheWire, at).filter((o) => rankOf(o.ref.index) > target)) {
        s.cancel(ref);
        this.picker.released(ref);
      }
    }
  }

  /**
   * Resolves once piece `index` is verified (at once if it is); rejects if the torrent stops or
   * `signal` aborts (a player that went away), leaving no listener behind.
   */
  whenHave(index: number, signal?: AbortSignal): Promise<void> {
    if (this.have.has(index)) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error('the torrent stopped'));
    if (signal?.aborted) return Promise.reject(new Error('aborted'));
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        this.off('piece', onPiece);
        this.off('stopped', onStop);
        signal?.removeEventListener('abort', onAbort);
      };
      const onPiece = (i: number) => {
        if (i !== index) return;
        cleanup();
        resolve();
      };
      const onStop = () => {
        cleanup();
        reject(new Error('the torrent stopped'));
      };
      const onAbort = () => {
        cleanup();
        reject(new Error('aborted'));
      };
      this.on('piece', onPiece);
      this.once('stopped', onStop);
      signal?.addEventListener('abort', onAbort);
    });
  }

  /** Bytes of a verified piece (through the upload cache); undefined if no longer on disk. */
  readPiece(index: number, begin: number, length: number): Promise<Uint8Array | undefined> {
    return this.cache.read(index, begin, length);
  }

  /**
   * How far ahead of playback pieces lead the picker: three deadline margins of playback, at
   * least 4 pieces; those due within IN_ORDER_MARGINS deadline margins in order, the rest of it
   * rarest first (refreshFocus). Beyond it, rarest first as well, which keeps a crowd of viewers
   * holding different pieces to trade.
   */
  private playbackWindow(bytesPerSecond: number): number {
    const margin = this.policy.deadlineMarginMs;
    return Math.max(MIN_WINDOW_PIECES * this.geometry.pieceLength, (3 * margin * bytesPerSecond) / 1000);
  }

  /** Playback time held contiguously from the playback position (ms). */
  private bufferedMs(now = Date.now()): number {
    const p = this.playback!;
    const position = this.playbackPosition(now);
    let i = Math.floor(position / this.geometry.pieceLength);
    while (i < this.geometry.pieceCount && this.have.has(i)) i++;
    const held = Math.min(this.geometry.totalLength, i * this.geometry.pieceLength) - position;
    // Before playback starts (the player's startup buffer) the wait counts as buffered too.
    return Math.max(0, (held / p.bytesPerSecond) * 1000 + Math.max(0, p.at - now));
  }

  /** Where playback should be now: from where it was set, at its rate, once it has started. */
  private playbackPosition(now: number): number {
    const p = this.playback!;
    return Math.min(this.geometry.totalLength - 1, p.offset + (Math.max(0, now - p.at) / 1000) * p.bytesPerSecond);
  }

  clearPlayback(): void {
    this.playback = undefined;
    this.schedule = undefined;
    this.focusOrder = [];
    this.focusHead = Infinity;
    this.picker.setFocus([]);
  }

  /**
   * Playback moves on at its rate between calls: the window follows where it should be now and
   * drops the pieces held; the pieces of it due within IN_ORDER_MARGINS deadline margins (at
   * least 4) go to the picker in order, the rest rarest first.
   */
  private refreshFocus(now: number): void {
    if (this.schedule) {
      this.focusOrder = this.schedule.order(now);
      this.focusHead = Infinity;
      this.picker.setFocus(this.focusOrder.filter((i) => this.wants(i)), 2, this.schedule.exclusive === true);
      if (this.schedule.exclusive) this.dropStrayPieces();
      return;
    }
    const p = this.playback!;
    const position = this.playbackPosition(now);
    const first = Math.floor(position / this.geometry.pieceLength);
    const last = Math.min(this.geometry.pieceCount - 1, Math.floor((position + p.windowBytes) / this.geometry.pieceLength));
    p.order = [];
    for (let i = first; i <= last; i++) p.order.push(i);
    this.focusOrder = p.order;
    const wanted = p.order.filter((i) => this.wants(i));
    const inOrderMs = IN_ORDER_MARGINS * this.policy.deadlineMarginMs;
    let inOrder = 0;
    while (inOrder < wanted.length && this.dueAt(wanted[inOrder]!) - now < inOrderMs) inOrder++;
    inOrder = Math.max(inOrder, Math.min(wanted.length, MIN_WINDOW_PIECES));
    this.focusHead = inOrder < wanted.length ? wanted[inOrder]! - first : Infinity; // p.order runs first..last
    this.picker.setFocus(wanted, 2, false, inOrder);
  }

  /** When playback reaches piece i (ms), at the rate it plays. */
  private dueAt(i: number): number {
    const p = this.playback!;
    const start = i * this.geometry.pieceLength;
    return p.at + Math.max(0, (start - p.offset) / p.bytesPerSecond) * 1000;
  }

  /** Fills every free web-seed slot with a piece the policy gives the edge, if any. */
  private scheduleWebSeeds(): void {
    if (this.stopped || !this.ready || this.webSeeds.length === 0 || this.complete) return;
    const now = Date.now();
    const policy = this.schedule ? this.schedulePolicy : this.policy;
    const perSeed = policy.requestsPerSeed;
    const fetches = this.webFetches;
    const view = {
      now,
      startedAt: this.startedAt,
      pieceCount: this.geometry.pieceCount,
      // Not a piece whose blocks are all in and being checked or written.
      wants: (i: number) => this.wants(i) && !this.allReceived(i),
      // A stream counts only the peers that would send the piece now: a piece that only peers
      // choking us hold is as missing as one nobody holds (measured: late joiners on fast links,
      // choked by a crowd with nothing to trade, waited on the tit-for-tat for tens of seconds
      // while the edge stood idle). Downloads wait for an unchoke, as BitTorrent does.
      rarity: this.schedule?.exclusive ? memo((i: number) => this.reachableRarity(i)) : (i: number) => this.picker.rarity(i),
      started: (i: number) => this.picker.isStarted(i),
      fetching: (i: number) => this.webFetches.has(i),
      coming: (i: number) => this.edgeFetching.holds(i, now),
      peerRate: this.peerRate.rate,
      starved: ![...this.sessions.values()].some((s) => s.outstanding.size > 0),
      get edgeInFlight() {
        return fetches.size;
      },
      random: Math.random,
      ...this.streamView(now),
    };
    try {
      for (const seed of this.webSeeds) {
        while (seed.usable(now) && seed.inFlight + seed.checking < perSeed) {
          const pick = pickEdgePiece(view, policy);
          if (!pick) return;
          this.fetchFromWebSeed(seed, pick.index, pick.reason);
        }
      }
    } finally {
      // One pp_fetching per peer for the pass's new fetches, before their HAVEs can follow.
      this.edgeFetching.flush(this.sessions.values());
    }
  }

  /** Connected peers that hold piece i and would take our request for it now. */
  private reachableHolders(i: number): number {
    let n = 0;
    for (const s of this.sessions.values()) if (!s.connection.closed && s.mayRequest(i)) n++;
    return n;
  }

  /**
   * reachableHolders, and a piece a peer would send us restarts its wait before the edge: with
   * chokes coming and going, a piece can go missing again long after it first did, and an old
   * start would let the whole crowd fetch it at once.
   */
  private reachableRarity(i: number): number {
    const n = this.reachableHolders(i);
    if (n > 0) this.unavailableSince.delete(i);
    return n;
  }

  /**
   * An exclusive schedule never finishes a piece it has left behind (the window passed it, or a
   * layer was dropped): a partly received piece nobody is sending any more is let go, its buffer
   * with it, rather than kept for the life of the torrent.
   */
  private dropStrayPieces(): void {
    if (this.assembling.size === 0) return;
    const keep = new Set(this.focusOrder);
    for (const index of this.webFetches.keys()) keep.add(index);
    for (const s of this.sessions.values()) for (const o of s.outstanding.values()) keep.add(o.ref.index);
    for (const [index, assembly] of [...this.assembling]) {
      if (keep.has(index) || assembly.count === assembly.got.length) continue;
      this.assembling.delete(index);
      this.picker.resetPiece(index);
      this.recycle(assembly.data);
    }
  }

  /** What the source policy sees of the stream: pieces with deadlines, in order. */
  private streamView(now: number): { stream?: { order: number[]; due(i: number): number; rate: number; bufferedMs: number }; only?: number[] } {
    if (this.playback) return { stream: { order: this.playback.order, due: (i: number) => this.dueAt(i), rate: this.playback.bytesPerSecond, bufferedMs: this.bufferedMs() } };
    const schedule = this.schedule;
    if (!schedule) return {};
    const order = this.focusOrder.filter((i) => Number.isFinite(schedule.due(i)));
    // Ranks for this scheduling pass: each is a walk over the sessions, asked for again and again.
    const upload = this.context.uploadLimiter?.bytesPerSecond ?? INJECT_REFERENCE_UPLOAD;
    const slowUpstream = Math.min(3, Math.max(0, Math.log2(INJECT_REFERENCE_UPLOAD / upload)));
    const rank = memo((i: number) => this.injectRank(i) + slowUpstream);
    return {
      stream: { order, due: (i: number) => schedule.due(i), rate: schedule.rate(), bufferedMs: schedule.bufferedMs(now) },
      ...(schedule.exclusive ? { only: this.focusOrder, unavailableReady: (i: number) => this.unavailableReady(i, now, rank), injectRank: rank } : {}),
    };
  }

  /**
   * A piece no peer has goes to the edge from one viewer of the crowd, not from every viewer
   * at the same point (measured: each such piece fetched 3 times over with random waits of up to
   * 2 s). Every peer ranks the piece's rivals the same way, by a hash of the piece and each peer
   * id (rendezvous hashing): the connected peers that lack the piece and, on a layered asset,
   * play or probe its layer by their LAYER-CHANGE. The first fetches at once; each later rank
   * waits INJECT_RANK_MS (by deadline or not) more since it first saw the piece missing, so a rival that does not
   * want the piece, or is slow, costs a short wait, not the piece.
   */
  private unavailableReady(i: number, now: number, rank: (i: number) => number): boolean {
    let since = this.unavailableSince.get(i);
    if (since === undefined) {
      if (this.unavailableSince.size > 4096) this.unavailableSince.clear();
      this.unavailableSince.set(i, (since = now));
    }
    const step = Number.isFinite(this.schedule?.due(i) ?? Infinity) ? INJECT_RANK_MS.deadline : INJECT_RANK_MS.other;
    return now - since >= rank(i) * step;
  }

  /**
   * Our rank among the rivals for fetching piece i from the edge (see unavailableReady), before
   * the slow-upstream handicap that streamView adds once per pass.
   */
  private injectRank(i: number): number {
    const layer = this.schedule?.layerOf?.(i);
    const rivals: Uint8Array[] = [];
    for (const s of this.sessions.values()) {
      const id = s.connection.remote?.peerId;
      if (!id || s.connection.closed || s.isSeed || s.uploadOnly || s.bits.has(i)) continue;
      // A peer on layer L fetches layers up to L + 1 (its probe); silent peers count.
      if (layer !== undefined && s.peerLayer !== undefined && s.peerLayer + 1 < layer) continue;
      rivals.push(id);
    }
    // A piece a peer holds (one that chokes us, or we would not be asking) is in the crowd
    // already: never first to fetch it, so never beside other edge fetches.
    const held = this.picker.rarity(i) > 0 ? 1 : 0;
    return rankAmong(i, this.context.connection.peerId, rivals) + held;
  }


  private allReceived(i: number): boolean {
    const a = this.assembling.get(i);
    return a !== undefined && a.count === a.got.length;
  }

  private fetchFromWebSeed(seed: WebSeed, index: number, reason: EdgeReason): void {
    const fetch: WebFetch = { seed, abort: new AbortController(), refs: this.picker.reservePiece(index), resets: this.resets.get(index) ?? 0 };
    const release = () => {
      // Reservations made before the piece started over belong to nobody now.
      if ((this.resets.get(index) ?? 0) === fetch.resets) for (const ref of fetch.refs) this.picker.released(ref);
    };
    this.webFetches.set(index, fetch);
    this.edgeFetching.fetching(index);
    seed.fetchPiece(index, fetch.abort.signal).then(
      (data) => {
        if (this.stopped) return;
        // Still "fetching" while its hash is checked, so no other seed is sent for it meanwhile.
        if (!seed.dropped) return void this.webSeedPiece(seed, index, data, reason, release);
        this.webFetches.delete(index);
        // Dropped while this was in flight: its bytes are not trusted.
        this.stats.bytesFromWebSeeds += data.length;
        this.stats.wasted += data.length;
        release();
        this.scheduleWebSeeds();
      },
      (err: Error) => {
        this.webFetches.delete(index);
        if (this.stopped) return;
        release();
        this.emit('warning', `web seed ${seed.url}: piece ${index}: ${err.message}`);
        this.fillAll();
        this.scheduleWebSeeds();
      },
    );
  }

  /**
   * A whole piece from a web seed, checked on its own: a seed's bytes that fail the hash drop
   * the seed (whatever peers sent for the piece is not to blame); bytes that pass become the
   * piece, and peers still sending blocks of it are cancelled. A piece already complete (held,
   * or all in and being checked) makes the seed's copy a waste, not a second finish.
   */
  private async webSeedPiece(seed: WebSeed, index: number, data: Uint8Array, reason: EdgeReason, release: () => void): Promise<void> {
    this.stats.bytesFromWebSeeds += data.length;
    this.downloadRate.add(data.length);
    const expected = this.metainfo.info.pieces[index];
    seed.checking++;
    const good = expected !== undefined && bytesEqual(await sha1(data), expected);
    seed.checking--;
    this.webFetches.delete(index);
    if (this.stopped) return;
    if (!good) {
      this.stats.hashFailures++;
      this.stats.wasted += data.length;
      this.emit('hashFailed', index);
      seed.drop(`sent piece ${index}, which failed the hash check`);
      this.emit('warning', `web seed ${seed.url} dropped: piece ${index} failed the hash check`);
      release();
      this.fillAll();
      return this.scheduleWebSeeds();
    }
    const current = this.assembling.get(index);
    if (this.have.has(index) || (current && current.count === current.got.length)) {
      this.stats.wasted += data.length;
      return this.scheduleWebSeeds();
    }
    this.edgePieces[reason]++;
    const assembly = current ?? this.newAssembly(index);
    for (let k = 0; k < assembly.got.length; k++) {
      const ref = { index, begin: k * BLOCK_LENGTH, length: this.geometry.blockSize(index, k) };
      if (assembly.got[k]) this.stats.wasted += ref.length; // a peer's copy, replaced by the checked one
      else this.picker.received(ref);
      for (const s of this.sessions.values()) if (s.isOutstanding(ref)) s.cancel(ref);
    }
    assembly.data.set(data);
    assembly.got.fill(1);
    assembly.count = assembly.got.length;
    assembly.from.clear(); // no peer's block is in it now
    void this.storePiece(index, assembly); // hashed above already
    this.scheduleWebSeeds();
  }

  // --- uploading ---

  /** Sends queued blocks to the peer while its socket keeps up. */
  private async serve(s: PeerSession): Promise<void> {
    if (s.serving) return;
    s.serving = true;
    try {
      const socket = s.connection.socket;
      while (s.incoming.length > 0 && !s.connection.closed) {
        if (socket.writableLength > SOCKET_HIGH_WATER) {
          if (!s.awaitingDrain) {
            s.awaitingDrain = true;
            socket.once('drain', () => {
              s.awaitingDrain = false;
              void this.serve(s);
            });
          }
          return;
        }
        const r = s.incoming.shift()!;
        let block: Uint8Array | undefined;
        try {
          block = await this.cache.read(r.index, r.begin, r.length);
        } catch (err) {
          // A disk error fails this request, not the process.
          this.emit('warning', `cannot read piece ${r.index}: ${(err as Error).message}`);
          block = undefined;
        }
        if (!block) {
          this.emit('warning', `piece ${r.index} is no longer readable on disk`);
          if (s.fast) s.send({ type: 'rejectRequest', index: r.index, begin: r.begin, length: r.length });
          continue;
        }
        // The client's upload cap (a home link's upstream) paces every block it sends.
        if (this.context.uploadLimiter) await this.context.uploadLimiter.take(r.length);
        if (s.connection.closed) break;
        if (this.merkle) {
          // BEP 30: blocks go as Tr_hashpiece, the first of a piece with the hashes that prove it.
          const hashes = r.begin === 0 ? this.merkle.hashList(r.index) : [];
          if (!hashes || !sendExtended(s, 'Tr_hashpiece', encodeHashPiece({ index: r.index, begin: r.begin, hashes, block }))) {
            if (s.fast) s.send({ type: 'rejectRequest', index: r.index, begin: r.begin, length: r.length });
            continue;
          }
        } else s.send({ type: 'piece', index: r.index, begin: r.begin, block });
        s.upload.add(r.length);
        this.uploadRate.add(r.length);
        this.stats.uploaded += r.length;
      }
    } finally {
      s.serving = false;
    }
  }

  private async grantAllowedFast(s: PeerSession): Promise<void> {
    const ip = parseIPv4(s.connection.remoteIp);
    if (!s.fast || !ip || this.geometry.pieceCount <= ALLOWED_FAST_COUNT) return;
    s.grantAllowedFast(await allowedFastSet(ip, this.infoHash, this.geometry.pieceCount, ALLOWED_FAST_COUNT));
  }

  private rechoke(now: number): void {
    const peers = [...this.sessions.values()].map((s) => ({
      id: s.id,
      interested: s.peerInterested,
      downloadRate: s.download.rate,
      uploadRate: s.upload.rate,
      connectedAt: s.connectedAt,
      weWant: s.amInterested,
      unchoked: !s.amChoking,
      ...(s.unchokedAt !== undefined ? { unchokedAt: s.unchokedAt } : {}),
      ...(s.lastBlockAt !== undefined ? { lastBlockAt: s.lastBlockAt } : {}),
    }));
    const unchoked = this.choker.rechoke(peers, now, this.complete);
    for (const s of this.sessions.values()) {
      s.setChoking(!unchoked.has(s.id));
      if (!s.amChoking) void this.serve(s);
    }
  }

  // --- housekeeping ---

  private tick(): void {
    const now = Date.now();
    for (const s of this.sessions.values()) {
      const expired = s.expireRequests(now, this.options.requestTimeoutMs);
      if (expired.length) this.released(s, expired);
    }
    if (this.superSeeding) this.superSeeder.tick(now);
    for (const ext of this.extensions.values()) {
      try {
        ext.tick?.(now, this.sessions.values());
      } catch (err) {
        this.emit('warning', `${ext.name}: ${(err as Error).message}`); // never the process
      }
    }
    if (now - this.lastDhtAnnounce >= DHT_ANNOUNCE_MS) this.announceToDht();
    if (this.playback || this.schedule) {
      this.refreshFocus(now);
      this.preemptForFocus();
    }
    this.scheduleWebSeeds();
    if (now - this.lastRechoke >= RECHOKE_MS) {
      this.lastRechoke = now;
      this.rechoke(now);
    }
    this.fillAll();
    this.connectMore();
  }

  private connectMore(): void {
    if (this.stopped || !this.started) return;
    const now = Date.now();
    // A peer that dialled us came from an ephemeral port; the address a tracker or PEX gives for
    // it is its listen address (BEP 10 `p`), and dialling that made a second connection to it.
    const connected = new Set<string>();
    for (const s of this.sessions.values()) {
      connected.add(peerKey(s.connection.remoteIp, s.connection.socket.remotePort ?? 0));
      if (s.listenAddress) connected.add(peerKey(s.listenAddress.host, s.listenAddress.port));
    }
    for (const peer of this.known.values()) {
      if (this.sessions.size + this.halfOpen >= this.options.maxPeers || this.halfOpen >= this.options.maxHalfOpen) return;
      const id = peerKey(peer.host, peer.port);
      if (peer.connecting || peer.nextTry > now || connected.has(id) || this.banned.has(peer.host)) continue;
      if (peer.seed && this.uploadOnly && !this.schedule) continue; // BEP 21: two upload-only peers have nothing to say
      // A finished download does not dial peers that cannot want anything from it... unknown until
      // their bitfield, so seeds dial too; two seeds hang up on each other after the bitfields.
      this.dial(peer);
    }
  }

  private dial(peer: KnownPeer): void {
    peer.connecting = true;
    this.halfOpen++;
    const connection = PeerConnection.connect(peer.host, peer.port, this.infoHash, this.context.connection);
    let opened = false;
    const settle = () => {
      if (!peer.connecting) return;
      peer.connecting = false;
      this.halfOpen--;
    };
    connection.once('handshake', () => {
      opened = true;
      settle();
      peer.failures = 0;
      this.attach(connection, peer);
    });
    connection.once('close', (reason: string) => {
      settle();
      if (reason === 'connected to ourselves') {
        peer.nextTry = Infinity; // our own address, handed back by a tracker
        return;
      }
      if (reason.startsWith('both sides are seeds')) peer.seed = true; // no point redialling it while we seed
      // Unreachable or refused: try again later, less and less often. A peer that did talk may be
      // redialled after a pause (it may have restarted).
      peer.failures = opened ? 0 : peer.failures + 1;
      peer.nextTry = Date.now() + Math.min(30_000 * 2 ** peer.failures, 30 * 60_000);
      if (!this.stopped) setImmediate(() => this.connectMore());
    });
  }

  // --- extension handshake and selective download ---

  private ourExtensionIds(): Map<string, number> {
    return new Map([...this.extensions.keys()].map((name) => [name, LOCAL_EXTENSION_IDS[name]!]));
  }

  private ourExtensionHandshake(connection: PeerConnection): ExtensionHandshake {
    // BEP 10 `yourip`: the peer learns its address as we see it (4 or 16 bytes).
    const ip = connection.remoteIp;
    const yourip = parseIPv4(ip) ?? parseIPv6(ip);
    const fields = Object.assign({}, ...[...this.extensions.values()].map((e) => e.handshakeFields?.() ?? {})) as Partial<ExtensionHandshake>;
    return {
      ...fields,
      m: this.ourExtensionIds(),
      v: this.context.clientName,
      p: this.context.port(),
      reqq: MAX_INCOMING_REQUESTS,
      ...(yourip ? { yourip } : {}),
    };
  }

  private wantedPieces(files: number[] | undefined): Uint8Array {
    const n = this.geometry.pieceCount;
    if (!files) return new Uint8Array(n).fill(1);
    const wanted = new Uint8Array(n);
    const all = this.metainfo.info.files;
    for (const index of files) {
      const f = all[index];
      if (!f) throw new RangeError(`file index ${index} is out of range (the torrent has ${all.length} files)`);
      if (f.length === 0 || f.padding) continue;
      const first = Math.floor(f.offset / this.geometry.pieceLength);
      const last = Math.floor((f.offset + f.length - 1) / this.geometry.pieceLength);
      for (let i = first; i <= last; i++) wanted[i] = 1;
    }
    return wanted;
  }
}

/** What identifies a peer for banning: its IP, but on loopback (one IP for all) its peer id. */
function banKeys(connection: PeerConnection): string[] {
  const ip = connection.remoteIp;
  const loopback = ip.startsWith('127.') || ip === '::1';
  const peerId = connection.remote ? toHex(connection.remote.peerId) : undefined;
  if (loopback) return peerId ? [`peer:${peerId}`] : [];
  return [ip, ...(peerId ? [`peer:${peerId}`] : [])];
}

/** f, remembered per argument: for answers asked for again and again within one pass. */
function memo(f: (i: number) => number): (i: number) => number {
  const seen = new Map<number, number>();
  return (i) => {
    let v = seen.get(i);
    if (v === undefined) seen.set(i, (v = f(i)));
    return v;
  };
}
