/** Announce parameters for the swarm rules' unit tests: peer n, with a stable id and port. */
import type { AnnounceParams } from '../../shared/tracker/announce-params.js';

export const peerIdOf = (n: number) => new TextEncoder().encode(`-ES0100-${String(n).padStart(12, '0')}`);

export const announceParams = (n: number, over: Partial<AnnounceParams> = {}): AnnounceParams => ({
  infoHash: new Uint8Array(20),
  peerId: peerIdOf(n),
  port: 6000 + n,
  uploaded: 0,
  downloaded: 0,
  left: 100,
  event: 'started',
  numwant: 50,
  compact: true,
  noPeerId: false,
  otherAddresses: [],
  ...over,
});
