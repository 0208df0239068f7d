import type { AnnounceParams } from '../../shared/tracker/announce-params.js';

/** What the peer tells a tracker in an announce, over HTTP or BEP 15 alike. */
export type ClientAnnounce = Pick<AnnounceParams, 'infoHash' | 'peerId' | 'port' | 'uploaded' | 'downloaded' | 'left' | 'event'> & {
  numWant?: number;
  /** Random per session, so a tracker knows us across address changes: 8 hex digits over HTTP, a u32 in BEP 15. */
  key?: number;
  /** HTTP only: the `tracker id` a tracker asked us to send back. */
  trackerId?: string;
  /** Layered streaming: our active layer (LAYER-CHANGE at the tracker, `layer=` over HTTP). */
  layer?: number;
};
