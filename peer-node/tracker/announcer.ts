import { randomInt } from 'node:crypto';
import type { PeerAddress } from '../../shared/compact/index.js';
import { TrackerError } from '../../shared/errors.js';
import type { AnnounceEvent } from '../../shared/tracker/announce-params.js';
import type { ClientAnnounce } from './client-announce.js';
import { httpAnnounce } from './http-tracker-client.js';
import { nextAnnounceMs, TrackerTiers } from './tracker-tiers.js';
import type { UdpTrackerClient } from './udp-tracker-client.js';

/** What the torrent reports in each announce. */
export type AnnounceState = Omit<ClientAnnounce, 'event' | 'key' | 'trackerId'> & {
  /** BEP 21 partial seed: regular announces say `paused` instead of nothing. */
  paused?: boolean;
};

export interface AnnouncerEvents {
  peers(peers: PeerAddress[], tracker: string): void;
  warning(message: string): void;
  /** BEP 24: our address as the tracker sees it. */
  externalIp?(ip: string): void;
  /** An announce to `url` failed (after `warning` told why). */
  failed?(url: string, error: Error): void;
}

/**
 * Keeps a torrent announced (BEP 3 with BEP 12 tiers): `started` until one tracker has heard it,
 * then regular announces at the tracker's `interval` (never sooner than `min interval`),
 * `completed` once when the download finishes, `stopped` when the torrent stops. Each announce
 * walks the trackers in tier order and stops at the first that answers; a failing tracker waits
 * out its BEP 31 `retry in` or backoff before it is asked again.
 */
/** Longest one announce to one tracker may take (BEP 15 retries alone could take two hours). */
const ATTEMPT_MS = 20_000;
/** Trackers learned from peers that one torrent will try. */
const MAX_PROBES = 10;

/** Layer changes (LAYER-CHANGE) reach a tracker at most this often; changes in between merge. */
const LAYER_ANNOUNCE_MS = 15_000;

export class Announcer {
  private timer?: NodeJS.Timeout;
  private readonly key = randomInt(0, 2 ** 32);
  private readonly trackerIds = new Map<string, string>();
  private readonly notBefore = new Map<string, number>();
  private pendingEvent: AnnounceEvent = 'started';
  private running?: Promise<void>;
  private stopped = false;
  private rerun = false;
  /** Trackers that have answered at least once (BEP 28 shares only these). */
  private readonly verified = new Set<string>();
  /** Trackers learned from peers that were tried, whatever the outcome. */
  private readonly probed = new Set<string>();
  /** The tracker that last answered: `stopped` goes there (it is the one that lists us). */
  private current?: string;
  private layer?: number;
  private layerChanged = false;
  private started = false;
  /** Per tracker: when we last announced there, and until when it backs off after failing. */
  private readonly lastAnnounce = new Map<string, number>();
  private readonly backoffUntil = new Map<string, number>();

  constructor(
    private readonly tiers: TrackerTiers,
    private readonly udp: UdpTrackerClient,
    private readonly state: () => AnnounceState,
    private readonly events: AnnouncerEvents,
    private readonly numWant = 50,
  ) {}

  get trackers(): string[] {
    return this.tiers.order();
  }

  start(): void {
    this.started = true;
    if (this.tiers.order().length > 0) this.schedule(0);
  }

  /** The download finished: tell the tracker now. */
  completed(): void {
    if (this.stopped) return;
    this.pendingEvent = 'completed';
    this.schedule(0);
  }

  get verifiedTrackers(): string[] {
    return [...this.verified];
  }

  /**
   * A tracker a peer told us about (BEP 28): announced to once, and used (and shared) only if it
   * answers. At most MAX_PROBES per torrent, each tried once.
   */
  async probe(url: string): Promise<boolean> {
    if (this.stopped || this.probed.has(url) || this.probed.size >= MAX_PROBES || this.tiers.order().includes(url)) return false;
    this.probed.add(url);
    let answer;
    try {
      answer = await this.announceTo(url, 'started');
    } catch {
      return false;
    }
    if (this.stopped) return false;
    this.verified.add(url);
    this.tiers.addTier(url);
    // A torrent that had no working tracker now keeps this one announced.
    if (this.current === undefined) {
      this.current = url;
      if (this.pendingEvent === 'started') this.pendingEvent = 'none';
      this.schedule(nextAnnounceMs(answer.interval, answer.minInterval));
    }
    return true;
  }

  /**
   * Layered streaming (LAYER-CHANGE): our active layer goes with every announce from now on, and
   * an announce goes out now so that the tracker's peer selection follows the change.
   */
  setLayer(layer: number): void {
    if (this.layer === layer) return;
    this.layer = layer;
    if (!this.started || this.stopped) return; // it goes with the first announce
    // A state change, like an event: it may go out before the tracker's min interval is over,
    // but not within LAYER_ANNOUNCE_MS of the last announce to that tracker, nor while it backs
    // off after failing; changes in between are merged into one announce.
    this.layerChanged = true;
    this.more();
  }

