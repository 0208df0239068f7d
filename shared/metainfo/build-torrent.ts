import { MetainfoError } from '../errors.js';
import { encode } from '../bencode/index.js';
import { concatBytes } from '../bytes.js';
import { sha1 } from '../sha1.js';
import { type ParsedTorrent, parseTorrent } from './torrent-file.js';

/** What a new torrent is made of. Give `length` for a single file or `files` for a directory. */
export interface TorrentSpec {
  name: string;
  pieceLength: number;
  /** Concatenated 20-byte SHA-1 piece hashes (see PieceHasher), unless `rootHash` is given. */
  pieces?: Uint8Array;
  /** BEP 30 Merkle root instead of `pieces`. */
  rootHash?: Uint8Array;
  length?: number;
  files?: { path: string[]; length: number; padding?: boolean }[];
  private?: boolean;
  announce?: string;
  announceList?: string[][];
  urlList?: string[];
  httpSeeds?: string[];
  comment?: string;
  createdBy?: string;
  creationDate?: number;
}

/** A built torrent: its bytes and its own parse (so a built torrent always passes validation). */
export interface BuiltTorrent {
  bytes: Uint8Array;
  torrent: ParsedTorrent;
}

/** Builds the canonical .torrent for a spec and checks it by parsing it back. */
export async function buildTorrent(spec: TorrentSpec): Promise<BuiltTorrent> {
  if ((spec.length === undefined) === (spec.files === undefined)) {
    throw new MetainfoError('bad-layout', 'give exactly one of length and files');
  }
  const info = {
    name: spec.name,
    'piece length': spec.pieceLength,
    pieces: spec.rootHash === undefined ? spec.pieces : undefined,
    'root hash': spec.rootHash,
    length: spec.length,
    files: spec.files?.map((f) => ({ length: f.length, path: f.path, attr: f.padding ? 'p' : undefined })),
    private: spec.private ? 1 : undefined,
  };
  const announce = spec.announce ?? spec.announceList?.[0]?.[0];
  const bytes = encode({
    announce,
    'announce-list': spec.announceList && spec.announceList.length > 0 ? spec.announceList : undefined,
    comment: spec.comment,
    'created by': spec.createdBy,
    'creation date': spec.creationDate,
    httpseeds: spec.httpSeeds && spec.httpSeeds.length > 0 ? spec.httpSeeds : undefined,
    info,
    'url-list': spec.urlList && spec.urlList.length > 0 ? spec.urlList : undefined,
  });
  return { bytes, torrent: await parseTorrent(bytes) };
}

/**
 * A piece length for `totalBytes`: a power of two from 16 KiB to 16 MiB aiming at no more than
 * about 1,500 pieces, as common creators do (small pieces trade well, few pieces keep the
 * .torrent small).
 */
export function choosePieceLength(totalBytes: number): number {
  let length = 16 * 1024;
  while (length < 16 * 1024 * 1024 && totalBytes / length > 1500) length *= 2;
  return length;
}

/**
 * Hashes a byte stream into pieces as it arrives: feed the files' bytes in torrent order with
 * `update`, then `finish` for the concatenated piece hashes. Holds at most one piece in memory.
 */
export class PieceHasher {
  private readonly buffer: Uint8Array;
  private filled = 0;
  private readonly hashes: Uint8Array[] = [];
  private drained = 0;

  constructor(readonly pieceLength: number) {
    this.buffer = new Uint8Array(pieceLength);
  }

  async update(chunk: Uint8Array): Promise<void> {
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(chunk.length - at, this.pieceLength - this.filled);
      this.buffer.set(chunk.subarray(at, at + take), this.filled);
      this.filled += take;
      at += take;
      if (this.filled === this.pieceLength) await this.flush();
    }
  }

  /** The piece hashes, 20 bytes each, concatenated; the last piece may be short. */
  async finish(): Promise<Uint8Array> {
    if (this.filled > 0) await this.flush();
    return concatBytes(this.hashes);
  }

  /** Pieces hashed so far. */
  get count(): number {
    return this.hashes.length;
  }

  /** The hashes completed since the last drain (for checking as the stream goes). */
  drain(): Uint8Array[] {
    const out = this.hashes.slice(this.drained);
    this.drained = this.hashes.length;
    return out;
  }

  private async flush(): Promise<void> {
    const digest = await sha1(this.buffer.subarray(0, this.filled));
    this.hashes.push(digest);
    this.filled = 0;
  }
}

/** Convenience for small in-memory content: hashes one byte array into pieces. */
export async function hashPieces(data: Uint8Array, pieceLength: number): Promise<Uint8Array> {
  const hasher = new PieceHasher(pieceLength);
  await hasher.update(data);
  return hasher.finish();
}
