/**
 * One torrent's side of BEP 22: announces to the discovered local tracker in addition to the
 * torrent's own trackers (an Announcer of its own, so that the torrent's trackers answering
 * does not stop the local one being told, as one more tier would). Never for a private torrent
 * (BEP 22 and BEP 27: its peers come from its own trackers only); such a torrent neither asks for
 * a lookup nor feeds our address to discovery, and counts every local tracker offered to it.
 */
import type { PeerAddress } from '../../shared/compact/index.js';
import { Announcer, type AnnounceState } from './announcer.js';
import type { LocalTrackerDiscovery } from './local-tracker-discovery.js';
import { TrackerTiers } from './tracker-tiers.js';
import type { UdpTrackerClient } from './udp-tracker-client.js';

/** Why a torrent did not announce to a discovered local tracker, counted. */
export type LocalTrackerRefusal =
  /** The torrent is private (BEP 27). */
  | 'private'
  /** The URL is one of the torrent's own trackers: it is announced to already. */
  | 'duplicate'
  /** An announce to the local tracker failed (unreachable, refused, undecodable). */
  | 'announceFailed';

/** A torrent's local tracker, for its stats. */
export interface LocalTrackerStats {
  /** The local tracker that last answered (or the first offered, before any answered). */
  url?: string;
  /** Announces it answered, and the peers it gave. */
  announces: number;
  peers: number;
  refused: Record<LocalTrackerRefusal, number>;
}

export interface LocalTrackerHost {
  private: boolean;
  /** The torrent's own trackers (its tiers, and ones learned by BEP 28). */
  ownTrackers(): string[];
  state(): AnnounceState;
  peers(peers: PeerAddress[]): void;
  warning(text: string): void;
}

export class LocalTrackerAnnouncer {
  readonly refused: Record<LocalTrackerRefusal, number> = { private: 0, duplicate: 0, announceFailed: 0 };
  private announcer?: Announcer;
  private urls: string[] = [];
  private answered?: string;
  private announces = 0;
  private peerCount = 0;
  private release?: () => void;
  private layer?: number;
  private stopped = false;
  private readonly onTrackers = (urls: string[]) => this.offer(urls);

  constructor(
    private readonly discovery: LocalTrackerDiscovery,
    private readonly udp: UdpTrackerClient,
    private readonly host: LocalTrackerHost,
  ) {}

  /** Starts listening for local trackers (and, for a public torrent, asks for a lookup). */
  start(): void {
    if (this.stopped || !this.discovery.enabled) return;
    this.discovery.on('trackers', this.onTrackers);
    if (!this.host.private) this.release = this.discovery.want();
    this.offer(this.discovery.trackers);
  }

  /** Our address as a tracker or peer of this torrent saw it; ignored for a private torrent. */
  observe(ip: string | Uint8Array, source: 'tracker' | 'peer', voter?: string): void {
    if (!this.host.private) this.discovery.observe(ip, source, voter);
  }

  completed(): void {
    this.announcer?.completed();
  }

  paused(): void {
    this.announcer?.paused();
  }

  setLayer(layer: number): void {
    this.layer = layer;
    this.announcer?.setLayer(layer);
  }

  stats(): LocalTrackerStats {
    const url = this.answered ?? this.urls[0];
    return { ...(url ? { url } : {}), announces: this.announces, peers: this.peerCount, refused: { ...this.refused } };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.discovery.off('trackers', this.onTrackers);
    this.release?.();
    const announcer = this.announcer;
    this.announcer = undefined;
    await announcer?.stop();
  }

  private offer(offered: string[]): void {
    if (this.stopped || (offered.length === 0 && this.urls.length === 0)) return;
    if (this.host.private) {
      if (offered.length > 0) this.refused.private++;
      return;
    }
    const own = new Set(this.host.ownTrackers());
    const urls = offered.filter((u) => {
      if (!own.has(u)) return true;
      this.refused.duplicate++;
      return false;
    });
    if (urls.join(' ') === this.urls.join(' ')) return;
    // A new address led elsewhere: the old local tracker hears `stopped`, the new one `started`.
    const previous = this.announcer;
    this.announcer = undefined;
    this.urls = urls;
    this.answered = undefined;
    if (previous) void previous.stop();
    if (urls.length === 0) return;
    // Each record its own tier, in RFC 2782 order: the next is tried only when one fails.
    const announcer = new Announcer(new TrackerTiers(urls.map((u) => [u]), undefined), this.udp, () => this.host.state(), {
      peers: (peers, tracker) => {
        this.announces++;
        this.peerCount += peers.length;
        this.answered = tracker;
        this.host.peers(peers);
      },
      warning: (text) => this.host.warning(`local tracker: ${text}`),
      failed: () => this.refused.announceFailed++,
      // No `externalIp`: the local tracker's view of our address must not start a new lookup
      // that could lead to another local tracker, and back (a loop).
    });
    if (this.layer !== undefined) announcer.setLayer(this.layer);
    this.announcer = announcer;
    announcer.start();
  }
}
