import type { ExtensionHandshake } from '../../shared/wire/extension-handshake.js';
import type { PeerSession } from '../engine/peer-session.js';

/**
 * A BEP 10 extension as a torrent runs it: its name goes in our handshake's `m` under the id we
 * give it, it may add fields to our handshake (`metadata_size`, `upload_only`), and messages
 * peers send under that id reach `message`. A ProtocolError thrown there closes that peer's
 * connection with the reason, as for any other bad message.
 */
export interface PeerExtension {
  readonly name: string;
  /** Fields this extension adds to our extension handshake. */
  handshakeFields?(): Partial<ExtensionHandshake>;
  /** The peer's extension handshake arrived (or changed). */
  peerHandshake?(session: PeerSession): void;
  message(session: PeerSession, payload: Uint8Array): void;
  closed?(session: PeerSession): void;
  /** Called every second with the torrent's sessions (for periodic messages such as PEX). */
  tick?(now: number, sessions: Iterable<PeerSession>): void;
}

/** The ids we receive each extension under (fixed, so logs and captures read the same). */
export const LOCAL_EXTENSION_IDS: Record<string, number> = {
  ut_pex: 1,
  ut_metadata: 2,
  upload_only: 3,
  lt_tex: 4,
  Tr_hashpiece: 5,
  pp_layer: 6,
  pp_bitfield: 7,
  pp_fetching: 8,
};

/** Sends an extension message to a peer under the id it asked for; false when it did not offer it. */
export function sendExtended(session: PeerSession, name: string, payload: Uint8Array): boolean {
  const id = session.extensions?.m.get(name);
  if (!id) return false;
  session.send({ type: 'extended', extendedId: id, payload });
  return true;
}
