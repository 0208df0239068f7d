import { WireError } from '../../shared/errors.js';
import type { PeerSession } from '../engine/peer-session.js';
import { type PeerExtension, sendExtended } from './extension.js';

export interface UploadOnlyHost {
  /** We want nothing more: a seed, or a partial seed whose chosen files are done. */
  readonly uploadOnly: boolean;
  /** A peer said it wants nothing more (or wants again). */
  peerUploadOnly(session: PeerSession): void;
}

/**
 * BEP 21 partial seeds: `upload_only: 1` in our BEP 10 handshake once we want nothing more, and
 * the `upload_only` extension message (one byte, 1 or 0) when that changes after the handshake.
 * A peer's state comes from its handshake field or that message.
 */
export class UploadOnly implements PeerExtension {
  readonly name = 'upload_only';

  constructor(private readonly host: UploadOnlyHost) {}

  handshakeFields() {
    return { uploadOnly: this.host.uploadOnly };
  }

  peerHandshake(s: PeerSession): void {
    if (s.extensions?.uploadOnly !== undefined) {
      s.uploadOnly = s.extensions.uploadOnly;
      this.host.peerUploadOnly(s);
    }
  }

  message(s: PeerSession, payload: Uint8Array): void {
    if (payload.length !== 1 || payload[0]! > 1) throw new WireError('upload-only.payload', `upload_only message of ${payload.length} bytes (expected one byte, 0 or 1)`);
    s.uploadOnly = payload[0] === 1;
    this.host.peerUploadOnly(s);
  }

  /** Tells every peer that offers the message that our state changed. */
  announce(sessions: Iterable<PeerSession>): void {
    const payload = Uint8Array.of(this.host.uploadOnly ? 1 : 0);
    for (const s of sessions) sendExtended(s, this.name, payload);
  }
}
