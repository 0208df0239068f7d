import { randomInt } from 'node:crypto';
import type { PeerAddress } from '../../shared/compact/index.js';
import { TrackerError } from '../../shared/errors.js';
import type { AnnounceEvent } from '../../shared/tracker/announce-params.js';
import type { ClientAnnounce } from './client-announce.js';
import { httpAnnounce } from './http-tracker-client.js';
import { nextAnnounceMs, TrackerTiers } from './tracker-tiers.js';
import type { UdpTrackerClient } from './udp-tracker-client.js';

/** What the torrent reports in each announce. */
export type AnnounceState = Omit<ClientAnnounce, 'event' | 'key' | 'trackerId'>;

export interface AnnouncerEvents {
  peers(peers: PeerAddress[], tracker: string): void;
  warning(message: string): void;
  /** BEP 24: our address as the tracker sees it. */
  externalIp?(ip: string): void;
}

/**
 * Keeps a torrent announced (BEP 3 with BEP 12 tiers): `started` until one tracker has heard it,
 * then regular announces at the tracker's `interval` (never sooner than `min interval`),
 * `completed` once when the download finishes, `stopped` when the torrent stops. Each announce
 * walks the trackers in tier order and stops at the first that answers; a failing tracker waits
 * out its BEP 31 `retry in` or backoff before it is asked again.
 */
export class Announcer {
  private timer?: NodeJS.Timeout;
  private readonly key = randomInt(0, 2 ** 32);
  private readonly trackerIds = new Map<string, string>();
  private readonly notBefore = new Map<string, number>();
  private pendingEvent: AnnounceEvent = 'started';
  private running?: Promise<void>;
  private stopped = false;
  /** The tracker that last answered: `stopped` goes there (it is the one that lists us). */
  private current?: string;

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
    if (this.tiers.order().length > 0) this.schedule(0);
  }

  /** The download finished: tell the tracker now. */
  completed(): void {
    if (this.stopped) return;
    this.pendingEvent = 'completed';
    this.schedule(0);
  }

  /** Announces again soon (more peers wanted), respecting each tracker's minimum wait. */
  more(): void {
    if (!this.stopped && !this.running) this.schedule(0);
  }

  /** Says `stopped` to the tracker that last answered (best effort, bounded), then stays quiet. */
  async stop(timeoutMs = 3000, sayStopped = true): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!sayStopped) return;
    await this.running;
    const url = this.current;
    if (!url) return;
    await Promise.race([this.announceTo(url, 'stopped').catch(() => undefined), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), ms);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = this.announceOnce().finally(() => (this.running = undefined));
    await this.running;
  }

  private async announceOnce(): Promise<void> {
    const event = this.pendingEvent;
    let wait = Infinity;
    const now = Date.now();
    for (const url of this.tiers.order()) {
      const notBefore = this.notBefore.get(url) ?? 0;
      if (notBefore > now && event === 'none') {
        wait = Math.min(wait, notBefore - now);
        continue;
      }
      try {
        const { interval, minInterval } = await this.announceTo(url, event);
        if (this.stopped) return;
        this.tiers.succeeded(url);
        this.current = url;
        if (this.pendingEvent === event) this.pendingEvent = 'none';
        this.notBefore.set(url, Date.now() + nextAnnounceMs(minInterval ?? 0, 0));
        this.schedule(nextAnnounceMs(interval, minInterval));
        return;
      } catch (err) {
        if (this.stopped) return;
        const retryIn = err instanceof TrackerError ? err.retryIn : undefined;
        const backoff = this.tiers.failed(url, retryIn);
        this.events.warning(`tracker ${url}: ${(err as Error).message}`);
        if (backoff !== undefined) {
          this.notBefore.set(url, Date.now() + backoff);
          wait = Math.min(wait, backoff);
        }
      }
    }
    if (Number.isFinite(wait)) this.schedule(wait);
  }

  private async announceTo(url: string, event: AnnounceEvent): Promise<{ interval: number; minInterval?: number }> {
    const trackerId = this.trackerIds.get(url);
    const a: ClientAnnounce = { ...this.state(), event, key: this.key, numWant: event === 'stopped' ? 0 : this.numWant, ...(trackerId ? { trackerId } : {}) };
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