  /** BEP 21: we became a partial seed; say `paused` now. */
  paused(): void {
    if (this.stopped) return;
    this.pendingEvent = 'paused';
    this.schedule(0);
  }

  /** Announces again now (more peers wanted, or our state changed). */
  more(): void {
    if (!this.stopped) this.schedule(0);
  }

  /**
   * Says `stopped` to the tracker that last answered (first `completed`, if that was still
   * pending), best effort and bounded by `timeoutMs` in all; then stays quiet.
   */
  async stop(timeoutMs = 3000, sayStopped = true): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!sayStopped) return;
    const deadline = new Promise((r) => setTimeout(r, timeoutMs).unref());
    const farewell = (async () => {
      await this.running;
      const url = this.current;
      if (!url) return;
      if (this.pendingEvent === 'completed') await this.announceTo(url, 'completed').catch(() => undefined);
      await this.announceTo(url, 'stopped').catch(() => undefined);
    })();
    await Promise.race([farewell, deadline]);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), ms);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    if (this.running) {
      // An event (completed, paused) raised during an announce goes out right after it.
      this.rerun = true;
      return;
    }
    this.running = this.announceOnce().finally(() => {
      this.running = undefined;
      if (this.rerun && !this.stopped) {
        this.rerun = false;
        this.schedule(0);
      }
    });
    await this.running;
  }

  private async announceOnce(): Promise<void> {
    const event = this.pendingEvent;
    let wait = Infinity;
    const now = Date.now();
    for (const url of this.tiers.order()) {
      const notBefore = this.notBefore.get(url) ?? 0;
      const layerDue = (this.lastAnnounce.get(url) ?? 0) + LAYER_ANNOUNCE_MS;
      const layerMayGo = this.layerChanged && now >= layerDue && now >= (this.backoffUntil.get(url) ?? 0);
      if (notBefore > now && event === 'none' && !layerMayGo) {
        wait = Math.min(wait, notBefore - now, this.layerChanged ? Math.max(layerDue - now, (this.backoffUntil.get(url) ?? 0) - now, 0) : Infinity);
        continue;
      }
      try {
        const layer = this.layer;
        this.lastAnnounce.set(url, Date.now());
        const { interval, minInterval } = await this.announceTo(url, event);
        if (this.stopped) return;
        this.backoffUntil.delete(url);
        // A change made while this announce was on its way still has to go.
        if (this.layer === layer) this.layerChanged = false;
        this.tiers.succeeded(url);
        this.current = url;
        this.verified.add(url);
        if (this.pendingEvent === event) this.pendingEvent = 'none';
        this.notBefore.set(url, Date.now() + nextAnnounceMs(minInterval ?? 0, 0));
        this.schedule(this.layerChanged ? LAYER_ANNOUNCE_MS : nextAnnounceMs(interval, minInterval));
        return;
      } catch (err) {
        if (this.stopped) return;
        const retryIn = err instanceof TrackerError ? err.retryIn : undefined;
        const backoff = this.tiers.failed(url, retryIn);
        this.events.warning(`tracker ${url}: ${(err as Error).message}`);
        this.events.failed?.(url, err as Error);
        if (backoff !== undefined) {
          this.notBefore.set(url, Date.now() + backoff);
          this.backoffUntil.set(url, Date.now() + backoff);
          wait = Math.min(wait, backoff);
        }
      }
    }
    if (Number.isFinite(wait)) this.schedule(wait);
  }

  /** One tracker gets at most ATTEMPT_MS per announce: a dead one must not hold up the next tier. */
  private async announceTo(url: string, event: AnnounceEvent): Promise<{ interval: number; minInterval?: number }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TrackerError('timeout', `no answer in ${ATTEMPT_MS / 1000} s`)), ATTEMPT_MS);
      timer.unref();
    });
    try {
      return await Promise.race([this.announceOnceTo(url, event), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async announceOnceTo(url: string, event: AnnounceEvent): Promise<{ interval: number; minInterval?: number }> {
    const trackerId = this.trackerIds.get(url);
    const { paused, ...state } = this.state();
    if (event === 'none' && paused) event = 'paused';
    const a: ClientAnnounce = { ...state, event, key: this.key, numWant: event === 'stopped' ? 0 : this.numWant, ...(trackerId ? { trackerId } : {}), ...(this.layer !== undefined ? { layer: this.layer } : {}) };
    if (url.startsWith('udp:')) {
      const r = await this.udp.announce(url, a);
      if (event !== 'stopped') this.events.peers(r.peers, url);
      return { interval: r.interval };
    }
    const r = await httpAnnounce(url, a);
    if ('failure' in r) throw new TrackerError('failure', `refused: ${r.failure}`, r.retryIn);
    if (r.trackerId) this.trackerIds.set(url, r.trackerId);
    if (r.warning) this.events.warning(`tracker ${url} warns: ${r.warning}`);
    if (r.externalIp) this.events.externalIp?.(r.externalIp);
    if (event !== 'stopped') this.events.peers(r.peers, url);
    return { interval: r.interval, ...(r.minInterval !== undefined ? { minInterval: r.minInterval } : {}) };
  }
}
