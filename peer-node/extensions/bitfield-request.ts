import { WireError } from '../../shared/errors.js';
import { BITFIELD_REQUEST_EXTENSION, decodeBitfieldRequestMessage, encodeBitfieldRequest, encodeBitfieldResponse } from '../../shared/wire/bitfield-request.js';
import type { Bitfield } from '../engine/bitfield.js';
import type { PeerSession } from '../engine/peer-session.js';
import { type PeerExtension, sendExtended } from './extension.js';

/** A peer may have its request answered once in this long; earlier ones are ignored. */
export const BITFIELD_ANSWER_INTERVAL_MS = 5_000;
/** Ignored requests a connection may send before it is closed as a flood. */
export const BITFIELD_FLOOD_LIMIT = 20;

export interface BitfieldRequestHost {
  readonly pieceCount: number;
  /** The pieces we would announce now; undefined when we do not tell (a super-seeder). */
  announcedPieces(): Bitfield | undefined;
  /** A response taught us pieces the peer has (pieces are never taken back: a union). */
  peerPieces(session: PeerSession, have: 'all' | Uint8Array): void;
}

export type BitfieldRequestRefusal = 'rate-limited' | 'super-seeding' | 'unsolicited';

interface PeerState {
  answeredAt: number;
  ignored: number;
  asked: boolean;
}

/**
 * Bitfield Request / Response (`pp_bitfield`, shared/wire/bitfield-request.ts). We answer a
 * peer's request with our current pieces (have all / have none to a Fast peer, else the bits),
 * at most once per BITFIELD_ANSWER_INTERVAL_MS per peer; requests in between are ignored and
 * counted, and past BITFIELD_FLOOD_LIMIT of them the connection closes. A super-seeder does not
 * answer (it reveals pieces one peer at a time on purpose). A response we did not ask for is
 * ignored and counted; one we asked for adds the pieces it names to the peer's set.
 */
export class BitfieldRequest implements PeerExtension {
  readonly name = BITFIELD_REQUEST_EXTENSION;
  readonly refused: Record<BitfieldRequestRefusal, number> = { 'rate-limited': 0, 'super-seeding': 0, unsolicited: 0 };
  answered = 0;
  private readonly peers = new WeakMap<PeerSession, PeerState>();

  constructor(
    private readonly host: BitfieldRequestHost,
    private readonly now: () => number = Date.now,
  ) {}

  private state(s: PeerSession): PeerState {
    let st = this.peers.get(s);
    if (!st) this.peers.set(s, (st = { answeredAt: -Infinity, ignored: 0, asked: false }));
    return st;
  }

  message(s: PeerSession, payload: Uint8Array): void {
    const m = decodeBitfieldRequestMessage(payload, this.host.pieceCount);
    const st = this.state(s);
    if (m.type === 'response') {
      if (!st.asked) return void this.refused.unsolicited++;
      st.asked = false;
      return this.host.peerPieces(s, 'have' in m ? (m.have === 'all' ? 'all' : new Uint8Array(Math.ceil(this.host.pieceCount / 8))) : m.bitfield);
    }
    const now = this.now();
    if (now - st.answeredAt < BITFIELD_ANSWER_INTERVAL_MS) {
      this.refused['rate-limited']++;
      if (++st.ignored > BITFIELD_FLOOD_LIMIT) throw new WireError('pp-bitfield.flood', `${st.ignored} bitfield requests inside ${BITFIELD_ANSWER_INTERVAL_MS / 1000} s of an answer`);
      return;
    }
    const pieces = this.host.announcedPieces();
    if (!pieces) return void this.refused['super-seeding']++;
    st.answeredAt = now;
    const fast = s.fast;
    const answer = fast && pieces.complete ? { have: 'all' as const } : fast && pieces.count === 0 ? { have: 'none' as const } : { bitfield: pieces.bytes.slice() };
    if (sendExtended(s, this.name, encodeBitfieldResponse(answer))) this.answered++;
  }

  /** Asks the peer for its current pieces; false when it does not offer the message. */
  ask(s: PeerSession): boolean {
    if (!sendExtended(s, this.name, encodeBitfieldRequest())) return false;
    this.state(s).asked = true;
    return true;
  }
}
