import { WireError } from '../../shared/errors.js';
import { decodeLayerChange, encodeLayerChange, LAYER_CHANGE_EXTENSION } from '../../shared/wire/layer-change.js';
import type { PeerSession } from '../engine/peer-session.js';
import { type PeerExtension, sendExtended } from './extension.js';

export interface LayerChangeHost {
  /** Our active layer, if we play a layered asset. */
  readonly activeLayer?: number | undefined;
  /** Layers of the asset, when known: a peer naming a layer past them is refused. */
  readonly layerCount?: number | undefined;
  /** A peer told us its active layer. */
  peerLayer(session: PeerSession, layer: number): void;
}

/**
 * LAYER-CHANGE on the wire (`pp_layer`, shared/wire/layer-change.ts): we send our active layer
 * to each peer once its extension handshake offers the message, and to all of them when it
 * changes; a peer's layer is kept on its session. A layer the asset does not have closes that
 * connection with the reason (the rest of the swarm and the stream carry on).
 */
export class LayerChange implements PeerExtension {
  readonly name = LAYER_CHANGE_EXTENSION;

  constructor(private readonly host: LayerChangeHost) {}

  peerHandshake(s: PeerSession): void {
    const layer = this.host.activeLayer;
    if (layer !== undefined) sendExtended(s, this.name, encodeLayerChange(layer));
  }

  message(s: PeerSession, payload: Uint8Array): void {
    const layer = decodeLayerChange(payload);
    const count = this.host.layerCount;
    if (count !== undefined && layer >= count) throw new WireError('layer-change.unknown-layer', `layer change to layer ${layer}: the asset has ${count} layers`);
    if (s.peerLayer === layer) return; // no news (a peer repeating itself makes no noise)
    s.peerLayer = layer;
    this.host.peerLayer(s, layer);
  }

  /** Tells every peer that offers the message our new layer; how many were told. */
  announce(sessions: Iterable<PeerSession>): number {
    const layer = this.host.activeLayer;
    if (layer === undefined) return 0;
    const payload = encodeLayerChange(layer);
    let told = 0;
    for (const s of sessions) if (sendExtended(s, this.name, payload)) told++;
    return told;
  }
}
