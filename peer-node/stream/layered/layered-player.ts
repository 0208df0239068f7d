import { EventEmitter } from 'node:events';
import { bitrateAt, type LayerInfo, layersPlayed } from '../../../shared/layers/layer-info.js';
import type { DeadlineSchedule } from '../../engine/deadline-schedule.js';
import type { Torrent } from '../../engine/torrent.js';
import { BandwidthEstimator } from './bandwidth-estimator.js';
import { LayerController, type LayerControllerOptions } from './layer-controller.js';
import { LayerMap } from './layer-map.js';

export interface LayeredPlayerOptions {
  /** The player buffers this long before the first segment plays (default 2 s). */
  startupMs?: number;
  /** Segments ahead of the play position fetched in order (default: 10 s of them). */
  windowSegments?: number;
  /** Seconds of base layer held ahead before enhancement layers are fetched (default 3). */
  safeBaseS?: number;
  /** How often the player and the controller look (default 250 ms). */
  tickMs?: number;
  /** Play one layer throughout (no adaptation, no probing): the baselines. */
  fixedLayer?: number;
  controller?: LayerControllerOptions;
}

/**
 * Upload slots for a torrent played by a layered player (the torrent's default is 4). Viewers
 * of one crowd hold nearly the same window, so most peers have little to trade and tit-for-tat
 * chokes them; and a piece held only by peers that choke us is one the edge must send (see
 * Torrent.reachableHolders). With 8 slots, libtorrent's default, the 60 s layered bench sent
 * 1.5x the asset from the edge where 4 slots sent 2.2x; 14 slots (Transmission's) sent 0.7x but
 * split each fast peer's upstream so thin that the 10 Mbit/s class played at mean layer 0.9.
 * Measured again on 2026-11-26: 10 or 11 slots cut every class's layer (10 Mbit/s: 1.1-1.4,
 * one run 0.2). With the edge's longer rank wait for enhancement pieces (see INJECT_RANK_MS in
 * the torrent), which climbs more slowly, 6 slots gave the 10 Mbit/s class 2.17-2.48 over five
 * runs at an edge share of 18.1-19.5%, where 8 gave 1.72-1.89 at 16.6-18.1% (both with 1 s
 * for every piece; with base pieces back at 0.5 s and enhancement pieces at 1.5 s, 6 slots:
 * 2.20-2.51 at 17.3-18.6%, four runs).
 */
export const LAYERED_UPLOAD_SLOTS = 6;

/** The schedule of a stopped player: no piece, no deadline, nothing else either. */
const NOTHING_MORE: DeadlineSchedule = { order: () => [], due: () => Infinity, rate: () => 0, bufferedMs: () => Infinity, exclusive: true };

/** A bandwidth sample covers at least this much busy time. */
const SAMPLE_MS = 1000;

/** One segment as it was played. */
export interface PlayedSegment {
  segment: number;
  /** The active layer it played at (cumulative: layers 0..layer were decoded). */
  layer: number;
  /** Time the player waited for its base layer (a stall), ms. */
  stalledMs: number;
  at: number;
}

export interface LayerSwitch {
  from: number;
  to: number;
  reason: string;
  estimate: number | undefined;
  bufferS: number;
  /** Seconds ahead of playback the new layer was held when the switch was made. */
  leadS: number;
  at: number;
}

/**
 * Plays a layered asset while the torrent downloads it: a clock that plays one segment per
 * segment duration after a startup buffer; each segment plays at the highest layer held when
 * its turn comes (a segment without its base layer is a stall: the clock waits for it).
 *
 * It is also the torrent's schedule (`DeadlineSchedule`): the window's base layer first, in
 * segment order, each piece due when its segment plays (so the edge steps in for a late one);
 * then, once the base is safe, the enhancement layers of the active set, in order, without
 * deadlines (missing one lowers quality, not continuity); then one layer above the active set
 * as a probe, so that the controller sees what the path could carry. Only the files of the
 * layers in use (and the probe) are downloaded.
 *
 * The controller picks the active layer from how far ahead each layer is held and the base
 * buffer (the estimate sizes the requests);
 * changes go to peers (LAYER-CHANGE) and the tracker (`layer=`) through the torrent.
 */
