/**
 * Synthetic layered assets for tests and experiments: the shape of an encoder's output (one
 * file per layer, segments back to back, sizes that wander around the target bitrate) filled
 * with pseudo-random bytes. Nothing here is playable media; scripts/make-layered-media.ts
 * makes real renditions.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LayerInfoError } from '../../shared/errors.js';
import { type LayerMode, MAX_SEGMENTS } from '../../shared/layers/layer-info.js';
import { LAYERS_MANIFEST, type LayerManifest, validateManifest } from './layered-asset.js';

export interface SyntheticAssetOptions {
  /** Bits a second of each layer alone, layer 0 first. */
  bitrates: number[];
  /** Seconds of media per segment. */
  segmentDuration: number;
  segmentCount: number;
  mode: LayerMode;
  /** Same seed, same bytes and sizes (default 1). */
  seed?: number;
}

/** How far a segment's size strays from bitrate * duration / 8: ±10%, as encoders' segments do. */
export const SEGMENT_SIZE_SPREAD = 0.1;

/** The largest layer file written: one buffer each. */
export const MAX_SYNTHETIC_LAYER_BYTES = 2 ** 31;

/** The file name of layer k in a synthetic asset. */
export const syntheticLayerFile = (k: number) => `layer${k}.bin`;

/**
 * A small deterministic generator of 32-bit words (xorshift32). Its seed is scrambled first so
 * that neighbouring seeds (layer 0 and layer 1 of one asset) give unrelated streams.
 */
export class Xorshift32 {
  private state: number;

  constructor(seed: number) {
    let s = (seed ^ 0x9e3779b9) >>> 0;
    s = Math.imul(s ^ (s >>> 16), 0x85ebca6b) >>> 0;
    s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
    this.state = (s ^ (s >>> 16)) >>> 0 || 1;
  }

  /** The next word, 0 .. 2^32-1. */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }

  /** A number in [0, 1). */
  unit(): number {
    return this.next() / 2 ** 32;
  }

  /** Fills `out` with pseudo-random bytes. */
  fill(out: Uint8Array): Uint8Array {
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    let i = 0;
    for (; i + 4 <= out.length; i += 4) view.setUint32(i, this.next(), true);
    if (i < out.length) {
      const last = this.next();
      for (let b = 0; i < out.length; i++, b++) out[i] = (last >>> (8 * b)) & 0xff;
    }
    return out;
  }
}

/**
 * Segment sizes of one layer: around bitrate * duration / 8 bytes, each off by a deterministic
 * amount up to ±SEGMENT_SIZE_SPREAD, never below 1 byte.
 */
export function syntheticSegmentSizes(bitrate: number, segmentDuration: number, segmentCount: number, random: Xorshift32): number[] {
  const nominal = (bitrate * segmentDuration) / 8;
  return Array.from({ length: segmentCount }, () => Math.max(1, Math.round(nominal * (1 + SEGMENT_SIZE_SPREAD * (2 * random.unit() - 1)))));
}

/**
 * Writes a synthetic layered asset into `dir` (made if missing): `layer0.bin`, `layer1.bin`,
 * ... and `layers.json`. Each layer's bitrate in the manifest is the one asked for; its
 * segments average that rate. Returns the manifest written.
 */
export async function writeSyntheticLayeredAsset(dir: string, options: SyntheticAssetOptions): Promise<LayerManifest> {
  const seed = options.seed ?? 1;
  const { segmentCount, segmentDuration } = options;
  // Bounds first, so that absurd options fail here rather than in an allocation.
  if (!Number.isSafeInteger(segmentCount) || segmentCount < 1 || segmentCount > MAX_SEGMENTS) {
    throw new LayerInfoError('segment-count', `segmentCount must be an integer from 1 to ${MAX_SEGMENTS}, got ${segmentCount}`);
  }
  for (const [k, bitrate] of options.bitrates.entries()) {
    if ((bitrate * segmentDuration * segmentCount * (1 + SEGMENT_SIZE_SPREAD)) / 8 > MAX_SYNTHETIC_LAYER_BYTES) {
      throw new LayerInfoError('too-large', `layer ${k} would be over ${MAX_SYNTHETIC_LAYER_BYTES} bytes`);
    }
  }
  // One stream per layer (sizes, then bytes), so adding a layer does not change the others.
  const streams = options.bitrates.map((_, k) => new Xorshift32(seed * 65_537 + k));
  const layers = options.bitrates.map((bitrate, k) => {
    let offset = 0;
    const segments = syntheticSegmentSizes(bitrate, segmentDuration, segmentCount, streams[k]!).map((size): [number, number] => {
      offset += size;
      return [offset - size, size];
    });
    return { index: k, bitrate, path: syntheticLayerFile(k), segments };
  });
  // Checked before any byte is written: bad options leave no half-made asset behind.
  const manifest = validateManifest({ version: 1, mode: options.mode, segmentDuration, segmentCount, layers });
  await mkdir(dir, { recursive: true });
  for (const layer of manifest.layers) {
    const [offset, size] = layer.segments[layer.segments.length - 1]!;
    await writeFile(path.join(dir, layer.path), streams[layer.index]!.fill(new Uint8Array(offset + size)));
  }
  await writeFile(path.join(dir, LAYERS_MANIFEST), formatManifest(manifest));
  return manifest;
}

/** A manifest as JSON text: indented, one `[offset, length]` a line. */
export function formatManifest(manifest: LayerManifest): string {
  return `${JSON.stringify(manifest, null, 2).replace(/\[\s+(\d+),\s+(\d+)\s+\]/g, '[$1, $2]')}\n`;
}
