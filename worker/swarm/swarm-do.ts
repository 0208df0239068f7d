import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env.js';
import { swarmConfig } from '../config.js';
import { bumpProbe, ensureProbeTable } from '../storage-probe.js';
import { TrackerError } from '../../shared/errors.js';
import type { AnnounceParams } from '../../shared/tracker/announce-params.js';
import type { GetPeerParams } from '../../shared/tracker/http-query.js';
import type { ScrapeCounts } from '../../shared/tracker/http-response.js';
import { type PeerRecord, type SwarmAnnounceResult, SwarmRules, type SwarmSample } from './swarm-rules.js';
import { compactPeers, httpAnnounceBody } from './swarm-response.js';
import type { LayerSummary } from './layer-state.js';
import { swarmDirectory } from './swarm-directory-do.js';
import { toHex } from '../../shared/bytes.js';
import { TrafficSeries, SAMPLE_BUCKET_MS, type TrafficSample } from '../stats/traffic-series.js';
import { offloadOf, type SwarmStats } from '../stats/swarm-stats.js';
import { summarizePeers } from '../stats/peer-summary.js';

/** How long a plain re-announce may wait in memory before it is written (ms). */
const FLUSH_DELAY_MS = 2_000;
/** Peers of each kind in a snapshot handed to Worker isolates. */
const SNAPSHOT_PEERS = 200;
/** How often silent peers are looked for at most (ms). */
const SWEEP_EVERY_MS = 30_000;
/** A failed listing in the swarm directory is tried again after this long (ms). */
const LIST_RETRY_MS = 60_000;
/** The swarm reports its peer count to the directory at most this often, when it changed (ms)... */
const REPORT_EVERY_MS = 5 * 60_000;
/** ...and at least this often while it has peers, so the directory does not drop a steady swarm (ms). */
const REPORT_ANYWAY_MS = 60 * 60_000;

/** What the Worker tells the swarm about who is asking. */
export interface AnnounceAccess {
  /** `registered`: only torrents registered through the API are tracked. */
  mode: 'open' | 'registered';
  /** The passkey's user, when the announce came through a valid passkey URL. */
  user?: string;
}

/**
 * A refusal, to be sent as BEP 3 `failure reason` / BEP 15 error with BEP 31 `retry in`.
 * `reason` says which access rule refused (counted by the route); absent for the rest.
 */
export interface SwarmRefusal {
  ok: false;
  failure: string;
  retryIn?: number | 'never';
  reason?: 'unregistered' | 'private';
}

/**
 * What a Worker isolate may answer plain re-announces from for a second: counts, timing and a
 * random sample of the swarm. Only offered for swarms anyone may announce to (not private).
 */
export interface SwarmSnapshot extends SwarmSample {
  counts: ScrapeCounts;
  interval: number;
  minInterval: number;
}

/** The bencoded HTTP answer, made here so that only bytes cross the RPC boundary. */
export type HttpSwarmAnswer = { ok: true; body: Uint8Array; snapshot?: SwarmSnapshot } | SwarmRefusal;

/** What a BEP 15 answer needs: counts, interval and the compact peers of the asker's family. */
export type UdpSwarmAnswer = { ok: true; counts: ScrapeCounts; interval: number; peers: Uint8Array } | SwarmRefusal;

/**
 * One swarm: one object per info-hash (`idFromName(hex)`), SQLite-backed. The rules live in
 * SwarmRules (memory); this adapter loads them once, writes membership changes at once and
 * plain re-announces in batches, and expires silent peers from its alarm.
 */
