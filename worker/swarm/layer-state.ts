import { TrackerError } from '../../shared/errors.js';
import { type LayerMode, MAX_LAYERS } from '../../shared/layers/layer-info.js';
import { IndexedSet } from './indexed-set.js';

/** What the tracker needs of a swarm's layer info (the full JSON stays in storage). */
export interface LayerSummary {
  /** K: the asset's layers are 0..K-1. */
  layers: number;
  mode: LayerMode;
}

/** The part of a peer's record that decides where it is indexed. */
export interface LayeredPeer {
  peerId: string;
  left: number;
  paused: boolean;
  /** The active layer it last reported (LAYER-CHANGE); undefined if it never did. */
  layer?: number;
}

/**
 * The layered-streaming side of one swarm, free of any platform: the asset's layer summary
 * (from PUT-LAYER), each peer's active layer (from LAYER-CHANGE), and the groups that make peer
 * selection layer-aware.
 *
 * A peer at active layer L needs layers 0..L (cumulative) or L alone (simulcast). The peers that
 * hold them are those at an active layer >= L (== L in simulcast), and complete seeds, which
 * hold every layer whatever they play. Those are handed out first.
 */
export class SwarmLayers {
  /** Layer info summary; undefined until PUT-LAYER (layers are then taken on trust). */
  summary: LayerSummary | undefined;
  /** Peers at each active layer, all kinds (for GET /layers/:hash/active). */
  private readonly counts = new Array<number>(MAX_LAYERS).fill(0);
  /** Downloaders (not seeds, not paused) at each active layer. */
  private readonly downloaders = Array.from({ length: MAX_LAYERS }, () => new IndexedSet<string>());
  /** BEP 21 partial seeds at each active layer: they hold only what they play. */
  private readonly partialSeeds = Array.from({ length: MAX_LAYERS }, () => new IndexedSet<string>());
  /** Complete seeds, whatever their layer: they hold every layer. */
  private readonly seeds = new IndexedSet<string>();

  /**
   * Refuses a LAYER-CHANGE to a layer the asset does not have (only known once its layer info is
   * stored; the parser already bounds it to 0..MAX_LAYERS-1).
   */
  check(layer: number | undefined): void {
    if (layer === undefined || this.summary === undefined || layer < this.summary.layers) return;
    throw new TrackerError('unknown-layer', `layer ${layer} does not exist (the asset has ${this.summary.layers} layers)`);
  }

  add(peer: LayeredPeer): void {
    if (peer.layer !== undefined) this.counts[peer.layer]!++;
    this.groupOf(peer)?.add(peer.peerId);
  }

  delete(peer: LayeredPeer): void {
    if (peer.layer !== undefined) this.counts[peer.layer]!--;
    this.groupOf(peer)?.delete(peer.peerId);
  }

  /** Peers per active layer, only layers someone is at (keys are layer numbers as text, for JSON). */
  byLayer(): Record<string, number> {
    const out: Record<string, number> = {};
    this.counts.forEach((n, layer) => {
      if (n > 0) out[String(layer)] = n;
    });
    return out;
  }

  /**
   * The groups an asker at active `layer` should hear of first. An asker that only uploads
   * (seed, partial seed) gets only downloaders, as everywhere in the swarm: here, those that
   * play what it can give.
   */
  holdersFor(layer: number, askerOnlyUploads: boolean): IndexedSet<string>[] {
    const layers = this.holdingLayers(layer);
    const groups = layers.map((l) => this.downloaders[l]!);
    if (!askerOnlyUploads) groups.push(...layers.map((l) => this.partialSeeds[l]!), this.seeds);
    return groups.filter((g) => g.size > 0);
  }

  /** Is `peer` in the groups of `holdersFor(layer, …)`? (For skipping them in the second draw.) */
  holds(peer: LayeredPeer, layer: number): boolean {
    if (peer.left === 0) return true;
    return peer.layer !== undefined && this.holdingLayers(layer).includes(peer.layer);
  }

  /** Active layers whose peers hold what a peer at `layer` needs. */
  private holdingLayers(layer: number): number[] {
    if (this.summary?.mode === 'simulcast') return [layer];
    // Cumulative, and the default before any layer info: a higher layer includes the lower ones.
    return Array.from({ length: MAX_LAYERS - layer }, (_, k) => layer + k);
  }

  /** The selection group a peer belongs to; undefined for a layer-less downloader or partial seed. */
  private groupOf(peer: LayeredPeer): IndexedSet<string> | undefined {
    if (peer.left === 0) return this.seeds;
    if (peer.layer === undefined) return undefined;
    return peer.paused ? this.partialSeeds[peer.layer] : this.downloaders[peer.layer];
  }
}
