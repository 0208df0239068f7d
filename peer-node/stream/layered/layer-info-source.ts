import { readFile } from 'node:fs/promises';
import { request } from 'undici';
import { readBounded } from '../../http/read-bounded.js';
import { type LayerInfo, MAX_LAYER_INFO_BYTES, parseLayerInfo } from '../../../shared/layers/layer-info.js';
import type { ParsedTorrent } from '../../../shared/metainfo/torrent-file.js';

/**
 * GET-LAYER: the layer info of a torrent, from `source` (a file or an http(s) URL) when given,
 * else from the torrent's HTTP trackers (`/layers/<infohash>` beside each tracker's announce
 * path, the edge's route), first answer wins. Checked against the torrent's files.
 */
export async function loadLayerInfo(metainfo: ParsedTorrent, source?: string): Promise<LayerInfo> {
  const fileLengths = metainfo.info.files.map((f) => f.length);
  if (source && !/^https?:\/\//.test(source)) return parseLayerInfo(await readFile(source), fileLengths);
  const urls = source ? [source] : trackerLayerUrls(metainfo);
  if (urls.length === 0) throw new Error('no layer info: the torrent has no HTTP tracker to ask (GET-LAYER); give --layer-info FILE|URL');
  const reasons: string[] = [];
  for (const url of urls) {
    try {
      return parseLayerInfo(await getBounded(url), fileLengths);
    } catch (err) {
      reasons.push(`${url}: ${(err as Error).message}`);
    }
  }
  throw new Error(`no layer info (GET-LAYER): ${reasons.join('; ')}`);
}

/** `/layers/<infohash>` at each HTTP tracker's origin, under the path before `announce`. */
export function trackerLayerUrls(metainfo: ParsedTorrent): string[] {
  const out = new Set<string>();
  for (const tier of metainfo.announceList) {
    for (const announce of tier) {
      if (!/^https?:\/\//.test(announce)) continue;
      let u: URL;
      try {
        u = new URL(announce);
      } catch {
        continue; // one malformed tracker URL does not stop the others
      }
      // Beside the announce path (`/announce`, `/p/KEY/announce`); any other path: at the root.
      const base = /\/announce[^/]*$/.test(u.pathname) ? u.pathname.replace(/announce[^/]*$/, '') : '/';
      out.add(`${u.origin}${base}layers/${metainfo.infoHashHex}`);
    }
  }
  return [...out];
}

async function getBounded(url: string): Promise<Uint8Array> {
  const res = await request(url, { headersTimeout: 10_000, bodyTimeout: 10_000, signal: AbortSignal.timeout(30_000) });
  if (res.statusCode !== 200) {
    await res.body.dump({ limit: 4096 }).catch(() => undefined);
    throw new Error(`HTTP ${res.statusCode}`);
  }
  const body = await readBounded(res.body, MAX_LAYER_INFO_BYTES);
  if (!body) throw new Error(`layer info over ${MAX_LAYER_INFO_BYTES} bytes`);
  return body;
}