export class Swarm extends DurableObject<Env> {
  private readonly rules: SwarmRules;
  private registered = false;
  private isPrivate = false;
  /** Peers whose latest announce is not yet written. */
  private readonly dirty = new Map<string, PeerRecord>();
  /** The alarm time we last set (mirrors storage, so announces need no getAlarm round trip). */
  private alarmAt: number | null | undefined;
  private alarmChain: Promise<void> = Promise.resolve();
  /** The info-hash (hex), learnt from the first announce or edge-seed report. */
  private hex: string | undefined;
  /** Listed in the swarm directory (stored: one listing per swarm life, not per announce). */
  private listed = false;
  private listing = false;
  private listTriedAt = 0;
  private reportedPeers: number | undefined;
  private reportedAt = 0;
  /** Bytes the edge seed sent for this torrent (cumulative, stored). */
  private edgeBytes = 0;
  /** Rises of `uploaded` from re-announces not yet written, per peer: not yet in the stored peer_bytes. */
  private readonly unwrittenUploads = new Map<string, number>();
  private unwrittenUploaded = 0;
  private readonly series: TrafficSeries;
  /** The latest sample has figures not yet written; `keptFrom` when older samples fell out. */
  private sampleDirty = false;
  private sampleKeptFrom: number | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.rules = new SwarmRules(swarmConfig(env));
    const sql = ctx.storage.sql;
    ensureProbeTable(sql);
    sql.exec(`CREATE TABLE IF NOT EXISTS peers (
      peer_id TEXT PRIMARY KEY, addresses TEXT NOT NULL, left_bytes INTEGER NOT NULL,
      uploaded INTEGER NOT NULL, downloaded INTEGER NOT NULL, paused INTEGER NOT NULL,
      completed INTEGER NOT NULL, last_seen INTEGER NOT NULL, peer_key TEXT, user TEXT)`);
    sql.exec('CREATE TABLE IF NOT EXISTS swarm (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    // The dashboard's time series: at most MAX_SAMPLES rows, one per 10 s bucket.
    sql.exec(`CREATE TABLE IF NOT EXISTS samples (
      t INTEGER PRIMARY KEY, seeds INTEGER NOT NULL, leechers INTEGER NOT NULL, edge_bytes INTEGER NOT NULL, peer_bytes INTEGER NOT NULL)`);
    // The layer column came with layered streaming: added to the peers tables of objects made
    // before it (and of new ones, created from the same statement above).
    if (!sql.exec<{ name: string }>('PRAGMA table_info(peers)').toArray().some((c) => c.name === 'layer')) {
      sql.exec('ALTER TABLE peers ADD COLUMN layer INTEGER');
    }
    // PUT-LAYER: one row. The summary columns are what announces need, so that a restart does
    // not parse up to a megabyte of JSON; the JSON itself is read only by GET-LAYER.
    sql.exec(`CREATE TABLE IF NOT EXISTS layer_info (
      id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL, layer_count INTEGER NOT NULL, mode TEXT NOT NULL)`);
    const summary = sql.exec<{ layer_count: number; mode: string }>('SELECT layer_count, mode FROM layer_info').toArray()[0];
    if (summary) this.rules.layers.summary = { layers: summary.layer_count, mode: summary.mode === 'simulcast' ? 'simulcast' : 'cumulative' };
    const meta = new Map(sql.exec<{ key: string; value: string }>('SELECT key, value FROM swarm').toArray().map((r) => [r.key, r.value]));
    this.registered = meta.get('registered') === '1';
    this.isPrivate = meta.get('private') === '1';
    this.hex = meta.get('info_hash');
    this.listed = meta.get('listed') === '1';
    this.edgeBytes = Number(meta.get('edge_bytes') ?? 0);
    this.rules.edgeSeedUntil = Number(meta.get('edge_seed_until') ?? 0);
    this.series = new TrafficSeries(
      sql
        .exec<{ t: number; seeds: number; leechers: number; edge_bytes: number; peer_bytes: number }>('SELECT * FROM samples')
        .toArray()
        .map((r): TrafficSample => ({ t: r.t, seeds: r.seeds, leechers: r.leechers, edgeBytes: r.edge_bytes, peerBytes: r.peer_bytes })),
    );
    const records = sql
      .exec<Record<string, string | number | null>>('SELECT * FROM peers')
      .toArray()
      .map(
        (r): PeerRecord => ({
          peerId: String(r.peer_id),
          addresses: JSON.parse(String(r.addresses)) as PeerRecord['addresses'],
          left: Number(r.left_bytes),
          uploaded: Number(r.uploaded),
          downloaded: Number(r.downloaded),
          paused: r.paused === 1,
          completed: r.completed === 1,
          lastSeen: Number(r.last_seen),
          ...(r.peer_key !== null ? { key: String(r.peer_key) } : {}),
          ...(r.user !== null ? { user: String(r.user) } : {}),
          ...(r.layer !== null ? { layer: Number(r.layer) } : {}),
        }),
      );
    this.rules.load(records, Number(meta.get('downloaded') ?? 0), Number(meta.get('peer_bytes') ?? 0));
    this.deleteEvicted();
  }

