import { decodePrefix, describeValue, encode, isDict } from '../bencode/index.js';
import { BencodeError, WireError } from '../errors.js';
import { concatBytes } from '../bytes.js';
import { MAX_TORRENT_BYTES } from '../metainfo/torrent-file.js';

/**
 * BEP 9 ut_metadata messages: the info dictionary in 16 KiB pieces. A bencoded dictionary with
 * `msg_type` (0 request, 1 data, 2 reject) and `piece`; a data message also carries
 * `total_size` and the piece's bytes right after the dictionary. Unknown message types are
 * returned as such and ignored by the receiver (BEP 9: "unrecognized message types must be
 * ignored").
 */
export const METADATA_PIECE = 16 * 1024;
/** Largest info dictionary we fetch or serve: the same bound as a .torrent file. */
export const MAX_METADATA_SIZE = MAX_TORRENT_BYTES;

export type MetadataMessage =
  | { type: 'request'; piece: number }
  | { type: 'data'; piece: number; totalSize: number; data: Uint8Array }
  | { type: 'reject'; piece: number }
  | { type: 'unknown'; msgType: number; piece: number };

const TYPES = { request: 0, data: 1, reject: 2 } as const;

export function metadataPieceCount(size: number): number {
  return Math.ceil(size / METADATA_PIECE);
}

/** Length of metadata piece `piece` of a `size`-byte info dictionary. */
export function metadataPieceLength(size: number, piece: number): number {
  return Math.min(METADATA_PIECE, size - piece * METADATA_PIECE);
}

export function encodeMetadataMessage(m: MetadataMessage): Uint8Array {
  if (m.type === 'unknown') return encode({ msg_type: m.msgType, piece: m.piece });
  if (m.type !== 'data') return encode({ msg_type: TYPES[m.type], piece: m.piece });
  return concatBytes([encode({ msg_type: TYPES.data, piece: m.piece, total_size: m.totalSize }), m.data]);
}

export function decodeMetadataMessage(payload: Uint8Array): MetadataMessage {
  let head;
  try {
    head = decodePrefix(payload, { maxDepth: 4, maxValues: 64, maxBytes: METADATA_PIECE + 1024 });
  } catch (err) {
    if (err instanceof BencodeError) throw new WireError('ut-metadata.bencode', `ut_metadata message is not bencode: ${err.message}`);
    throw err;
  }
  const dict = head.value;
  if (!isDict(dict)) throw new WireError('ut-metadata.not-dict', 'ut_metadata message is not a dictionary');
  const msgType = dict['msg_type'];
  const piece = dict['piece'];
  if (typeof msgType !== 'number' || !Number.isInteger(msgType) || msgType < 0) throw new WireError('ut-metadata.msg-type', 'ut_metadata message without an integer msg_type');
  if (typeof piece !== 'number' || !Number.isInteger(piece) || piece < 0 || piece >= metadataPieceCount(MAX_METADATA_SIZE)) {
    throw new WireError('ut-metadata.piece', 'ut_metadata message without a valid piece index');
  }
  const rest = payload.subarray(head.end);
  switch (msgType) {
    case TYPES.request:
      return { type: 'request', piece };
    case TYPES.reject:
      return { type: 'reject', piece };
    case TYPES.data: {
      const totalSize = dict['total_size'];
      if (typeof totalSize !== 'number' || !Number.isInteger(totalSize) || totalSize <= 0 || totalSize > MAX_METADATA_SIZE) {
        throw new WireError('ut-metadata.total-size', `ut_metadata data with total_size ${describeValue(totalSize)} (limit ${MAX_METADATA_SIZE})`);
      }
      if (piece >= metadataPieceCount(totalSize)) throw new WireError('ut-metadata.piece', `ut_metadata piece ${piece} past the end of ${totalSize} bytes`);
      if (rest.length !== metadataPieceLength(totalSize, piece)) {
        throw new WireError('ut-metadata.data-length', `ut_metadata piece ${piece} carries ${rest.length} bytes, not ${metadataPieceLength(totalSize, piece)}`);
      }
      return { type: 'data', piece, totalSize, data: rest.slice() };
    }
    default:
      return { type: 'unknown', msgType, piece };
  }
}
