import type { LayerInfo } from '../../../shared/layers/layer-info.js';

export interface LayerControllerOptions {
  /**
   * Go up to a layer once it is held this far ahead of playback (default 3 s): the player's
   * probe fetched it faster than playback uses it, which proves the path carries it.
   */
  upLeadS?: number;
  /**
   * Go down once the active layer has been held less than this far ahead (default 1 s) for
   * `behindMs` (default 1.5 s): one late piece at the play position is not a path that fails.
   */
  downLeadS?: number;
  behindMs?: number;
  /** Seconds of base layer buffered before going up (default 4). */
  upBufferS?: number;
  /** Below this many seconds of base layer buffered, go down a layer at once (default 1.5). */
  panicBufferS?: number;
  /**
   * Least time after a switch before the next switch up (default 2 s: a step up is already
   * proven by the layer held ahead, the hold only spaces the steps), or down for falling behind
   * (default 6 s: a new layer's first seconds fetch a layer few peers hold yet, and its lead
   * dips while the swarm catches up). A low buffer goes down at once.
   */
  holdUpMs?: number;
  holdDownMs?: number;
  /** Least time between two steps down for a thin buffer (default 1 s: about a segment). */
  panicHoldMs?: number;
}

/** What the controller looks at, each tick. */
export interface LayerView {
  /** Seconds of base layer held ahead of playback (Infinity: held to the end). */
  bufferS: number;
  /**
   * Seconds ahead of playback for which layer `k` plays (cumulative: layers 0..k held;
   * simulcast: rendition k held), from the play position on.
   */
  leadS(k: number): number;
}

export interface LayerDecision {
  layer: number;
  reason: 'bandwidth' | 'buffer' | 'headroom';
}

/**
 * Picks the active layer: the highest layer set the path sustains, judged by what it delivers
 * rather than by a rate estimate. On a swarm, the byte rate seen while fetching one small
 * segment at a time measures request latency and what the peers happen to hold, not the link
 * (a 10 Mbit/s peer measured 0.8 Mbit/s at the base layer), so an estimate-gated controller
 * never climbs. The player probes one layer above the active set with its spare capacity; the
 * controller goes up once that layer is held `upLeadS` ahead (the probe outran playback), and
 * down as far as needed once the active layer has been under `downLeadS` ahead for `behindMs`
 * (the path no longer keeps up), or one layer at once when the base buffer runs thin whatever
 * the leads say. The gap between `upLeadS` and `downLeadS` is the hysteresis; the holds space
 * the steps. This is the buffer-based choice (as in BBA, Huang et al., SIGCOMM 2014) made per
 * layer, which a layered asset allows: an enhancement layer can be fetched ahead without
 * committing to it.
 * Pure: time and the view come in.
 */
export class LayerController {
  private lastSwitch = -Infinity;
  /**
   * How often each layer was left for falling behind: each time, the next step up to it waits
   * four times longer (at most 30 s), so a link that nearly carries a layer tries it now and
   * then instead of every few seconds; forgotten once the layer has been held for a minute.
   */
  private readonly failures = new Map<number, number>();
  /** Since when the active layer has been under `downLeadS` ahead, if it is. */
  private behindSince?: number;
  private readonly o: Required<LayerControllerOptions>;

  constructor(
    private readonly info: LayerInfo,
    public layer = 0,
    options: LayerControllerOptions = {},
  ) {
    this.o = { upLeadS: 3, downLeadS: 1, behindMs: 1500, upBufferS: 4, panicBufferS: 1.5, holdUpMs: 2000, holdDownMs: 6000, panicHoldMs: 1000, ...options };
  }

  /** A switch to make now, or undefined to stay. */
  decide(now: number, view: LayerView): LayerDecision | undefined {
    const since = now - this.lastSwitch;
    // A layer held for a minute has shown the link carries it now: its old failures are past.
    if (since >= 60_000) this.failures.delete(this.layer);
    const behind = this.layer > 0 && view.leadS(this.layer) < this.o.downLeadS;
    if (!behind) this.behindSince = undefined;
    else this.behindSince ??= now;
    if (this.layer > 0) {
      if (view.bufferS < this.o.panicBufferS && since >= this.o.panicHoldMs) return this.switchTo(now, this.layer - 1, 'buffer');
      if (behind && since >= this.o.holdDownMs && now - this.behindSince! >= this.o.behindMs) {
        let k = this.layer - 1;
        while (k > 0 && view.leadS(k) < this.o.downLeadS) k--;
        this.failures.set(this.layer, (this.failures.get(this.layer) ?? 0) + 1);
        return this.switchTo(now, k, 'bandwidth');
      }
    }
    const next = this.layer + 1;
    const holdUp = Math.min(30_000, this.o.holdUpMs * 4 ** (this.failures.get(next) ?? 0));
    // Not once the base is held to the end: a layer held over the last few segments proves
    // nothing about the link, and there is nothing left to fetch at it.
    const toTheEnd = view.bufferS === Infinity;
    if (next < this.info.layers.length && !toTheEnd && since >= holdUp && view.bufferS >= this.o.upBufferS && view.leadS(next) >= this.o.upLeadS) {
      return this.switchTo(now, next, 'headroom');
    }
    return undefined;
  }

  /** The lead the player should see on the active set before probing the next layer. */
  get probeLeadS(): number {
    return this.o.upLeadS;
  }

  private switchTo(now: number, layer: number, reason: LayerDecision['reason']): LayerDecision | undefined {
    if (layer === this.layer) return undefined;
    this.layer = layer;
    this.behindSince = undefined;
    this.lastSwitch = now;
    return { layer, reason };
  }
}