  private deleteEvicted(): void {
    for (const id of this.rules.takeEvicted()) {
      this.dirty.delete(id);
      this.forgetUnwritten(id);
      this.ctx.storage.sql.exec('DELETE FROM peers WHERE peer_id = ?', id);
    }
  }

  /** Registers the torrent with this tracker (registered-only mode, BEP 27 private flag). */
  async register(options: { private: boolean }): Promise<void> {
    this.registered = true;
    this.isPrivate = options.private;
    this.setMeta('registered', '1');
    this.setMeta('private', options.private ? '1' : '0');
  }

  async registration(): Promise<{ registered: boolean; private: boolean }> {
    return { registered: this.registered, private: this.isPrivate };
  }

  /**
   * PUT-LAYER: stores the layer info (already checked by the Worker, `json` its canonical form)
   * and makes announces check LAYER-CHANGE against its layer count. Replaces any earlier one;
   * peers keep the layer they reported.
   */
  async putLayerInfo(json: string, summary: LayerSummary): Promise<void> {
    this.ctx.storage.sql.exec(
      `INSERT INTO layer_info (id, json, layer_count, mode) VALUES (1, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET json = excluded.json, layer_count = excluded.layer_count, mode = excluded.mode`,
      json,
      summary.layers,
      summary.mode,
    );
    this.rules.layers.summary = { layers: summary.layers, mode: summary.mode };
  }

  /** GET-LAYER: the stored layer info JSON, or undefined. */
  async layerInfo(): Promise<string | undefined> {
    return this.ctx.storage.sql.exec<{ json: string }>('SELECT json FROM layer_info').toArray()[0]?.json;
  }

  /**
   * Peers and their active layers, for GET /layers/:hash/active. `known` is false for a swarm
   * with no peers, no layer info and no registration (as far as anyone can tell, no swarm).
   */
  async activeLayers(): Promise<{ known: boolean; private: boolean; peers: number; byLayer: Record<string, number> }> {
    const known = this.rules.size > 0 || this.rules.layers.summary !== undefined || this.registered;
    return { known, private: this.isPrivate, ...this.rules.activeLayers() };
  }

  /** An HTTP announce; answers with the finished bencoded body. */
  async announceHttp(
    params: AnnounceParams,
    client: { host: string },
    access: AnnounceAccess,
    format: { compact: boolean; noPeerId: boolean; wantSnapshot?: boolean },
  ): Promise<HttpSwarmAnswer> {
    const result = this.run(params, client, access);
    if (!('peers' in result)) return result;
    const { interval, minInterval } = this.rules.config;
    const fields = { interval, minInterval, counts: result.counts, externalIp: client.host, ...(result.warning !== undefined ? { warning: result.warning } : {}) };
    const body = httpAnnounceBody(result.peers, fields, format.compact, format.noPeerId);
    const snapshot = format.wantSnapshot ? this.snapshot(access) : undefined;
    return snapshot ? { ok: true, body, snapshot } : { ok: true, body };
  }

