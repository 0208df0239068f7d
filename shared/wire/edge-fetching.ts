import { decode, encode, isDict } from '../bencode/index.js';
import { BencodeError, WireError } from '../errors.js';

/**
 * EDGE-FETCHING between peers, as a BEP 10 extension message named `pp_fetching`: a bencoded
 * dictionary `{ pieces: <4-byte big-endian piece indexes> }` naming pieces the sender has just
 * begun to fetch from a web seed (the edge). Its peers, lacking those pieces too, wait for the
 * sender's HAVE instead of asking the edge for the same pieces at the same moment: in a flash
 * crowd of viewers, most of the edge's duplicate bytes were two viewers fetching one piece
 * nobody had yet, each unaware of the other (docs/EXTENSIONS.md, section 5).
 */
export const EDGE_FETCHING_EXTENSION = 'pp_fetching';
/** Pieces one message may name: a scheduling pass starts a handful of fetches, never more. */
export const MAX_FETCHING_PIECES = 64;
const MAX_MESSAGE = 32 + 4 * MAX_FETCHING_PIECES;

export function encodeEdgeFetching(pieces: readonly number[]): Uint8Array {
  if (pieces.length === 0 || pieces.length > MAX_FETCHING_PIECES) throw new RangeError(`pp_fetching names 1 to ${MAX_FETCHING_PIECES} pieces, got ${pieces.length}`);
  const bytes = new Uint8Array(4 * pieces.length);
  const view = new DataView(bytes.buffer);
  pieces.forEach((index, k) => {
    if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) throw new RangeError(`not a piece index: ${index}`);
    view.setUint32(4 * k, index);
  });
  return encode({ pieces: bytes });
}

/**
 * The piece indexes in a `pp_fetching` payload, each below `pieceCount`; WireError for anything
 * else (the connection closes, as for any malformed message).
 */
export function decodeEdgeFetching(payload: Uint8Array, pieceCount: number): number[] {
  if (payload.length > MAX_MESSAGE) throw new WireError('edge-fetching.size', `pp_fetching of ${payload.length} bytes (at most ${MAX_MESSAGE})`);
  let value;
  try {
    value = decode(payload);
  } catch (err) {
    if (err instanceof BencodeError) throw new WireError('edge-fetching.bencode', `pp_fetching is not bencode: ${err.message}`);
    throw err;
  }
  if (!isDict(value)) throw new WireError('edge-fetching.shape', 'pp_fetching must be a dictionary');
  const bytes = value.pieces;
  if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes.length % 4 !== 0 || bytes.length > 4 * MAX_FETCHING_PIECES) {
    throw new WireError('edge-fetching.pieces', `pp_fetching pieces must be 1 to ${MAX_FETCHING_PIECES} 4-byte indexes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let at = 0; at < bytes.length; at += 4) {
    const index = view.getUint32(at);
    if (index >= pieceCount) throw new WireError('edge-fetching.index', `pp_fetching names piece ${index} of ${pieceCount}`);
    out.push(index);
  }
  return out;
}
