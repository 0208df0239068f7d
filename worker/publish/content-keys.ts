/**
 * Where a published torrent lives in R2. Files are stored as fixed-size chunks, one object each:
 * uploads need no multipart state (a part is one put, in any order, resumable part by part),
 * and range reads touch one or two small objects. (Measured on Miniflare: a 256 KiB range of a
 * 64 MiB multipart object read 4.4x slower than the same range of a single-put object.)
 */
export const CHUNK_SIZE = 8 * 1024 * 1024;

export const contentKeys = {
  /** The published .torrent: its presence means "verified and served". */
  torrent: (hex: string) => `torrents/${hex}/meta.torrent`,
  /** A publication in progress (upload state), removed when it completes. */
  pending: (hex: string) => `torrents/${hex}/pending.json`,
  /** Chunk `chunk` (CHUNK_SIZE bytes, the last may be short) of file `index`. */
  chunk: (hex: string, index: number, chunk: number) => `torrents/${hex}/files/${index}/${chunk}`,
};
