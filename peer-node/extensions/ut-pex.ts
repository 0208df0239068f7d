import type { PeerAddress } from '../../shared/compact/index.js';
import { decodePexMessage, encodePexMessage, MAX_PEX_PEERS, type PexPeer } from '../../shared/wire/ut-pex.js';
import type { PeerSession } from '../engine/peer-session.js';
import { type PeerExtension, sendExtended } from './extension.js';

/** What PEX needs from its torrent. */
export interface PexHost {
  /** The peers we are connected to, by the address they accept connections on. */
  pexPeers(): Map<PeerSession, PexPeer>;
  /** Addresses learned from a peer. */
  learned(peers: PexPeer[], from: PeerSession): void;
}

interface PexState {
  /** What this peer has heard from us: the peers it knows we have. */
  told: Map<string, PexPeer>;
  lastSent: number;
  lastReceived: number;
  ignored: number;
}

const key = (p: PeerAddress) => `${p.host}:${p.port}`;

/**
 * Peer exchange (BEP 11): every minute each peer that offers ut_pex hears which peers we
 * connected to and dropped since our last message (at most 50 of each), the first message a
 * little after the handshake. Messages from a peer more often than every 30 s are ignored
 * (counted), and at most 50 addresses are taken from one. Never for private torrents (BEP 27):
 * the torrent does not load this extension then.
 */
export class UtPex implements PeerExtension {
  readonly name = 'ut_pex';
  private states = new WeakMap<PeerSession, PexState>();

  constructor(
    private readonly host: PexHost,
    private readonly intervalMs = 60_000,
    private readonly firstAfterMs = 3_000,
  ) {}

  private state(s: PeerSession): PexState {
    let st = this.states.get(s);
    if (!st) {
      // Backdated so that the first message goes out `firstAfterMs` after we meet.
      st = { told: new Map(), lastSent: Date.now() - this.intervalMs + this.firstAfterMs, lastReceived: 0, ignored: 0 };
      this.states.set(s, st);
    }
    return st;
  }

  peerHandshake(s: PeerSession): void {
    if (s.extensions?.m.has(this.name)) this.state(s);
  }

  tick(now: number, sessions: Iterable<PeerSession>): void {
    let current: Map<PeerSession, PexPeer> | undefined;
    for (const s of sessions) {
      if (!s.extensions?.m.has(this.name)) continue;
      const st = this.state(s);
      if (now - st.lastSent < this.intervalMs) continue;
      current ??= this.host.pexPeers();
      const now_ = new Map<string, PexPeer>();
      for (const [other, p] of current) if (other !== s) now_.set(key(p), p);
      const added = [...now_.entries()].filter(([k]) => !st.told.has(k)).slice(0, MAX_PEX_PEERS);
      const dropped = [...st.told.entries()].filter(([k]) => !now_.has(k)).slice(0, MAX_PEX_PEERS);
      st.lastSent = now;
      if (added.length === 0 && dropped.length === 0) continue;
      for (const [k] of dropped) st.told.delete(k);
      for (const [k, p] of added) st.told.set(k, p);
      sendExtended(s, this.name, encodePexMessage({ added: added.map(([, p]) => p), dropped: dropped.map(([, p]) => p) }));
    }
  }

  message(s: PeerSession, payload: Uint8Array): void {
    const m = decodePexMessage(payload); // malformed: the connection closes
    const st = this.state(s);
    const now = Date.now();
    if (now - st.lastReceived < this.intervalMs / 2) {
      st.ignored++;
      return;
    }
    st.lastReceived = now;
    this.host.learned(m.added.slice(0, MAX_PEX_PEERS), s);
  }

  /** How many too-frequent messages a peer sent (for tests and logs). */
  ignoredFrom(s: PeerSession): number {
    return this.states.get(s)?.ignored ?? 0;
  }
}
