import { GeometryError } from '../errors.js';

/** BEP 3: requests are for 16 KiB blocks (clients drop larger requests). */
export const BLOCK_LENGTH = 16 * 1024;

/** A run of bytes inside one file. */
export interface FileSpan {
  fileIndex: number;
  /** Byte offset inside that file. */
  fileOffset: number;
  length: number;
}

/** The shape of a torrent's byte space: files laid end to end, cut into pieces and blocks. */
export interface GeometryInput {
  pieceLength: number;
  files: readonly { length: number }[];
}

/**
 * Maps pieces and blocks to file byte ranges across a multi-file torrent and back. Files are
 * concatenated in order (BEP 3); pieces straddle file boundaries; the last piece may be short.
 */
export class TorrentGeometry {
  readonly pieceLength: number;
  readonly totalLength: number;
  readonly pieceCount: number;
  /** Start offset of each file in the torrent's byte space, plus the total at the end. */
  private readonly starts: number[];
  private readonly lengths: number[];

  constructor(input: GeometryInput) {
    if (!Number.isSafeInteger(input.pieceLength) || input.pieceLength <= 0) {
      throw new GeometryError('bad-piece-length', `piece length must be a positive integer, got ${input.pieceLength}`);
    }
    this.pieceLength = input.pieceLength;
    this.lengths = input.files.map((f) => f.length);
    this.starts = [];
    let at = 0;
    for (const length of this.lengths) {
      if (!Number.isSafeInteger(length) || length < 0) throw new GeometryError('bad-file-length', `bad file length ${length}`);
      this.starts.push(at);
      at += length;
    }
    this.starts.push(at);
    this.totalLength = at;
    this.pieceCount = Math.ceil(at / this.pieceLength);
  }

  /** Bytes in piece `index` (the last one may be short). */
  pieceSize(index: number): number {
    this.checkPiece(index);
    return Math.min(this.pieceLength, this.totalLength - index * this.pieceLength);
  }

  /** Offset of piece `index` in the torrent's byte space. */
  pieceOffset(index: number): number {
    this.checkPiece(index);
    return index * this.pieceLength;
  }

  /** Number of 16 KiB blocks in piece `index`. */
  blockCount(index: number): number {
    return Math.ceil(this.pieceSize(index) / BLOCK_LENGTH);
  }

  /** Length of block `block` of piece `index` (the last block may be short). */
  blockSize(index: number, block: number): number {
    const size = this.pieceSize(index);
    if (!Number.isInteger(block) || block < 0 || block * BLOCK_LENGTH >= size) {
      throw new GeometryError('bad-block', `piece ${index} has no block ${block}`);
    }
    return Math.min(BLOCK_LENGTH, size - block * BLOCK_LENGTH);
  }

  /** True when [begin, begin+length) lies inside piece `index` and length > 0. */
  isValidRange(index: number, begin: number, length: number): boolean {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) return false;
    if (!Number.isInteger(begin) || !Number.isInteger(length) || begin < 0 || length <= 0) return false;
    return begin + length <= this.pieceSize(index);
  }

  /** The file spans that bytes [begin, begin+length) of piece `index` cover, in order. */
  pieceRangeToFiles(index: number, begin: number, length: number): FileSpan[] {
    if (!this.isValidRange(index, begin, length)) {
      throw new GeometryError('bad-range', `piece ${index} has no bytes [${begin}, ${begin + length})`);
    }
    return this.byteRangeToFiles(index * this.pieceLength + begin, length);
  }

  /** The file spans covered by torrent bytes [offset, offset+length). Empty files are skipped. */
  byteRangeToFiles(offset: number, length: number): FileSpan[] {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.totalLength) {
      throw new GeometryError('bad-range', `bytes [${offset}, ${offset + length}) lie outside ${this.totalLength}`);
    }
    const spans: FileSpan[] = [];
    let at = offset;
    const end = offset + length;
    for (let f = this.fileAt(offset); at < end && f < this.lengths.length; f++) {
      const fileEnd = this.starts[f + 1]!;
      if (fileEnd <= at) continue; // empty file, or one before `at`
      const take = Math.min(end, fileEnd) - at;
      spans.push({ fileIndex: f, fileOffset: at - this.starts[f]!, length: take });
      at += take;
    }
    return spans;
  }

  /** Where byte `fileOffset` of file `fileIndex` sits: its piece and offset inside it. */
  fileOffsetToPiece(fileIndex: number, fileOffset: number): { index: number; begin: number } {
    const length = this.lengths[fileIndex];
    if (length === undefined || !Number.isSafeInteger(fileOffset) || fileOffset < 0 || fileOffset >= length) {
      throw new GeometryError('bad-range', `file ${fileIndex} has no byte ${fileOffset}`);
    }
    const offset = this.starts[fileIndex]! + fileOffset;
    return { index: Math.floor(offset / this.pieceLength), begin: offset % this.pieceLength };
  }

  /** First and last piece that hold bytes of file `fileIndex`; undefined for an empty file. */
  filePieces(fileIndex: number): { first: number; last: number } | undefined {
    const length = this.lengths[fileIndex];
    if (length === undefined) throw new GeometryError('bad-file', `no file ${fileIndex}`);
    if (length === 0) return undefined;
    const start = this.starts[fileIndex]!;
    return { first: Math.floor(start / this.pieceLength), last: Math.floor((start + length - 1) / this.pieceLength) };
  }

  /** Index of the file that holds torrent byte `offset` (binary search over the starts). */
  private fileAt(offset: number): number {
    let lo = 0;
    let hi = this.lengths.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private checkPiece(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) {
      throw new GeometryError('bad-piece', `no piece ${index} (the torrent has ${this.pieceCount})`);
    }
  }
}
