import { WireError } from '../../shared/errors.js';
import { decodeMetadataMessage, encodeMetadataMessage, METADATA_PIECE, metadataPieceCount } from '../../shared/wire/ut-metadata.js';
import type { PeerSession } from '../engine/peer-session.js';
import { type PeerExtension, sendExtended } from './extension.js';

/**
 * Serves a torrent's info dictionary to peers that joined from a magnet (BEP 9): each request
 * is answered with the piece, or rejected past the end. A peer may ask for the whole dictionary a
 * few times over; one that asks for much more is flooding and is closed.
 */
export class UtMetadataServer implements PeerExtension {
  readonly name = 'ut_metadata';
  private asked = new WeakMap<PeerSession, number>();

  constructor(private readonly infoBytes: Uint8Array) {}

  handshakeFields() {
    return { metadataSize: this.infoBytes.length };
  }

  message(session: PeerSession, payload: Uint8Array): void {
    const m = decodeMetadataMessage(payload);
    if (m.type !== 'request') return; // we never ask a peer for metadata we already have
    const pieces = metadataPieceCount(this.infoBytes.length);
    const asked = (this.asked.get(session) ?? 0) + 1;
    this.asked.set(session, asked);
    if (asked > 4 * pieces + 16) throw new WireError('ut-metadata.flood', `${asked} metadata requests for ${pieces} pieces`);
    if (m.piece >= pieces) {
      sendExtended(session, this.name, encodeMetadataMessage({ type: 'reject', piece: m.piece }));
      return;
    }
    const data = this.infoBytes.subarray(m.piece * METADATA_PIECE, (m.piece + 1) * METADATA_PIECE);
    sendExtended(session, this.name, encodeMetadataMessage({ type: 'data', piece: m.piece, totalSize: this.infoBytes.length, data }));
  }
}
