import type { TorrentGeometry } from '../../../shared/metainfo/geometry.js';
import { type LayerInfo, layersPlayed } from '../../../shared/layers/layer-info.js';

/**
 * Where each segment of each layer lies in the torrent: its byte range in the torrent's byte
 * space and the pieces that hold it (a piece on a segment boundary belongs to both).
 */
export class LayerMap {
  /** [layer][segment] -> piece indices. */
  private readonly pieces: number[][][];
  /** Piece index -> the lowest layer that uses it. */
  private readonly layerOf = new Map<number, number>();
  /** [layer][segment] -> [torrent offset, length]. */
  readonly ranges: [number, number][][];

  constructor(
    readonly info: LayerInfo,
    files: readonly { offset: number; length: number; padding?: boolean }[],
    geometry: TorrentGeometry,
  ) {
    this.ranges = info.layers.map((layer) => {
      const file = files[layer.file];
      if (!file) throw new RangeError(`layer ${layer.index} names file ${layer.file}; the torrent has ${files.length}`);
      // BEP 47 padding is never downloaded: a layer there could never play.
      if (file.padding) throw new RangeError(`layer ${layer.index} names file ${layer.file}, a padding file`);
      return layer.segments.map(([offset, length]): [number, number] => {
        if (offset + length > file.length) throw new RangeError(`layer ${layer.index}: a segment ends past its file`);
        return [file.offset + offset, length];
      });
    });
    this.pieces = this.ranges.map((segments) =>
      segments.map(([start, length]) => {
        const first = Math.floor(start / geometry.pieceLength);
        const last = Math.floor((start + length - 1) / geometry.pieceLength);
        return Array.from({ length: last - first + 1 }, (_, k) => first + k);
      }),
    );
    for (let k = this.pieces.length - 1; k >= 0; k--) for (const segment of this.pieces[k]!) for (const i of segment) this.layerOf.set(i, k);
  }

  /** The lowest layer whose segments use piece i, or undefined. */
  layerOfPiece(i: number): number | undefined {
    return this.layerOf.get(i);
  }

  get layerCount(): number {
    return this.info.layers.length;
  }

  get segmentCount(): number {
    return this.info.segmentCount;
  }

  piecesOf(layer: number, segment: number): readonly number[] {
    return this.pieces[layer]![segment]!;
  }

  /** Does `has` hold every piece the segment needs at active layer `layer`? */
  playable(segment: number, layer: number, has: (i: number) => boolean): boolean {
    return layersPlayed(this.info, layer).every((k) => this.piecesOf(k, segment).every(has));
  }

  /** The highest active layer at which the segment can be played now, or -1 (a stall). */
  bestPlayable(segment: number, has: (i: number) => boolean): number {
    if (this.info.mode === 'cumulative') {
      // Layers 0..L must all be there: the longest prefix held.
      let held = -1;
      for (let k = 0; k < this.layerCount && this.piecesOf(k, segment).every(has); k++) held = k;
      return held;
    }
    for (let layer = this.layerCount - 1; layer >= 0; layer--) if (this.piecesOf(layer, segment).every(has)) return layer;
    return -1;
  }
}