export class LayeredPlayer extends EventEmitter implements DeadlineSchedule {
  readonly map: LayerMap;
  readonly played: PlayedSegment[] = [];
  readonly switches: LayerSwitch[] = [];
  readonly estimator = new BandwidthEstimator();
  private readonly controller: LayerController;
  private readonly o: Required<Omit<LayeredPlayerOptions, 'fixedLayer' | 'controller'>>;
  private timer?: NodeJS.Timeout;
  private startedAt = 0;
  /** When segment `next` is due to start playing (Date.now clock). */
  private nextAt = 0;
  private next = 0;
  private stallSince?: number;
  private lastBytes = 0;
  private lastSampleAt = 0;
  private busy = false;
  private pending = { bytes: 0, ms: 0 };
  private wantedKey = '';
  /** From the last order(): the schedule's pieces, and the base pieces' deadlines. */
  private lastOrder: number[] = [];
  private readonly deadlines = new Map<number, number>();
  stalls = 0;
  stalledMs = 0;

  constructor(
    readonly torrent: Torrent,
    readonly info: LayerInfo,
    private readonly options: LayeredPlayerOptions = {},
  ) {
    super();
    this.setMaxListeners(64); // the play-out server waits on 'segment' once per waiting request
    this.map = new LayerMap(info, torrent.metainfo.info.files, torrent.geometry);
    const d = info.segmentDuration;
    this.o = { startupMs: 2000, windowSegments: Math.max(2, Math.ceil(10 / d)), safeBaseS: 3, tickMs: 250, ...options };
    if (options.fixedLayer !== undefined && !(Number.isInteger(options.fixedLayer) && options.fixedLayer >= 0 && options.fixedLayer < info.layers.length)) {
      throw new RangeError(`fixedLayer ${options.fixedLayer}: the asset has layers 0-${info.layers.length - 1}`);
    }
    // A panic step at most once a segment: one thin moment is not three layers' worth of news.
    this.controller = new LayerController(info, options.fixedLayer ?? 0, { panicHoldMs: info.segmentDuration * 1000, ...options.controller });
  }

  get layer(): number {
    return this.controller.layer;
  }

  get done(): boolean {
    return this.next >= this.info.segmentCount;
  }

  /** Starts playing from segment 0. */
  start(): void {
    const now = Date.now();
    this.startedAt = now;
    this.nextAt = now + this.o.startupMs;
    this.lastSampleAt = now;
    this.lastBytes = this.receivedBytes();
    this.applyLayer();
    this.torrent.setSchedule(this);
    this.timer = setInterval(() => this.tick(), this.o.tickMs);
    // The torrent stopped under us (closed, removed): playback ends there, and says so.
    this.torrent.once('stopped', this.onTorrentStopped);
  }

  private readonly onTorrentStopped = () => {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.emit('aborted', new Error('the torrent stopped before the asset had played'));
  };

