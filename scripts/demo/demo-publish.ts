/**
 * Publishing the demo asset once: the info-hash is kept beside the asset, and a later start
 * that finds the edge still holding that torrent and its layer info skips the upload. The
 * torrent itself is always fetched from the running edge, so its tracker and seed URLs name the
 * edge's address of this start, whatever port the last one used.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import { parseTorrent } from '../../shared/metainfo/index.js';
import type { ParsedTorrent } from '../../shared/metainfo/torrent-file.js';
import { publishLayeredAsset } from '../../peer-node/layers/publish-layers.js';

const RECORD = 'published.json';

export interface DemoPublication {
  infoHash: string;
  metainfo: ParsedTorrent;
  /** False when an earlier start published it and the edge still has it. */
  published: boolean;
}

async function edgeHas(edge: URL, infoHash: string): Promise<boolean> {
  for (const route of [`/t/${infoHash}.torrent`, `/layers/${infoHash}`]) {
    const { statusCode, body } = await request(new URL(route, edge));
    await body.dump();
    if (statusCode !== 200) return false;
  }
  return true;
}

export async function ensurePublished(edge: URL, token: string, assetDir: string): Promise<DemoPublication> {
  const record = path.join(assetDir, '..', `${path.basename(assetDir)}.${RECORD}`);
  let infoHash: string | undefined;
  try {
    infoHash = (JSON.parse(await readFile(record, 'utf8')) as { infoHash?: string }).infoHash;
  } catch {
    // not published from this folder yet
  }
  let published = false;
  if (!infoHash || !/^[0-9a-f]{40}$/.test(infoHash) || !(await edgeHas(edge, infoHash))) {
    infoHash = (await publishLayeredAsset({ dir: assetDir, edge, token })).infoHash;
    await writeFile(record, `${JSON.stringify({ infoHash }, null, 2)}\n`);
    published = true;
  }
  const { statusCode, body } = await request(new URL(`/t/${infoHash}.torrent`, edge));
  if (statusCode !== 200) throw new Error(`the edge did not hand out the demo torrent: ${statusCode} ${await body.text()}`);
  const metainfo = await parseTorrent(new Uint8Array(await body.arrayBuffer()));
  return { infoHash, metainfo, published };
}
