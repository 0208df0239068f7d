import { decodeTexMessage, encodeTexMessage } from '../../shared/wire/lt-tex.js';
import type { PeerSession } from '../engine/peer-session.js';
import { type PeerExtension, sendExtended } from './extension.js';

export interface TexHost {
  /** Trackers that have answered us: the only ones we tell peers about. */
  verifiedTrackers(): string[];
  /** Trackers a peer told us about: tried once before they are used or passed on. */
  learnedTrackers(urls: string[], from: PeerSession): void;
}

/**
 * Tracker exchange (BEP 28): each peer that offers lt_tex hears our verified trackers shortly
 * after the handshake, then the ones verified since, at most once a minute. Trackers learned from
 * a peer are announced to once and only then used and shared. A peer's messages more often than
 * every 30 s are ignored. Never for private torrents (the torrent does not load it then).
 */
export class LtTex implements PeerExtension {
  readonly name = 'lt_tex';
  private states = new WeakMap<PeerSession, { told: Set<string>; lastSent: number; lastReceived: number }>();

  constructor(
    private readonly host: TexHost,
    private readonly intervalMs = 60_000,
    private readonly firstAfterMs = 2_000,
  ) {}

  private state(s: PeerSession) {
    let st = this.states.get(s);
    if (!st) {
      st = { told: new Set<string>(), lastSent: Date.now() - this.intervalMs + this.firstAfterMs, lastReceived: 0 };
      this.states.set(s, st);
    }
    return st;
  }

  peerHandshake(s: PeerSession): void {
    if (s.extensions?.m.has(this.name)) this.state(s);
  }

  tick(now: number, sessions: Iterable<PeerSession>): void {
    let verified: string[] | undefined;
    for (const s of sessions) {
      if (!s.extensions?.m.has(this.name)) continue;
      const st = this.state(s);
      if (now - st.lastSent < this.intervalMs) continue;
      st.lastSent = now;
      verified ??= this.host.verifiedTrackers();
      const added = verified.filter((url) => !st.told.has(url));
      if (added.length === 0) continue;
      for (const url of added) st.told.add(url);
      sendExtended(s, this.name, encodeTexMessage(added));
    }
  }

  message(s: PeerSession, payload: Uint8Array): void {
    const urls = decodeTexMessage(payload);
    const st = this.state(s);
    const now = Date.now();
    if (now - st.lastReceived < this.intervalMs / 2) return;
    st.lastReceived = now;
    // What this peer told us need not be told back to it (only URLs we also verified are
    // remembered, so the set stays bounded by our own list).
    const ours = new Set(this.host.verifiedTrackers());
    for (const url of urls) if (ours.has(url)) st.told.add(url);
    if (urls.length) this.host.learnedTrackers(urls, s);
  }
}