  /**
   * PPSP Get-Peer: the bencoded announce-shaped answer (interval, counts, peers) for a viewer
   * that does not join; refused exactly as an announce would be (registered mode, private).
   */
  async getPeers(params: GetPeerParams, client: { host: string }, access: AnnounceAccess): Promise<HttpSwarmAnswer> {
    const refusal = this.refuse(access);
    if (refusal) return refusal;
    const peers = this.rules.getPeers({ numwant: params.numwant, ...(params.layer !== undefined ? { layer: params.layer } : {}), ...(params.peerId ? { peerId: toHex(params.peerId) } : {}) });
    const { interval, minInterval } = this.rules.config;
    return { ok: true, body: httpAnnounceBody(peers, { interval, minInterval, counts: this.rules.counts(), externalIp: client.host }, params.compact, params.noPeerId) };
  }

  /**
   * Plain re-announces that a Worker isolate already answered from its snapshot, applied here in
   * one call; answers with a fresh snapshot. Refused items are dropped: those clients hear the
   * refusal on their next announce that comes here directly.
   */
  async applyAnnounces(items: { params: AnnounceParams; client: { host: string }; at: number }[], access: AnnounceAccess): Promise<SwarmSnapshot | undefined> {
    // Each keeps the time it was answered, so that one overtaken by an event is ignored.
    for (const { params, client, at } of items) this.run(params, client, access, Math.min(at, Date.now()), true);
    return this.snapshot(access);
  }

  /** A snapshot for isolates, or undefined where every announce must come here (private, unregistered). */
  private snapshot(access: AnnounceAccess): SwarmSnapshot | undefined {
    if (this.isPrivate || this.refuse(access)) return undefined;
    const { interval, minInterval } = this.rules.config;
    return { counts: this.rules.counts(), interval, minInterval, ...this.rules.sample(SNAPSHOT_PEERS) };
  }

  /** BEP 15 announces (a batch from one gateway request); peers come in each asker's transport family. */
  async announceUdpBatch(
    items: { params: AnnounceParams; client: { host: string }; access: AnnounceAccess }[],
    wantSnapshot = false,
  ): Promise<{ answers: UdpSwarmAnswer[]; snapshot?: SwarmSnapshot }> {
    const answers = items.map(({ params, client, access }): UdpSwarmAnswer => {
      const result = this.run(params, client, access);
      if (!('peers' in result)) return result;
      const family = client.host.includes(':') ? 6 : 4;
      return { ok: true, counts: result.counts, interval: this.rules.config.interval, peers: compactPeers(result.peers, family) };
    });
    const snapshot = wantSnapshot && items[0] ? this.snapshot(items[0].access) : undefined;
    return snapshot ? { answers, snapshot } : { answers };
  }

  private run(params: AnnounceParams, client: { host: string }, access: AnnounceAccess, now = Date.now(), late = false): SwarmAnnounceResult | SwarmRefusal {
    const refusal = this.refuse(access);
    if (refusal) return refusal;
    try {
      const result = this.rules.announce({ params, client, now, ...(late ? { late } : {}), ...(access.user !== undefined ? { user: access.user } : {}) });
      this.persist(result.change);
      this.deleteEvicted();
      if (result.change.upsert !== undefined || result.change.remove !== undefined) {
        this.sample(now);
        if (result.change.durable) this.writeSample();
        if (this.hex === undefined) this.learnInfoHash(toHex(params.infoHash));
        if (!this.listed) this.listInDirectory();
      }
      return result;
    } catch (err) {
      if (err instanceof TrackerError) return { ok: false, failure: err.message, ...(err.retryIn !== undefined ? { retryIn: err.retryIn } : {}) };
      throw err;
    }
  }

  /** BEP 48 counts; undefined in registered-only mode for a torrent that is not registered. */
  async scrape(mode: 'open' | 'registered', user?: string): Promise<ScrapeCounts | undefined> {
    if (mode === 'registered' && !this.registered) return undefined;
    // BEP 27: a private swarm's counts are for its members (a passkey), like its peers.
    if (this.isPrivate && user === undefined) return undefined;
    return this.rules.counts();
  }

