import type { Env } from '../env.js';
import { readTorrent, type Metainfo } from '../../shared/metainfo/torrent-file.js';
import { TorrentGeometry } from '../../shared/metainfo/geometry.js';
import { contentKeys } from '../publish/content-keys.js';
import { readStorage } from '../faults.js';

/** A published torrent as the seed needs it. */
export interface SeededTorrent {
  hex: string;
  metainfo: Metainfo;
  geometry: TorrentGeometry;
  /** `name/dir/file` (multi-file) or `name` (single) to file index, for BEP 19 paths. */
  paths: Map<string, number>;
  /** When it was published (HTTP Last-Modified; the content never changes after). */
  publishedAt: Date;
}

const MAX_CACHED = 1000;
/** Bytes of torrent metadata an isolate keeps (a torrent of a million files is large). */
const MAX_CACHED_BYTES = 16 * 1024 * 1024;
const cache = new Map<string, SeededTorrent>();
let cachedBytes = 0;

/**
 * The published torrent with this info-hash, or undefined. Only torrents whose publication
 * completed (every piece checked) have a `meta.torrent`; they are cached in the isolate, since a
 * published torrent never changes.
 */
export async function seededTorrent(env: Env, hex: string): Promise<SeededTorrent | undefined> {
  const hit = cache.get(hex);
  if (hit) return hit;
  // An R2 failure is a StorageUnavailableError (503 with Retry-After), not "not published".
  const read = await readStorage('R2', async () => {
    const object = await env.CONTENT.get(contentKeys.torrent(hex));
    return object ? { bytes: new Uint8Array(await object.arrayBuffer()), uploaded: object.uploaded } : undefined;
  });
  if (!read) return undefined;
  const metainfo = readTorrent(read.bytes);
  const info = metainfo.info;
  const paths = new Map<string, number>();
  info.files.forEach((f, i) => {
    if (!f.padding) paths.set(info.multiFile ? [info.name, ...f.path].join('/') : info.name, i);
  });
  const torrent: SeededTorrent = {
    hex,
    metainfo,
    geometry: new TorrentGeometry({ pieceLength: info.pieceLength, files: info.files }),
    paths,
    publishedAt: read.uploaded,
  };
  // Roughly what the parsed torrent holds: its bytes plus a little per file.
  const weight = metainfo.infoBytes.length + info.files.length * 200;
  while (cache.size > 0 && (cache.size >= MAX_CACHED || cachedBytes + weight > MAX_CACHED_BYTES)) {
    const [oldest, old] = cache.entries().next().value!;
    cache.delete(oldest);
    cachedBytes -= old.metainfo.infoBytes.length + old.metainfo.info.files.length * 200;
  }
  if (weight <= MAX_CACHED_BYTES) {
    cache.set(hex, torrent);
    cachedBytes += weight;
  }
  return torrent;
}
