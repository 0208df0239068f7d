/**
 * A layered media asset on disk: one file per layer and a manifest, `layers.json`, that is the
 * layer info of shared/layers/layer-info.ts with each layer naming its file by `path` (relative
 * to the folder) instead of by index in a torrent. Publishing turns the paths into indices of
 * the published torrent's file list (`toLayerInfo`).
 */
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { LayerInfoError } from '../../shared/errors.js';
import { type LayerInfo, type LayerMode, MAX_LAYER_INFO_BYTES, validateLayerInfo } from '../../shared/layers/layer-info.js';

/** The manifest's file name inside an asset folder. */
export const LAYERS_MANIFEST = 'layers.json';

/** One layer of a manifest: a LayerInfo layer whose file is a path in the asset folder. */
export interface ManifestLayer {
  index: number;
  bitrate: number;
  /** The layer's file, relative to the asset folder, with `/` between folders. */
  path: string;
  segments: [offset: number, length: number][];
}

/** `layers.json`: LayerInfo with `path` in place of each layer's `file`. */
export interface LayerManifest {
  version: 1;
  mode: LayerMode;
  segmentDuration: number;
  segmentCount: number;
  layers: ManifestLayer[];
}

/** A layered asset read from its folder: the checked manifest and each layer's file. */
export interface LayeredAsset {
  dir: string;
  manifest: LayerManifest;
  /** Absolute path of each layer's file, in layer order. */
  files: string[];
  /** Bytes in each layer's file, in layer order. */
  lengths: number[];
}

const fail = (code: string, message: string): never => {
  throw new LayerInfoError(code, message);
};

/** A layer path's components, or a LayerInfoError for one that could leave the folder. */
function pathComponents(value: unknown, k: number): string[] {
  if (typeof value !== 'string' || value === '') return fail('path', `layer ${k}: path must be a file name in the asset folder`);
  const parts = value.split('/');
  if (value.includes('\\') || value.includes('\0') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    fail('path', `layer ${k}: path ${JSON.stringify(value)} must be relative, inside the folder, with / between folders`);
  }
  if (value === LAYERS_MANIFEST) fail('path', `layer ${k}: the manifest cannot be a layer`);
  return parts;
}

/**
 * Checks a parsed manifest and returns it typed. `fileLengths`, when given, are the bytes in
 * each layer's file (in layer order) and bound every segment. Everything else is the rule of
 * validateLayerInfo: the manifest is checked as that layer info with layer k in file k.
 */
export function validateManifest(value: unknown, fileLengths?: readonly number[]): LayerManifest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('not-object', 'the manifest must be a JSON object');
  const v = value as Record<string, unknown>;
  if (!Array.isArray(v.layers)) return fail('layers', 'the manifest must have a list of layers');
  const seen = new Map<string, number>();
  const paths = (v.layers as unknown[]).map((raw, k) => {
    if (typeof raw !== 'object' || raw === null) return fail('layer', `layer ${k} must be an object`);
    const l = raw as Record<string, unknown>;
    if ('file' in l) fail('file', `layer ${k}: a manifest names files by path, not by index ("file")`);
    const p = pathComponents(l.path, k).join('/');
    const other = seen.get(p);
    if (other !== undefined) fail('file', `layers ${other} and ${k} both use ${p}`);
    seen.set(p, k);
    return p;
  });
  // Layer k in file k: validateLayerInfo checks everything but the paths.
  const asInfo = { ...v, layers: (v.layers as Record<string, unknown>[]).map((l, k) => ({ ...l, file: k })) };
  const info = validateLayerInfo(asInfo);
  if (fileLengths) {
    for (const layer of info.layers) {
      const length = fileLengths[layer.index]!;
      const last = layer.segments.length - 1;
      const [offset, size] = layer.segments[last]!;
      // Segments are in order and do not overlap (checked above): the last one ends furthest.
      if (offset + size > length) {
        fail('segment-range', `layer ${layer.index} segment ${last} ends at byte ${offset + size}, past the end of ${paths[layer.index]} (${length} bytes)`);
      }
    }
  }
  return {
    version: 1,
    mode: info.mode,
    segmentDuration: info.segmentDuration,
    segmentCount: info.segmentCount,
    layers: info.layers.map((l) => ({ index: l.index, bitrate: l.bitrate, path: paths[l.index]!, segments: l.segments })),
  };
}

/**
 * Reads and checks the layered asset in `dir`: its `layers.json`, and that every layer's file
 * exists and holds all of that layer's segments. Throws LayerInfoError naming the manifest and
 * the first problem.
 */
export async function readLayeredAsset(dir: string): Promise<LayeredAsset> {
  const root = path.resolve(dir);
  const manifestPath = path.join(root, LAYERS_MANIFEST);
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail('manifest', code === 'ENOENT' ? `${dir} has no ${LAYERS_MANIFEST}` : `cannot read ${manifestPath}: ${(err as Error).message}`);
  }
  if (text.length > MAX_LAYER_INFO_BYTES) fail('too-large', `${manifestPath} is over ${MAX_LAYER_INFO_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return fail('json', `${manifestPath} is not JSON: ${(err as Error).message}`);
  }
  const within = (err: unknown): never => {
    if (err instanceof LayerInfoError) throw new LayerInfoError(err.code.replace(/^layers\./, ''), `${manifestPath}: ${err.message}`);
    throw err;
  };
  let manifest: LayerManifest;
  try {
    manifest = validateManifest(value);
  } catch (err) {
    return within(err);
  }
  const files = manifest.layers.map((l) => path.join(root, ...l.path.split('/')));
  const lengths: number[] = [];
  for (const [k, file] of files.entries()) {
    let info;
    try {
      info = await lstat(file);
    } catch {
      return fail('missing-file', `${manifestPath}: layer ${k}'s file ${manifest.layers[k]!.path} is not in ${root}`);
    }
    if (!info.isFile()) fail('missing-file', `${manifestPath}: layer ${k}'s ${manifest.layers[k]!.path} is not a regular file (symbolic links are not published)`);
    lengths.push(info.size);
  }
  try {
    validateManifest(value, lengths);
  } catch (err) {
    return within(err);
  }
  return { dir: root, manifest, files, lengths };
}

/** A file of a torrent's file list, as shared/metainfo parses it (path below the torrent's root). */
export interface TorrentFileEntry {
  path: readonly string[];
  length: number;
}

/**
 * The layer info for a torrent made from the asset: each layer's path becomes the index of that
 * file in `torrentFiles` (the torrent's own file list, in its order), and the result is checked
 * against those files' lengths.
 */
export function toLayerInfo(manifest: LayerManifest, torrentFiles: readonly TorrentFileEntry[]): LayerInfo {
  const index = new Map(torrentFiles.map((f, i) => [f.path.join('/'), i] as const));
  const info = {
    version: 1,
    mode: manifest.mode,
    segmentDuration: manifest.segmentDuration,
    segmentCount: manifest.segmentCount,
    layers: manifest.layers.map((l) => {
      const file = index.get(l.path);
      if (file === undefined) return fail('file', `layer ${l.index}: ${l.path} is not a file of the torrent`);
      return { index: l.index, bitrate: l.bitrate, file, segments: l.segments };
    }),
  };
  return validateLayerInfo(
    info,
    torrentFiles.map((f) => f.length),
  );
}
