import type { TorrentStorage } from './torrent-storage.js';

/**
 * Whole verified pieces kept in memory for upload, least recently used dropped first, bounded in
 * bytes. Peers ask for a piece in 16 KiB blocks, usually in order: reading the piece once and
 * serving its blocks from memory turns 64 disk reads of a 1 MiB piece into one. Concurrent misses
 * of one piece share one read. Freshly verified pieces go in too, since in a swarm the pieces we
 * just got are the ones others ask for next.
 */
export class PieceCache {
  private pieces = new Map<number, Uint8Array>();
  private reading = new Map<number, Promise<Uint8Array | undefined>>();
  private bytes = 0;

  constructor(
    private readonly storage: TorrentStorage,
    private readonly maxBytes = 32 * 1024 * 1024,
  ) {}

  /** A block of a piece we have; undefined when the data is not on disk (deleted under us). */
  async read(index: number, begin: number, length: number): Promise<Uint8Array | undefined> {
    // Pieces too big to keep several of are not cached: read just the block.
    if (this.storage.geometry.pieceSize(index) > this.maxBytes / 4) return this.storage.read(index, begin, length);
    let piece = this.pieces.get(index);
    if (piece) {
      this.pieces.delete(index);
      this.pieces.set(index, piece);
    } else {
      let pending = this.reading.get(index);
      if (!pending) {
        pending = this.storage.read(index, 0, this.storage.geometry.pieceSize(index)).finally(() => this.reading.delete(index));
        this.reading.set(index, pending);
      }
      piece = await pending;
      if (!piece) return undefined;
      this.put(index, piece);
    }
    return piece.subarray(begin, begin + length);
  }

  put(index: number, piece: Uint8Array): void {
    if (piece.length > this.maxBytes) return;
    const old = this.pieces.get(index);
    if (old) {
      this.bytes -= old.length;
      this.pieces.delete(index);
    }
    this.pieces.set(index, piece);
    this.bytes += piece.length;
    while (this.bytes > this.maxBytes) {
      const [oldest, p] = this.pieces.entries().next().value!;
      this.pieces.delete(oldest);
      this.bytes -= p.length;
    }
  }

  clear(): void {
    this.pieces.clear();
    this.bytes = 0;
  }
}