  /**
   * The edge seed is serving this swarm until `until` (ms): it counts as a seed till then. Kept
   * in storage: an object evicted while idle (the runtime does that after seconds) came back
   * without it, and the dashboard and peer selection lost the edge seed for up to five minutes.
   */
  async edgeSeeding(until: number): Promise<void> {
    if (until <= this.rules.edgeSeedUntil) return;
    this.rules.edgeSeedUntil = until;
    this.setMeta('edge_seed_until', String(until));
  }

  /**
   * Bytes the edge seed sent for this torrent since the isolate's last report (worker/stats/edge-bytes.ts
   * sends them at most every 2 s per isolate and torrent).
   */
  async addEdgeBytes(hex: string, bytes: number): Promise<void> {
    if (!Number.isSafeInteger(bytes) || bytes <= 0 || !/^[0-9a-f]{40}$/.test(hex)) return;
    this.edgeBytes += bytes;
    this.setMeta('edge_bytes', String(this.edgeBytes));
    this.sample();
    this.writeSample();
    if (this.hex === undefined) this.learnInfoHash(hex);
    if (!this.listed) this.listInDirectory();
  }

  /**
   * The dashboard's figures; undefined for a swarm nobody announced to, registered, described
   * (layer info) or downloaded from the edge. `publisher` adds the peer summary, `series` the samples.
   */
  async stats(options: { publisher: boolean; series: boolean }): Promise<SwarmStats | undefined> {
    const known = this.rules.size > 0 || this.registered || this.rules.layers.summary !== undefined || this.edgeBytes > 0 || this.series.length > 0 || this.listed;
    if (!known) return undefined;
    const now = Date.now();
    const counts = this.rules.counts(now);
    const { byLayer } = this.rules.activeLayers();
    const peerBytes = this.rules.peerBytes;
    const stats: SwarmStats = {
      seeds: this.rules.p2pSeeds,
      leechers: counts.incomplete,
      downloaders: counts.downloaders,
      completed: counts.downloaded,
      edgeSeeding: this.rules.edgeSeedUntil > now,
      edgeBytes: this.edgeBytes,
      peerBytes,
      offload: offloadOf(peerBytes, this.edgeBytes),
      private: this.isPrivate,
    };
    if (this.rules.layers.summary !== undefined || Object.keys(byLayer).length > 0) stats.layers = { byLayer };
    if (options.publisher) {
      stats.publisher = { registered: this.registered, hasLayerInfo: this.rules.layers.summary !== undefined, peers: summarizePeers(this.rules.records()) };
    }
    if (options.series) stats.series = this.series.toArray();
    return stats;
  }

  /** How many P2P seeds (not counting the edge) the swarm has, for the edge seed's policy. */
  async health(): Promise<{ p2pSeeds: number; peers: number }> {
    return { p2pSeeds: this.rules.p2pSeeds, peers: this.rules.size };
  }

  /** Stored probe count for `/health/storage`. */
  async probe(): Promise<number> {
    return bumpProbe(this.ctx.storage.sql);
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    this.flush();
    const gone = this.rules.expire(Date.now());
    for (const id of gone) {
      this.dirty.delete(id);
      this.ctx.storage.sql.exec('DELETE FROM peers WHERE peer_id = ?', id);
    }
    if (gone.length > 0) this.sample();
    this.writeSample();
    this.reportToDirectory();
    await this.scheduleSweep();
  }

  private refuse(access: AnnounceAccess): SwarmRefusal | undefined {
    if (access.mode === 'registered' && !this.registered) {
      return { ok: false, failure: 'unregistered torrent: this tracker only tracks torrents published to it', retryIn: 'never', reason: 'unregistered' };
    }
    if (this.isPrivate && access.user === undefined) {
      return { ok: false, failure: 'private torrent: announce with your personal passkey URL (/p/PASSKEY/announce)', retryIn: 'never', reason: 'private' };
    }
    return undefined;
  }

