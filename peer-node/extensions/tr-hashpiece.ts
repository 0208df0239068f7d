import { WireError } from '../../shared/errors.js';
import { decodeHashPiece } from '../../shared/wire/tr-hashpiece.js';
import type { MerkleHashes } from '../engine/merkle-hashes.js';
import type { PeerSession } from '../engine/peer-session.js';
import type { PeerExtension } from './extension.js';

/**
 * BEP 30 between peers: blocks of a Merkle torrent arrive as `Tr_hashpiece` messages. The first
 * block of a piece brings the hashes that prove it; they are checked against the root (a list
 * that does not prove the piece closes the connection), and the block goes the way of any
 * `piece` message (matched against our requests). Sending is the torrent's upload path.
 */
export class TrHashpiece implements PeerExtension {
  readonly name = 'Tr_hashpiece';

  constructor(private readonly merkle: MerkleHashes) {}

  message(s: PeerSession, payload: Uint8Array): void {
    const m = decodeHashPiece(payload);
    if (m.index >= this.merkle.pieceCount) throw new WireError('hashpiece.index', `Tr_hashpiece for piece ${m.index} of ${this.merkle.pieceCount}`);
    if (m.begin === 0 && m.hashes.length === 0) throw new WireError('hashpiece.no-hashes', `Tr_hashpiece for the first block of piece ${m.index} without its hashes (BEP 30)`);
    // Only blocks we asked for may bring hashes: an unsolicited list is not even looked at.
    if (m.hashes.length > 0 && s.isOutstanding({ index: m.index, begin: m.begin, length: m.block.length })) {
      void this.merkle.accept(m.index, m.hashes).then(
        (ok) => ok || s.connection.close(`protocol error: the hashes for piece ${m.index} do not lead to the root hash`),
        () => s.connection.close(`protocol error: bad hashes for piece ${m.index}`),
      );
    }
    s.receiveBlock(m.index, m.begin, m.block);
  }
}
