import { MerkleError } from '../../shared/errors.js';
import { leavesFor, MerkleTree, type MerkleProofEntry, verifyMerkleProof } from '../../shared/metainfo/merkle.js';
import { bytesEqual } from '../../shared/bytes.js';

/**
 * The part of a BEP 30 Merkle tree a peer knows: at first only the root (from the torrent); a
 * seed, the whole tree rebuilt from its data; a downloader, each piece's hash and the hashes
 * that prove it, taken from the `Tr_hashpiece` that brought the piece's first block once they
 * chain up to the root. Those same hashes are what it sends on when it serves the piece.
 */
export class MerkleHashes {
  private readonly known = new Map<number, Uint8Array>();
  private readonly pending = new Map<number, Promise<boolean>>();
  private readonly leafCount: number;

  constructor(
    readonly root: Uint8Array,
    readonly pieceCount: number,
  ) {
    this.leafCount = leavesFor(pieceCount);
    this.known.set(0, root);
  }

  /** Adopts a whole tree built from data on disk; false when it does not end in our root. */
  adoptTree(tree: MerkleTree): boolean {
    if (tree.pieceCount !== this.pieceCount || !bytesEqual(tree.root, this.root)) return false;
    tree.nodes.forEach((hash, node) => this.known.set(node, hash));
    return true;
  }

  private leaf(index: number): number {
    return this.leafCount - 1 + index;
  }

  /** Piece `index`'s hash once proven (waiting for a proof still being checked). */
  async pieceHash(index: number): Promise<Uint8Array | undefined> {
    await this.pending.get(index);
    return this.known.get(this.leaf(index));
  }

  /** What to send with the first block of piece `index`: its hash, its sibling and uncles, the root. */
  hashList(index: number): MerkleProofEntry[] | undefined {
    const out: MerkleProofEntry[] = [];
    let node = this.leaf(index);
    const own = this.known.get(node);
    if (!own) return undefined;
    out.push([node, own]);
    for (; node > 0; node = (node - 1) >> 1) {
      const sibling = node % 2 === 1 ? node + 1 : node - 1;
      const hash = this.known.get(sibling);
      if (!hash) return undefined;
      out.push([sibling, hash]);
    }
    out.push([0, this.root]);
    return out;
  }

  /**
   * Checks a received hash list for piece `index`: its own hash must chain up to the root
   * through the list's hashes. Only then are they kept (and passed on later).
   */
  accept(index: number, list: readonly MerkleProofEntry[]): Promise<boolean> {
    const check = (async () => {
      if (index >= this.pieceCount) throw new MerkleError('bad-piece', `no piece ${index} in a tree of ${this.pieceCount}`);
      // One hash per node: with two, the check and the keeping could each pick a different one.
      const byNode = new Map<number, Uint8Array>();
      for (const [node, hash] of list) {
        if (byNode.has(node)) return false;
        byNode.set(node, hash);
      }
      const own = byNode.get(this.leaf(index));
      if (!own) return false;
      // Exactly the path the proof uses: the leaf and each sibling up to the root.
      const path: [number, Uint8Array][] = [[this.leaf(index), own]];
      for (let node = this.leaf(index); node > 0; node = (node - 1) >> 1) {
        const sibling = node % 2 === 1 ? node + 1 : node - 1;
        const hash = byNode.get(sibling);
        if (!hash) return false;
        path.push([sibling, hash]);
      }
      if (!(await verifyMerkleProof(this.root, this.pieceCount, index, own, path))) return false;
      // What we know stays: a proven list cannot disagree with it (same root), and one that
      // does is refused rather than allowed to overwrite.
      for (const [node, hash] of path) {
        const known = this.known.get(node);
        if (known && !bytesEqual(known, hash)) return false;
      }
      for (const [node, hash] of path) this.known.set(node, hash);
      return true;
    })();
    // Several checks of one piece (endgame) may overlap: a reader waits for all of them.
    const previous = this.pending.get(index) ?? Promise.resolve(true);
    const all = Promise.all([previous, check.catch(() => false)]).then(() => true);
    this.pending.set(index, all);
    void all.then(() => this.pending.get(index) === all && this.pending.delete(index));
    return check;
  }
}
