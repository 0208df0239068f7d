import { bitrateAt, type LayerInfo } from '../../../shared/layers/layer-info.js';

export interface LayerControllerOptions {
  /** Go up to a layer only if it needs at most this share of the estimate (default 0.8). */
  upShare?: number;
  /** Go down once the active layer needs more than this share of the estimate (default 1.0). */
  downShare?: number;
  /** Seconds of base layer buffered before going up (default 4). */
  upBufferS?: number;
  /** Below this many seconds of base layer buffered, go down a layer at once (default 1.5). */
  panicBufferS?: number;
  /**
   * Least time after a switch before the next switch up (default 6 s), or down for lack of
   * bandwidth (default 6 s: a new layer's first seconds fetch a layer nobody had, and the
   * estimate dips while the swarm catches up). A low buffer goes down at once.
   */
  holdUpMs?: number;
  holdDownMs?: number;
  /** Least time between two steps down for a thin buffer (default 1 s: about a segment). */
  panicHoldMs?: number;
}

export interface LayerDecision {
  layer: number;
  reason: 'bandwidth' | 'buffer' | 'headroom';
}

/**
 * Picks the active layer: the highest layer set the estimated bandwidth sustains, with
 * hysteresis so that it does not flap. Up one layer at a time, only with a safe base buffer,
 * headroom (the next layer fits in `upShare` of the estimate) and `holdUpMs` since the last
 * switch; down as far as needed as soon as the active layer no longer fits the estimate, or one
 * layer when the base buffer runs low whatever the estimate says. The gap between `upShare` and
 * `downShare` is the hysteresis: an estimate wobbling around one layer's need moves nothing.
 * Pure: time, estimate and buffer come in.
 */
export class LayerController {
  private lastSwitch = -Infinity;
  private readonly o: Required<LayerControllerOptions>;

  constructor(
    private readonly info: LayerInfo,
    public layer = 0,
    options: LayerControllerOptions = {},
  ) {
    this.o = { upShare: 0.8, downShare: 1.0, upBufferS: 4, panicBufferS: 1.5, holdUpMs: 6000, holdDownMs: 6000, panicHoldMs: 1000, ...options };
  }

  /** The highest layer whose need fits `share` of `bitsPerSecond` (0 if none does). */
  private fitting(bitsPerSecond: number, share: number): number {
    let best = 0;
    for (let k = 0; k < this.info.layers.length; k++) if (bitrateAt(this.info, k) <= bitsPerSecond * share) best = k;
    return best;
  }

  /** A switch to make now, or undefined to stay. */
  decide(now: number, estimate: number | undefined, bufferS: number): LayerDecision | undefined {
    if (estimate === undefined) return undefined;
    const since = now - this.lastSwitch;
    if (this.layer > 0) {
      if (bufferS < this.o.panicBufferS && since >= this.o.panicHoldMs) return this.switchTo(now, Math.min(this.layer - 1, this.fitting(estimate, this.o.upShare)), 'buffer');
      if (since >= this.o.holdDownMs && bitrateAt(this.info, this.layer) > estimate * this.o.downShare) return this.switchTo(now, this.fitting(estimate, this.o.upShare), 'bandwidth');
    }
    const next = this.layer + 1;
    if (next < this.info.layers.length && since >= this.o.holdUpMs && bufferS >= this.o.upBufferS && bitrateAt(this.info, next) <= estimate * this.o.upShare) {
      return this.switchTo(now, next, 'headroom');
    }
    return undefined;
  }

  private switchTo(now: number, layer: number, reason: LayerDecision['reason']): LayerDecision | undefined {
    if (layer === this.layer) return undefined;
    this.layer = layer;
    this.lastSwitch = now;
    return { layer, reason };
  }
}
