import { decode, encode, isBytes, isList } from '../bencode/index.js';
import { BencodeError, WireError } from '../errors.js';
import { MERKLE_HASH_LENGTH, type MerkleProofEntry } from '../metainfo/merkle.js';

/**
 * BEP 30 `Tr_hashpiece`: how Merkle torrents carry blocks between peers, as a BEP 10 extension
 * message instead of `piece`: 4-byte index, 4-byte begin, 4-byte length of a bencoded hash list,
 * the hash list ([[node, hash], ...]: the piece's own hash, its sibling and its uncles up to the
 * root), then the block. Only the block at begin 0 carries hashes; for every other begin the
 * list is empty.
 */
export interface HashPiece {
  index: number;
  begin: number;
  hashes: MerkleProofEntry[];
  block: Uint8Array;
}

/** A tree of 2^24 leaves is 25 levels: a longer list is not a proof. */
const MAX_HASHES = 64;

export function encodeHashPiece(m: HashPiece): Uint8Array {
  const list = encode(m.hashes.map(([node, hash]) => [node, hash]));
  const out = new Uint8Array(12 + list.length + m.block.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, m.index);
  view.setUint32(4, m.begin);
  view.setUint32(8, list.length);
  out.set(list, 12);
  out.set(m.block, 12 + list.length);
  return out;
}

export function decodeHashPiece(payload: Uint8Array): HashPiece {
  if (payload.length < 12) throw new WireError('hashpiece.short', `Tr_hashpiece of ${payload.length} bytes`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  const index = view.getUint32(0);
  const begin = view.getUint32(4);
  const listLength = view.getUint32(8);
  if (listLength > payload.length - 12) throw new WireError('hashpiece.list-length', `hash list of ${listLength} bytes in a ${payload.length}-byte message`);
  let list;
  try {
    list = decode(payload.subarray(12, 12 + listLength), { maxDepth: 3, maxValues: 3 * MAX_HASHES + 2 });
  } catch (err) {
    if (err instanceof BencodeError) throw new WireError('hashpiece.bencode', `Tr_hashpiece hash list is not bencode: ${err.message}`);
    throw err;
  }
  if (!isList(list) || list.length > MAX_HASHES) throw new WireError('hashpiece.list', 'Tr_hashpiece hash list is not a list of at most 64 entries');
  const hashes: MerkleProofEntry[] = [];
  for (const entry of list) {
    if (!isList(entry) || entry.length !== 2 || typeof entry[0] !== 'number' || !Number.isInteger(entry[0]) || entry[0] < 0 || !isBytes(entry[1]) || entry[1].length !== MERKLE_HASH_LENGTH) {
      throw new WireError('hashpiece.entry', 'Tr_hashpiece hash entries must be [node, 20-byte hash]');
    }
    hashes.push([entry[0], entry[1]]);
  }
  if (begin !== 0 && hashes.length > 0) throw new WireError('hashpiece.hashes', 'only the block at begin 0 carries hashes (BEP 30)');
  return { index, begin, hashes, block: payload.subarray(12 + listLength) };
}