  /**
   * Stops playing. The torrent then fetches nothing more (an empty exclusive schedule: without
   * it, the files of the layers in use would be downloaded whole, rarest first, from peers and
   * edge) and keeps serving what it holds to its peers.
   */
  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.torrent.off('stopped', this.onTorrentStopped);
    this.torrent.setSchedule(NOTHING_MORE);
  }

  /** Resolves when the last segment has played; rejects if the torrent stops first. */
  finished(): Promise<void> {
    if (this.done) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onEnd = () => {
        this.off('aborted', onAborted);
        resolve();
      };
      const onAborted = (err: Error) => {
        this.off('end', onEnd);
        reject(err);
      };
      this.once('end', onEnd);
      this.once('aborted', onAborted);
    });
  }

  // --- the torrent's schedule ---

  /** The window and nothing more: a slow link has no room for data that is not due. */
  readonly exclusive = true;

  /**
   * Two seconds of data asked of peers at once: of the estimated bandwidth, or of the layers
   * being fetched if that is more (a budget sized by the estimate alone would hold the rate
   * down to the estimate, and the estimate down to the rate). At least 6 blocks.
   */
  requestBudget(): number {
    const fetched = Math.max(bitrateAt(this.info, this.layer), bitrateAt(this.info, this.probeLayer() ?? this.layer));
    return Math.max(6 * 16384, (Math.max(this.estimator.estimate ?? 2e6, fetched) / 8) * 2);
  }

  order(now: number): number[] {
    const out: number[] = [];
    this.lastOrder = out; // what measure() looks at until the next order()
    const seen = new Set<number>();
    const add = (pieces: readonly number[]) => {
      for (const i of pieces) if (!seen.has(i)) (seen.add(i), out.push(i));
    };
    const first = this.next;
    const last = Math.min(this.info.segmentCount, first + this.o.windowSegments);
    const base = this.baseLayer();
    // Deadlines are set here, with the order, for due(): each base piece of a segment not yet
    // playable is due when the first such segment that needs it plays.
    this.deadlines.clear();
    for (let s = first; s < last; s++) {
      if (this.covered(s)) continue;
      const playsAt = this.nextAt + (s - first) * this.info.segmentDuration * 1000;
      for (const i of this.map.piecesOf(base, s)) if (!this.deadlines.has(i)) this.deadlines.set(i, playsAt);
      add(this.map.piecesOf(base, s));
    }
    const buffered = this.bufferedMs(now);
    if (buffered < this.o.safeBaseS * 1000) return out;
    for (const k of this.activeLayers()) if (k !== base) for (let s = first; s < last; s++) add(this.map.piecesOf(k, s));
    // The probe only with a healthy base buffer and the active set well ahead of playback: the
    // spare capacity goes to the next layer, never the capacity the layers being played need
    // (on a link that cannot carry the next layer, the probe never gets ahead of playback and
    // the controller never goes up; what it fetched still plays where it arrived in time).
    const probe = this.probeLayer();
    if (probe !== undefined && buffered >= 2 * this.o.safeBaseS * 1000 && this.leadMs(this.layer, now) >= this.controller.probeLeadS * 1000) {
      for (let s = first; s < last; s++) add(this.map.piecesOf(probe, s));
    }
    return out;
  }

  /** As of the last order(): enhancement, probe and playable segments' pieces have none. */
  due(i: number): number {
    return this.deadlines.get(i) ?? Infinity;
  }

  layerOf(i: number): number | undefined {
    return this.map.layerOfPiece(i);
  }

  rate(): number {
    return bitrateAt(this.info, this.layer) / 8;
  }

  /** Base layer held ahead of the play position, as playback time (ms), with the startup wait. */
  bufferedMs(now: number): number {
    return this.heldAheadMs((s) => this.covered(s), now);
  }

  /**
   * Playback time ahead for which layer `k` plays (cumulative: layers 0..k held; simulcast:
   * rendition k held), from the play position on, with the wait until the next segment starts;
   * Infinity when it is held to the end.
   */
  leadMs(k: number, now: number): number {
    const has = (i: number) => this.torrent.have.has(i);
    return this.heldAheadMs((s) => this.map.playable(s, k, has), now);
  }

  /**
   * Playback time of the segments from the play position on that pass `held`, in a row, plus
   * the wait until the next one starts (the segment playing now is partly consumed; with none
   * held, that wait is all there is); Infinity when they run to the end (the end of the asset
   * is not a thin buffer).
   */
  private heldAheadMs(held: (s: number) => boolean, now: number): number {
    let n = 0;
    for (let s = this.next; s < this.info.segmentCount && held(s); s++) n++;
    if (this.next + n >= this.info.segmentCount) return Infinity;
    return n * this.info.segmentDuration * 1000 + Math.max(0, this.nextAt - now);
  }

  // --- playing ---

  private tick(): void {
    const now = Date.now();
    this.measure(now);
    this.play(now);
    if (this.done || !this.timer) return; // ended, or a listener stopped us
    if (this.options.fixedLayer === undefined) {
      const from = this.layer;
      const bufferS = this.bufferedMs(now) / 1000;
      const decision = this.controller.decide(now, { bufferS, leadS: (k) => this.leadMs(k, now) / 1000 });
      if (decision) {
        const change: LayerSwitch = { from, to: decision.layer, reason: decision.reason, estimate: this.estimator.estimate, bufferS, leadS: this.leadMs(decision.layer, now) / 1000, at: now - this.startedAt };
        this.switches.push(change);
        this.applyLayer();
        this.emit('layer', change);
      }
    }
    this.torrent.setSchedule(this); // the window moved: refocus now, not at the torrent's next tick
  }

  /** A bandwidth sample for every interval in which we were asking for more than arrived. */
  private measure(now: number): void {
    const bytes = this.receivedBytes();
    const gotBytes = bytes - this.lastBytes;
    if (this.busy) {
      // Blocks arrive in bursts: a sample spans at least a second of busy time.
      this.pending.bytes += gotBytes;
      this.pending.ms += now - this.lastSampleAt;
      if (this.pending.ms >= SAMPLE_MS) {
        this.estimator.sample(this.pending.bytes, this.pending.ms);
        this.pending = { bytes: 0, ms: 0 };
      }
    }
    this.lastBytes = bytes;
    this.lastSampleAt = now;
    // Busy for the next interval: a piece of the schedule is missing and something is being
    // fetched (waiting for a piece nobody has yet says nothing about our bandwidth).
    this.busy = this.lastOrder.some((i) => !this.torrent.have.has(i)) && this.torrent.fetching;
  }

  private play(now: number): void {
    const has = (i: number) => this.torrent.have.has(i);
    while (!this.done && now >= this.nextAt) {
      const layer = this.map.bestPlayable(this.next, has);
      if (layer < 0) {
        if (this.stallSince === undefined) {
          this.stallSince = now;
          this.stalls++;
          this.emit('stall', this.next);
        }
        return;
      }
      let stalledMs = 0;
      if (this.stallSince !== undefined) {
        stalledMs = now - this.stallSince;
        this.stalledMs += stalledMs;
        this.stallSince = undefined;
        this.nextAt = now; // the clock waited
      }
      const segment: PlayedSegment = { segment: this.next, layer, stalledMs, at: this.nextAt - this.startedAt };
      this.played.push(segment);
      this.next++;
      this.nextAt += this.info.segmentDuration * 1000;
      this.emit('segment', segment);
    }
    if (this.done) {
      this.stop();
      this.emit('end');
    }
  }

  // --- layers ---

  /**
   * Segment s will play without a stall: its base layer is held (cumulative), or any rendition
   * is (simulcast: after a switch the segments held at the old rendition still play).
   */
  private covered(s: number): boolean {
    const has = (i: number) => this.torrent.have.has(i);
    if (this.info.mode === 'cumulative') return this.map.piecesOf(0, s).every(has);
    return this.map.bestPlayable(s, has) >= 0;
  }

  /** The layer whose segments carry deadlines: the base, or in simulcast the active rendition. */
  private baseLayer(): number {
    return this.info.mode === 'simulcast' ? this.layer : 0;
  }

  private activeLayers(): number[] {
    return layersPlayed(this.info, this.layer);
  }

  private probeLayer(): number | undefined {
    if (this.options.fixedLayer !== undefined) return undefined;
    const probe = this.layer + 1;
    return probe < this.info.layers.length ? probe : undefined;
  }

  /** The active layer changed (or was set): files to download, peers and tracker told. */
  private applyLayer(): void {
    const layers = [...this.activeLayers()];
    const probe = this.probeLayer();
    if (probe !== undefined) layers.push(probe);
    const files = layers.map((k) => this.info.layers[k]!.file).sort((a, b) => a - b);
    const key = files.join(',');
    if (key !== this.wantedKey) {
      this.wantedKey = key;
      this.torrent.setWantedFiles(files);
    }
    const told = this.torrent.setActiveLayer(this.layer, this.info.layers.length);
    this.emit('announced', this.layer, told);
  }

  private receivedBytes(): number {
    const s = this.torrent.statsSnapshot();
    return s.bytesFromPeers + s.bytesFromWebSeeds;
  }
}
