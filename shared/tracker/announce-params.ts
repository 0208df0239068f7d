/**
 * The one shape every tracker transport parses into (HTTP query, BEP 15 packet), so that the
 * swarm rules see the same request whatever it came over.
 */

/** BEP 3 events, plus `paused` from BEP 21 (partial seeds say it in every announce). */
export type AnnounceEvent = 'none' | 'started' | 'completed' | 'stopped' | 'paused';

export interface AnnounceParams {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  port: number;
  uploaded: number;
  downloaded: number;
  left: number;
  event: AnnounceEvent;
  /** How many peers the client wants; already clamped to the tracker's cap. */
  numwant: number;
  /** BEP 23: compact peer strings (default) or the dictionary list of BEP 3. */
  compact: boolean;
  /** BEP 3: leave `peer id` out of dictionary-model peers. */
  noPeerId: boolean;
  /** Stays the same for a client across IP changes; lets the tracker tell it from an impostor. */
  key?: string;
  trackerId?: string;
  /** BEP 7: an address of the other family the client also listens on (`ipv4=` / `ipv6=` / `ip=`). */
  otherAddresses: { host: string; port: number }[];
  /**
   * LAYER-CHANGE (layered streaming, shared/layers): the layer the peer now plays, 0 to
   * MAX_LAYERS - 1. Absent: the peer's last reported layer stays.
   */
  layer?: number;
}

export interface ScrapeParams {
  infoHashes: Uint8Array[];
}

/** Tracker-wide bounds, shared by every transport. */
export const TRACKER_LIMITS = {
  /** numwant when the client gives none (BEP 3 suggests 50). */
  defaultNumwant: 50,
  /** Most peers one response returns. */
  maxNumwant: 200,
  /** Most info-hashes in one HTTP scrape (BEP 15 packets fit about 74). */
  maxScrapeHashes: 100,
  /** Longest `key` / `trackerid` kept. */
  maxTokenLength: 64,
} as const;
