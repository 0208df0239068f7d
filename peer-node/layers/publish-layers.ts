/**
 * Publishing a layered asset: its layer files as one multi-file torrent (named after the
 * folder; the manifest itself stays out), then the layer info, with each layer's file index
 * taken from the torrent as built, to the edge (`PUT /layers/<info-hash>`).
 */
import { request } from 'undici';
import { type LayerInfo } from '../../shared/layers/layer-info.js';
import { parseTorrent } from '../../shared/metainfo/index.js';
import { publishPath, type PublishOptions, PublishRequestError, type PublishResult, withoutToken } from '../publish/publish-client.js';
import { readLayeredAsset, toLayerInfo } from './layered-asset.js';

export interface PublishLayersOptions extends Omit<PublishOptions, 'path' | 'include'> {
  /** The asset folder: layer files and layers.json. */
  dir: string;
}

export interface PublishLayersResult extends PublishResult {
  /** The layer info the edge accepted. */
  layerInfo: LayerInfo;
}

/**
 * Checks the asset (before any upload), publishes its layer files, and stores its layer info
 * on the edge. Throws LayerInfoError for a bad asset and PublishRequestError for a refusal.
 */
export async function publishLayeredAsset(options: PublishLayersOptions): Promise<PublishLayersResult> {
  const asset = await readLayeredAsset(options.dir);
  const layerPaths = new Set(asset.manifest.layers.map((l) => l.path));
  const { dir: _dir, ...publishOptions } = options;
  const published = await publishPath({ ...publishOptions, path: asset.dir, include: (p) => layerPaths.has(p.join('/')) });
  // Indices from the torrent the edge returned, not from our own idea of its file order.
  const torrent = await parseTorrent(published.torrent);
  const layerInfo = toLayerInfo(asset.manifest, torrent.info.files);
  await putLayerInfo(options.edge, options.token, published.infoHash, layerInfo);
  return { ...published, layerInfo };
}

/** `PUT /layers/<info-hash>` with the publish token; a refusal becomes a PublishRequestError with the edge's reason. */
export async function putLayerInfo(edge: URL, token: string, infoHash: string, info: LayerInfo): Promise<void> {
  const response = await request(new URL(`/layers/${infoHash}`, edge), {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(info),
  });
  const text = await response.body.text();
  if (response.statusCode === 200) return;
  let reason = text.slice(0, 300);
  try {
    const body = JSON.parse(text) as { error?: unknown; code?: unknown };
    if (typeof body.error === 'string') reason = typeof body.code === 'string' ? `${body.error} (${body.code})` : body.error;
  } catch {
    // not JSON: the text itself
  }
  throw new PublishRequestError(`the edge refused the layer info of ${infoHash} (${response.statusCode}): ${withoutToken(reason, token)}`);
}