  private persist(change: { upsert?: PeerRecord; remove?: string; durable: boolean; uploaded?: number }): void {
    const sql = this.ctx.storage.sql;
    if (change.remove !== undefined) {
      this.dirty.delete(change.remove);
      this.forgetUnwritten(change.remove);
      sql.exec('DELETE FROM peers WHERE peer_id = ?', change.remove);
      this.writePeerBytes();
    }
    const hadDirty = this.dirty.size > 0;
    if (change.upsert) {
      if (change.durable) {
        this.dirty.delete(change.upsert.peerId);
        this.forgetUnwritten(change.upsert.peerId);
        this.write(change.upsert);
        this.setMeta('downloaded', String(this.rules.downloaded));
        this.writePeerBytes();
      } else {
        this.dirty.set(change.upsert.peerId, change.upsert);
        // Written with the record: until then the stored peer_bytes leaves this rise out, so a
        // crash that loses the record loses the rise too, and the next announce counts it again.
        if (change.uploaded) {
          this.unwrittenUploads.set(change.upsert.peerId, (this.unwrittenUploads.get(change.upsert.peerId) ?? 0) + change.uploaded);
          this.unwrittenUploaded += change.uploaded;
        }
      }
    }
    // The alarm is only touched when it must move earlier: when the first unwritten change
    // appears, or when none is set. Otherwise an announce costs no alarm work at all.
    if (!hadDirty && this.dirty.size > 0) void this.ensureAlarmBy(Date.now() + FLUSH_DELAY_MS);
    else if (this.alarmAt === null || this.alarmAt === undefined) {
      void this.ensureAlarmBy(Date.now() + Math.min(SWEEP_EVERY_MS, this.rules.config.peerTtlMs + 1000));
    }
  }

  private flush(): void {
    for (const record of this.dirty.values()) this.write(record);
    this.dirty.clear();
    if (this.unwrittenUploaded > 0) {
      this.unwrittenUploads.clear();
      this.unwrittenUploaded = 0;
      this.writePeerBytes();
    }
  }

  /** A peer's record is written or deleted: its unwritten rises are now part of the stored total. */
  private forgetUnwritten(peerId: string): void {
    const rise = this.unwrittenUploads.get(peerId);
    if (rise === undefined) return;
    this.unwrittenUploads.delete(peerId);
    this.unwrittenUploaded -= rise;
  }

  /** Stores peerBytes as far as written peer records account for it. */
  private writePeerBytes(): void {
    this.setMeta('peer_bytes', String(this.rules.peerBytes - this.unwrittenUploaded));
  }

  /** Puts the current figures into the time series (memory); a closed bucket is written first. */
  private sample(now = Date.now()): void {
    const last = this.series.last;
    if (this.sampleDirty && last && last.t !== now - (now % SAMPLE_BUCKET_MS)) this.writeSample();
    const { keptFrom } = this.series.record(now, {
      seeds: this.rules.p2pSeeds,
      leechers: this.rules.size - this.rules.p2pSeeds,
      edgeBytes: this.edgeBytes,
      peerBytes: this.rules.peerBytes,
    });
    this.sampleDirty = true;
    if (keptFrom !== undefined) this.sampleKeptFrom = keptFrom;
  }

  /** Writes the latest sample, and drops rows that fell out of the series. */
  private writeSample(): void {
    const last = this.series.last;
    if (!this.sampleDirty || !last) return;
    const sql = this.ctx.storage.sql;
    sql.exec(
      `INSERT INTO samples (t, seeds, leechers, edge_bytes, peer_bytes) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(t) DO UPDATE SET seeds = excluded.seeds, leechers = excluded.leechers, edge_bytes = excluded.edge_bytes, peer_bytes = excluded.peer_bytes`,
      last.t,
      last.seeds,
      last.leechers,
      last.edgeBytes,
      last.peerBytes,
    );
    if (this.sampleKeptFrom !== undefined) sql.exec('DELETE FROM samples WHERE t < ?', this.sampleKeptFrom);
    this.sampleDirty = false;
    this.sampleKeptFrom = undefined;
  }

