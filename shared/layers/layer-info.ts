import { LayerInfoError } from '../errors.js';

/**
 * Layer info of a layered media asset (the PPSP survey's PUT-LAYER / GET-LAYER payload), as JSON.
 *
 * The asset is K layers, each cut into the same number of equal-duration segments; each layer
 * is one file of a multi-file torrent (`file` is its index in the torrent's file list), and
 * `segments[s]` is the byte range `[offset, length]` of segment s inside that file.
 * - `cumulative` (scalable coding): layer k adds to layers 0..k-1; a peer at active layer L
 *   holds and plays layers 0..L.
 * - `simulcast` (renditions): each layer stands alone; a peer at active layer L plays only L.
 * Bitrates are bits a second of that layer alone.
 */
export type LayerMode = 'cumulative' | 'simulcast';

export interface Layer {
  index: number;
  bitrate: number;
  file: number;
  segments: [offset: number, length: number][];
}

export interface LayerInfo {
  version: 1;
  mode: LayerMode;
  /** Seconds of media in every segment. */
  segmentDuration: number;
  segmentCount: number;
  layers: Layer[];
}

/** Bounds: a layer info is small next to the content; these keep a hostile one small too. */
export const MAX_LAYERS = 16;
export const MAX_SEGMENTS = 20_000;
export const MAX_LAYER_INFO_BYTES = 1024 * 1024;
/**
 * Bounds that keep arithmetic on the info finite and meaningful: 16 layers at the largest
 * bitrate still sum to a finite number (two at 1e308 made bitrateAt Infinity), and a segment
 * shorter than 10 ms is no media anyone segments.
 */
export const MAX_BITRATE = 1e11;
export const MIN_SEGMENT_DURATION = 0.01;
export const MAX_SEGMENT_DURATION = 3600;

const fail = (code: string, message: string): never => {
  throw new LayerInfoError(code, message);
};

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
/** JSON can carry -0, which passes as a count but prints as 0: kept as 0, so what passes is canonical. */
const unsigned = (x: number): number => (x === 0 ? 0 : x);

/**
 * Checks layer info from JSON (already parsed) and returns it typed. `fileLengths`, when known
 * (the torrent's files), also bounds every segment inside its file. Throws LayerInfoError with
 * the first inconsistency found.
 */
