import { MerkleError } from '../errors.js';
import { bytesEqual, concatBytes } from '../bytes.js';
import { sha1 } from '../sha1.js';

/**
 * BEP 30 Merkle hash trees. Leaves are the SHA-1 of each piece, placed from the left; the
 * remaining leaves of the smallest power-of-two level that holds them are the filler hash of
 * 20 zero bytes; each parent is SHA-1(left || right). Nodes are numbered as in BEP 30:
 * the root is 0 and the children of node i are 2i+1 and 2i+2.
 */
export const MERKLE_HASH_LENGTH = 20;
/** Bound on the pieces a tree may hold (2^24 pieces is far above any real torrent). */
export const MAX_MERKLE_LEAVES = 1 << 24;

/** One hash of a proof: its node number in the tree and the digest. */
export type MerkleProofEntry = [node: number, hash: Uint8Array];

/** A full tree held as an array in BEP 30 node order. */
export class MerkleTree {
  private constructor(
    /** Every node, index = BEP 30 node number. */
    readonly nodes: Uint8Array[],
    readonly pieceCount: number,
    /** Number of leaves (a power of two >= pieceCount). */
    readonly leafCount: number,
  ) {}

  /** Builds the tree over piece hashes (each 20 bytes). */
  static async fromPieceHashes(pieceHashes: readonly Uint8Array[]): Promise<MerkleTree> {
    if (pieceHashes.length === 0) throw new MerkleError('empty', 'a Merkle tree needs at least one piece');
    if (pieceHashes.length > MAX_MERKLE_LEAVES) throw new MerkleError('too-large', `more than ${MAX_MERKLE_LEAVES} pieces`);
    for (const h of pieceHashes) {
      if (h.length !== MERKLE_HASH_LENGTH) throw new MerkleError('bad-hash', `piece hashes are ${MERKLE_HASH_LENGTH} bytes`);
    }
    const leafCount = leavesFor(pieceHashes.length);
    const nodes = new Array<Uint8Array>(2 * leafCount - 1);
    const firstLeaf = leafCount - 1;
    const filler = new Uint8Array(MERKLE_HASH_LENGTH);
    for (let i = 0; i < leafCount; i++) nodes[firstLeaf + i] = pieceHashes[i] ?? filler;
    for (let n = firstLeaf - 1; n >= 0; n--) {
      nodes[n] = await sha1(concatBytes([nodes[2 * n + 1]!, nodes[2 * n + 2]!]));
    }
    return new MerkleTree(nodes, pieceHashes.length, leafCount);
  }

  get root(): Uint8Array {
    return this.nodes[0]!;
  }

  /**
   * The hashes a peer needs to check piece `index` against the root: the sibling of the leaf and
   * the sibling of every ancestor up to (not including) the root, leaf level first.
   */
  proof(index: number): MerkleProofEntry[] {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) {
      throw new MerkleError('bad-piece', `no piece ${index} in a tree of ${this.pieceCount}`);
    }
    const entries: MerkleProofEntry[] = [];
    for (let node = this.leafCount - 1 + index; node > 0; node = (node - 1) >> 1) {
      const sibling = node % 2 === 1 ? node + 1 : node - 1;
      entries.push([sibling, this.nodes[sibling]!]);
    }
    return entries;
  }
}

/** Leaves in the smallest power-of-two level that holds `pieceCount` pieces. */
export function leavesFor(pieceCount: number): number {
  let leaves = 1;
  while (leaves < pieceCount) leaves *= 2;
  return leaves;
}

/**
 * Checks that `pieceHash` is piece `index` of the tree with `root`, given proof hashes keyed by
 * node number (extra entries, e.g. the root itself, are ignored). Returns false on any mismatch
 * or missing hash; throws MerkleError only for impossible arguments.
 */
export async function verifyMerkleProof(
  root: Uint8Array,
  pieceCount: number,
  index: number,
  pieceHash: Uint8Array,
  proof: readonly MerkleProofEntry[],
): Promise<boolean> {
  if (!Number.isInteger(pieceCount) || pieceCount < 1 || pieceCount > MAX_MERKLE_LEAVES) {
    throw new MerkleError('bad-piece-count', `bad piece count ${pieceCount}`);
  }
  if (!Number.isInteger(index) || index < 0 || index >= pieceCount) {
    throw new MerkleError('bad-piece', `no piece ${index} in a tree of ${pieceCount}`);
  }
  if (root.length !== MERKLE_HASH_LENGTH || pieceHash.length !== MERKLE_HASH_LENGTH) return false;
  const byNode = new Map<number, Uint8Array>();
  for (const [node, hash] of proof) if (hash.length === MERKLE_HASH_LENGTH) byNode.set(node, hash);
  let node = leavesFor(pieceCount) - 1 + index;
  let hash = pieceHash;
  while (node > 0) {
    const isLeft = node % 2 === 1;
    const sibling = byNode.get(isLeft ? node + 1 : node - 1);
    if (!sibling) return false;
    hash = await sha1(concatBytes(isLeft ? [hash, sibling] : [sibling, hash]));
    node = (node - 1) >> 1;
  }
  return bytesEqual(hash, root);
}