  /** The object learns its info-hash from what it is told (an id made by idFromName does not carry it). */
  private learnInfoHash(hex: string): void {
    this.hex = hex;
    this.setMeta('info_hash', hex);
  }

  /** Lists this swarm in the directory, once per swarm life (remembered in storage); retried after a failure. */
  private listInDirectory(now = Date.now()): void {
    const hex = this.hex;
    if (hex === undefined || this.listed || this.listing || now - this.listTriedAt < LIST_RETRY_MS) return;
    this.listing = true;
    this.listTriedAt = now;
    const peers = this.rules.size;
    // Not awaited: an announce never waits on the directory.
    this.ctx.waitUntil(
      swarmDirectory(this.env)
        .list(hex, { peers })
        .then(() => {
          this.listed = true;
          this.setMeta('listed', '1');
          this.reportedPeers = peers;
          this.reportedAt = Date.now();
        })
        .catch((err: unknown) => console.error('swarm directory listing failed', err))
        .finally(() => {
          this.listing = false;
        }),
    );
  }

  /**
   * From the alarm: tells the directory the peer count (what "busiest first" orders by) at most
   * every 5 minutes when it changed, and hourly anyway while there are peers (the directory
   * drops the least recently seen).
   */
  private reportToDirectory(now = Date.now()): void {
    if (!this.listed || this.hex === undefined || this.listing) return;
    const peers = this.rules.size;
    const since = now - this.reportedAt;
    if (since < REPORT_EVERY_MS || (peers === this.reportedPeers && (peers === 0 || since < REPORT_ANYWAY_MS))) return;
    this.reportedPeers = peers;
    this.reportedAt = now;
    this.ctx.waitUntil(swarmDirectory(this.env).list(this.hex, { peers }).catch((err: unknown) => console.error('swarm directory report failed', err)));
  }

  private write(r: PeerRecord): void {
    this.ctx.storage.sql.exec(
      `INSERT INTO peers (peer_id, addresses, left_bytes, uploaded, downloaded, paused, completed, last_seen, peer_key, user, layer)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(peer_id) DO UPDATE SET addresses = excluded.addresses, left_bytes = excluded.left_bytes,
         uploaded = excluded.uploaded, downloaded = excluded.downloaded, paused = excluded.paused,
         completed = excluded.completed, last_seen = excluded.last_seen, peer_key = excluded.peer_key, user = excluded.user,
         layer = excluded.layer`,
      r.peerId,
      JSON.stringify(r.addresses),
      r.left,
      r.uploaded,
      r.downloaded,
      r.paused ? 1 : 0,
      r.completed ? 1 : 0,
      r.lastSeen,
      r.key ?? null,
      r.user ?? null,
      r.layer ?? null,
    );
  }

  private setMeta(key: string, value: string): void {
    this.ctx.storage.sql.exec('INSERT INTO swarm (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', key, value);
  }

  /** One alarm serves both jobs: flushing batched writes, and sweeping silent peers. */
  private async scheduleSweep(): Promise<void> {
    const expiry = this.rules.nextExpiry();
    if (expiry === undefined && this.dirty.size === 0) return;
    const now = Date.now();
    const at = Math.min(expiry === undefined ? Infinity : Math.max(expiry, now + 1000), now + SWEEP_EVERY_MS);
    await this.ensureAlarmBy(at);
  }

  /**
   * Makes sure the alarm fires no later than `at`. Calls are chained, so that concurrent ones
   * (a batch, the first announces after a start) cannot overwrite each other's view of it.
   */
  private ensureAlarmBy(at: number): Promise<void> {
    this.alarmChain = this.alarmChain.then(async () => {
      if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
      if (this.alarmAt === null || this.alarmAt > at) {
        this.alarmAt = at;
        await this.ctx.storage.setAlarm(at);
      }
    });
    return this.alarmChain;
  }
}