export function validateLayerInfo(value: unknown, fileLengths?: readonly number[]): LayerInfo {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('not-object', 'layer info must be a JSON object');
  const v = value as Record<string, unknown>;
  if (v.version !== 1) fail('version', `version must be 1, got ${JSON.stringify(v.version)}`);
  if (v.mode !== 'cumulative' && v.mode !== 'simulcast') fail('mode', `mode must be "cumulative" or "simulcast", got ${JSON.stringify(v.mode)}`);
  const duration = v.segmentDuration;
  if (typeof duration !== 'number' || !Number.isFinite(duration) || duration < MIN_SEGMENT_DURATION || duration > MAX_SEGMENT_DURATION) {
    fail('segment-duration', `segmentDuration must be a number of seconds from ${MIN_SEGMENT_DURATION} to ${MAX_SEGMENT_DURATION}, got ${JSON.stringify(duration)}`);
  }
  const count = v.segmentCount;
  if (!isCount(count) || count < 1 || count > MAX_SEGMENTS) fail('segment-count', `segmentCount must be an integer from 1 to ${MAX_SEGMENTS}`);
  const layers = v.layers;
  if (!Array.isArray(layers) || layers.length < 1 || layers.length > MAX_LAYERS) fail('layers', `layers must be a list of 1 to ${MAX_LAYERS} layers`);
  const files = new Set<number>();
  const out: Layer[] = (layers as unknown[]).map((raw, k) => {
    if (typeof raw !== 'object' || raw === null) return fail('layer', `layer ${k} must be an object`);
    const l = raw as Record<string, unknown>;
    if (l.index !== k) fail('layer-index', `layer ${k} has index ${JSON.stringify(l.index)}: layers are listed in order from 0`);
    if (typeof l.bitrate !== 'number' || !Number.isFinite(l.bitrate) || l.bitrate <= 0 || l.bitrate > MAX_BITRATE) fail('bitrate', `layer ${k}: bitrate must be a number of bits a second above 0 (at most ${MAX_BITRATE})`);
    const file = l.file;
    if (!isCount(file)) return fail('file', `layer ${k}: file must be a file index`);
    if (fileLengths && file >= fileLengths.length) fail('file', `layer ${k}: file ${file} is not in the torrent (${fileLengths.length} files)`);
    if (files.has(file)) fail('file', `layer ${k}: file ${file} already holds another layer`);
    files.add(file);
    const segments = l.segments;
    if (!Array.isArray(segments) || segments.length !== count) fail('segments', `layer ${k}: ${Array.isArray(segments) ? segments.length : 'no'} segments, segmentCount is ${count}`);
    let end = 0;
    const kept: [number, number][] = [];
    for (const [s, seg] of (segments as unknown[]).entries()) {
      if (!Array.isArray(seg) || seg.length !== 2 || !isCount(seg[0]) || !isCount(seg[1])) fail('segment', `layer ${k} segment ${s}: must be [offset, length] in bytes`);
      const [offset, length] = seg as [number, number];
      if (length === 0) fail('segment-empty', `layer ${k} segment ${s} is empty`);
      if (offset < end) fail('segment-overlap', `layer ${k} segment ${s} starts at ${offset}, inside or before segment ${s - 1} (ends at ${end})`);
      end = offset + length;
      // Past 2^53 the comparisons above and below would be done on rounded numbers.
      if (!Number.isSafeInteger(end)) fail('segment', `layer ${k} segment ${s} ends past ${Number.MAX_SAFE_INTEGER}`);
      if (fileLengths && end > fileLengths[file]!) fail('segment-range', `layer ${k} segment ${s} ends at ${end}, past the end of file ${file} (${fileLengths[file]} bytes)`);
      kept.push([unsigned(offset), length]);
    }
    return { index: k, bitrate: l.bitrate as number, file: unsigned(file), segments: kept };
  });
  return { version: 1, mode: v.mode as LayerMode, segmentDuration: duration as number, segmentCount: count as number, layers: out };
}

/**
 * Parses and checks layer info from JSON bytes or text. The bound is on UTF-8 bytes, checked
 * before decoding (a string is measured as the bytes it would be on the wire).
 */
export function parseLayerInfo(json: string | Uint8Array, fileLengths?: readonly number[]): LayerInfo {
  // A string of n UTF-16 units is at most 3n UTF-8 bytes: only long ones need measuring.
  const size = typeof json !== 'string' ? json.length : json.length * 3 <= MAX_LAYER_INFO_BYTES ? json.length : new TextEncoder().encode(json).length;
  if (size > MAX_LAYER_INFO_BYTES) fail('too-large', `layer info is over ${MAX_LAYER_INFO_BYTES} bytes`);
  let text: string;
  try {
    // Fatal: invalid UTF-8 would otherwise become U+FFFD and be stored as something not sent.
    text = typeof json === 'string' ? json : new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(json);
  } catch {
    return fail('json', 'layer info is not UTF-8 text');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return fail('json', `layer info is not JSON: ${(err as Error).message}`);
  }
  return validateLayerInfo(value, fileLengths);
}

/** The layers a peer at active layer `layer` holds and plays: 0..layer cumulative, one simulcast. */
export function layersPlayed(info: LayerInfo, layer: number): number[] {
  if (info.mode === 'simulcast') return [layer];
  return Array.from({ length: layer + 1 }, (_, k) => k);
}

/** Bits a second a peer at active layer `layer` needs. */
export function bitrateAt(info: LayerInfo, layer: number): number {
  return layersPlayed(info, layer).reduce((sum, k) => sum + info.layers[k]!.bitrate, 0);
}

/** Is `layer` an active layer of this asset? (LAYER-CHANGE to anything else is refused.) */
export function isLayerOf(info: LayerInfo, layer: unknown): layer is number {
  return isCount(layer) && layer < info.layers.length;
}
