import type { Env } from '../env.js';
import { readTorrent, type Metainfo } from '../../shared/metainfo/torrent-file.js';
import { TorrentGeometry } from '../../shared/metainfo/geometry.js';
import { contentKeys } from '../publish/content-keys.js';

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
const cache = new Map<string, SeededTorrent>();

/**
 * The published torrent with this info-hash, or undefined. Only torrents whose publication
 * completed (every piece checked) have a `meta.torrent`; they are cached in the isolate, since a
 * published torrent never changes.
 */
export async function seededTorrent(env: Env, hex: string): Promise<SeededTorrent | undefined> {
  const hit = cache.get(hex);
  if (hit) return hit;
  const object = await env.CONTENT.get(contentKeys.torrent(hex));
  if (!object) return undefined;
  const metainfo = readTorrent(new Uint8Array(await object.arrayBuffer()));
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
    publishedAt: object.uploaded,
  };
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
  cache.set(hex, torrent);
  return torrent;
}
