/** What the Swarm object reports to GET /stats and the dashboard. */
import type { PeerSummary } from './peer-summary.js';
import type { TrafficSample } from './traffic-series.js';

/** One swarm's figures as its object knows them (the route adds the info-hash and name). */
export interface SwarmStats {
  /** P2P seeds (the edge's HTTP seed is `edgeSeeding`, not counted here). */
  seeds: number;
  /** BEP 48 `incomplete`: everyone without the whole torrent, BEP 21 partial seeds included. */
  leechers: number;
  /** BEP 21 `downloaders`: leechers that still download (partial seeds excluded). */
  downloaders: number;
  /** BEP 48 `downloaded`: completions, each peer counted once. */
  completed: number;
  /** Whether the edge seed served this swarm in the last minutes (a scrape counts it as a seed). */
  edgeSeeding: boolean;
  /** Active layers of layered assets; omitted when the swarm has no layer info and nobody reported a layer. */
  layers?: { byLayer: Record<string, number> };
  /** Bytes the edge's HTTP seed sent for this torrent (cumulative). */
  edgeBytes: number;
  /** Bytes peers reported uploading to each other (cumulative, see SwarmRules.peerBytes). */
  peerBytes: number;
  /** Share of the delivery the peers carried: peerBytes / (peerBytes + edgeBytes); null before any. */
  offload: number | null;
  /** BEP 27: a private swarm is shown only to the publisher. */
  private: boolean;
  /** The publisher's part (publish token only). */
  publisher?: { registered: boolean; hasLayerInfo: boolean; peers: PeerSummary };
  /** Samples over time, oldest first (GET /stats/:infoHash only). */
  series?: TrafficSample[];
}

/** peerBytes / (peerBytes + edgeBytes), or null when nothing was delivered yet. */
export function offloadOf(peerBytes: number, edgeBytes: number): number | null {
  const total = peerBytes + edgeBytes;
  return total === 0 ? null : peerBytes / total;
}
