import { decode, describeValue, encode, isBytes, isDict } from '../bencode/index.js';
import { BencodeError, WireError } from '../errors.js';

/**
 * The PPSP survey's Bitfield Request / Response as a BEP 10 extension message named
 * `pp_bitfield`: a peer asks another to resend its current piece set, mid-connection (after
 * HAVEs it may have missed, or a super-seeder's partial view). BEP 3 lets a `bitfield` (and BEP 6
 * `have all` / `have none`) be only the first message, so the answer travels inside the
 * extension message itself:
 *
 *   request   d8:msg_typei0ee
 *   response  d8:bitfield<ceil(pieces/8) bytes>8:msg_typei1ee     (BEP 3 bit order)
 *             d4:have3:all8:msg_typei1ee  /  d4:have4:none8:msg_typei1ee   (Fast peers, BEP 6)
 *
 * The bitfield follows BEP 3's rules: exactly ceil(pieces / 8) bytes, spare bits clear.
 */
export const BITFIELD_REQUEST_EXTENSION = 'pp_bitfield';

export type BitfieldRequestMessage =
  | { type: 'request' }
  | { type: 'response'; have: 'all' | 'none' }
  | { type: 'response'; bitfield: Uint8Array };

/** Room for the bencode around the bits (keys, msg_type, the length prefix). */
const MAX_OVERHEAD = 64;

export function encodeBitfieldRequest(): Uint8Array {
  return encode({ msg_type: 0 });
}

export function encodeBitfieldResponse(answer: { have: 'all' | 'none' } | { bitfield: Uint8Array }): Uint8Array {
  return 'have' in answer ? encode({ msg_type: 1, have: answer.have }) : encode({ msg_type: 1, bitfield: answer.bitfield });
}

/**
 * One `pp_bitfield` payload for a torrent of `pieceCount` pieces; WireError (the connection
 * closes) for anything malformed: not bencode, an unknown msg_type, a bitfield of the wrong
 * length or with spare bits set, both or neither of `have` and `bitfield` in a response.
 */
export function decodeBitfieldRequestMessage(payload: Uint8Array, pieceCount: number): BitfieldRequestMessage {
  const bitBytes = Math.ceil(pieceCount / 8);
  if (payload.length > bitBytes + MAX_OVERHEAD) throw new WireError('pp-bitfield.size', `pp_bitfield message of ${payload.length} bytes (at most ${bitBytes + MAX_OVERHEAD} for ${pieceCount} pieces)`);
  let value;
  try {
    value = decode(payload, { maxDepth: 2, maxValues: 8, maxBytes: bitBytes + MAX_OVERHEAD });
  } catch (err) {
    if (err instanceof BencodeError) throw new WireError('pp-bitfield.bencode', `pp_bitfield message is not bencode: ${err.message}`);
    throw err;
  }
  if (!isDict(value)) throw new WireError('pp-bitfield.shape', 'pp_bitfield message must be a dictionary');
  const type = value.msg_type;
  if (type === 0) return { type: 'request' };
  if (type !== 1) throw new WireError('pp-bitfield.msg-type', `pp_bitfield msg_type ${describeValue(type)} (0 request, 1 response)`);
  const have = value.have;
  const bits = value.bitfield;
  if ((have === undefined) === (bits === undefined)) throw new WireError('pp-bitfield.answer', 'a pp_bitfield response carries exactly one of "have" and "bitfield"');
  if (have !== undefined) {
    const text = isBytes(have) ? new TextDecoder().decode(have) : undefined;
    if (text !== 'all' && text !== 'none') throw new WireError('pp-bitfield.have', 'pp_bitfield "have" must be "all" or "none"');
    return { type: 'response', have: text };
  }
  if (!isBytes(bits)) throw new WireError('pp-bitfield.bitfield', 'pp_bitfield "bitfield" must be a byte string');
  if (bits.length !== bitBytes) throw new WireError('pp-bitfield.length', `pp_bitfield bitfield of ${bits.length} bytes for ${pieceCount} pieces (expected ${bitBytes})`);
  const spare = bitBytes * 8 - pieceCount;
  if (spare > 0 && (bits[bitBytes - 1]! & ((1 << spare) - 1)) !== 0) throw new WireError('pp-bitfield.spare-bits', `pp_bitfield bitfield sets spare bits past piece ${pieceCount - 1}`);
  return { type: 'response', bitfield: bits };
}
