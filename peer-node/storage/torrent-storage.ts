import { createHash } from 'node:crypto';
import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import type { InfoDict } from '../../shared/metainfo/info-dict.js';
import { TorrentGeometry } from '../../shared/metainfo/geometry.js';

/**
 * A torrent's files on disk, addressed by piece: pieces are written as they arrive (across file
 * boundaries), blocks are read for upload, and `verify` rebuilds what we have after a restart by
 * hashing what is on disk, so verified data is never fetched twice. BEP 47 padding files are
 * never written and read as zeros. Files are created sparse on first write. At most
 * `maxOpenFiles` idle handles are kept open (least recently used closed first, and only once
 * no read or write is using them), so a torrent of thousands of files does not exhaust
 * descriptors.
 */
export class TorrentStorage {
  readonly geometry: TorrentGeometry;
  private closed = false;
  private handles = new Map<number, { opening: Promise<FileHandle>; busy: number; evicted: boolean; writable: boolean }>();

  constructor(
    readonly info: InfoDict,
    /** The folder the torrent's name goes in. */
    readonly dir: string,
    private readonly maxOpenFiles = 64,
  ) {
    this.geometry = new TorrentGeometry({ pieceLength: info.pieceLength, files: info.files });
  }

  /** Where file `index` lives: DIR/NAME for a single file, DIR/NAME/PATH... for a multi-file torrent. */
  filePath(index: number): string {
    const f = this.info.files[index]!;
    return this.info.multiFile ? path.join(this.dir, this.info.name, ...f.path) : path.join(this.dir, this.info.name);
  }

  /** Runs `use` with file `index` open; an evicted handle is closed only once no one uses it. */
  private async withFile<T>(index: number, create: boolean, use: (fh: FileHandle) => Promise<T>): Promise<T | undefined> {
    // After close, nothing may open a file again (it would leak its descriptor).
    if (this.closed) throw new Error('the torrent storage is closed');
    let entry = this.handles.get(index);
    if (entry && create && !entry.writable) {
      // Opened read-only for seeding (read-only content stays seedable); a write reopens it.
      this.handles.delete(index);
      const old = entry;
      old.evicted = true;
      if (old.busy === 0) void old.opening.then((fh) => fh.close()).catch(() => undefined);
      entry = undefined;
    }
    if (entry) {
      this.handles.delete(index);
      this.handles.set(index, entry);
    } else {
      const file = this.filePath(index);
      // The promise is shared at once, so concurrent reads and writes of one file open it once.
      const opening = (async () => {
        if (create) await mkdir(path.dirname(file), { recursive: true });
        return open(file, create ? constants.O_RDWR | constants.O_CREAT : constants.O_RDONLY);
      })();
      entry = { opening, busy: 0, evicted: false, writable: create };
      this.handles.set(index, entry);
      while (this.handles.size > this.maxOpenFiles) {
        const [oldest, old] = this.handles.entries().next().value!;
        this.handles.delete(oldest);
        old.evicted = true;
        if (old.busy === 0) void old.opening.then((fh) => fh.close()).catch(() => undefined);
      }
    }
    const current = entry;
    current.busy++;
    try {
      let fh: FileHandle;
      try {
        fh = await current.opening;
      } catch (err) {
        if (this.handles.get(index) === current) this.handles.delete(index);
        if (!create && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      return await use(fh);
    } finally {
      if (--current.busy === 0 && current.evicted) void current.opening.then((fh) => fh.close()).catch(() => undefined);
    }
  }

  /** Writes a whole, already verified piece. */
  async writePiece(index: number, bytes: Uint8Array): Promise<void> {
    if (bytes.length !== this.geometry.pieceSize(index)) throw new Error(`piece ${index} is ${this.geometry.pieceSize(index)} bytes, not ${bytes.length}`);
    let at = 0;
    for (const span of this.geometry.pieceRangeToFiles(index, 0, bytes.length)) {
      if (!this.info.files[span.fileIndex]!.padding) {
        const offset = at;
        await this.withFile(span.fileIndex, true, (fh) => fh.write(bytes, offset, span.length, span.fileOffset));
      }
      at += span.length;
    }
  }

  /** Creates the torrent's empty files: no piece ever writes them, yet they are part of the content. */
  async createEmptyFiles(wanted: (fileIndex: number) => boolean = () => true): Promise<void> {
    for (let i = 0; i < this.info.files.length; i++) {
      const f = this.info.files[i]!;
      if (f.length === 0 && !f.padding && wanted(i)) await this.withFile(i, true, async () => undefined);
    }
  }

  /** Reads bytes of a piece; undefined when some of it is not on disk. */
  async read(index: number, begin: number, length: number): Promise<Uint8Array | undefined> {
    const out = new Uint8Array(length);
    let at = 0;
    for (const span of this.geometry.pieceRangeToFiles(index, begin, length)) {
      if (!this.info.files[span.fileIndex]!.padding) {
        const offset = at;
        const bytesRead = await this.withFile(span.fileIndex, false, async (fh) => (await fh.read(out, offset, span.length, span.fileOffset)).bytesRead);
        if (bytesRead !== span.length) return undefined;
      }
      at += span.length;
    }
    return out;
  }

  /**
   * SHA-1 of every piece wholly on disk (undefined where a file is missing or short): for
   * Merkle torrents (BEP 30), whose tree is rebuilt from these. `onPiece` returning false stops.
   */
  async pieceHashes(onPiece?: () => boolean | void): Promise<(Uint8Array | undefined)[]> {
    const sizes = await this.fileSizes();
    const out: (Uint8Array | undefined)[] = [];
    for (let i = 0; i < this.geometry.pieceCount; i++) {
      const size = this.geometry.pieceSize(i);
      const onDisk = this.geometry.pieceRangeToFiles(i, 0, size).every((span) => sizes[span.fileIndex]! >= span.fileOffset + span.length);
      const bytes = onDisk ? await this.read(i, 0, size) : undefined;
      out.push(bytes ? new Uint8Array(createHash('sha1').update(bytes).digest()) : undefined);
      if (onPiece?.() === false) break;
    }
    return out;
  }

  private fileSizes(): Promise<number[]> {
    return Promise.all(
      this.info.files.map((f, i) => (f.padding ? Promise.resolve(f.length) : stat(this.filePath(i)).then((st) => (st.isFile() ? st.size : -1), () => -1))),
    );
  }

  /**
   * Hashes every piece on disk against the torrent: which pieces we have (pieces in missing or
   * short files count as absent without a read, see `pieceHashes`). `onPiece` returning false
   * stops early.
   */
  async verify(onPiece?: () => boolean | void): Promise<boolean[]> {
    const hashes = await this.pieceHashes(onPiece);
    return hashes.map((hash, i) => hash !== undefined && this.info.pieces[i] !== undefined && Buffer.from(hash).equals(this.info.pieces[i]!));
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(all.map((h) => h.opening.then((fh) => fh.close()).catch(() => undefined)));
  }
}
