import { decode, describeValue, encode, isDict } from '../bencode/index.js';
import { BencodeError, WireError } from '../errors.js';

/**
 * LAYER-CHANGE between peers (the PPSP survey's layered streaming message), as a BEP 10
 * extension message named `pp_layer`: a bencoded dictionary `{ layer: n }`, n the sender's
 * active layer (cumulative assets: it holds and plays layers 0..n; simulcast: layer n). Sent
 * after the extension handshake and whenever the sender changes layer.
 */
export const LAYER_CHANGE_EXTENSION = 'pp_layer';
/** A layer index is small (shared/layers: at most 16 layers); the message is tiny. */
export const MAX_LAYER_INDEX = 15;
const MAX_MESSAGE = 64;

export function encodeLayerChange(layer: number): Uint8Array {
  if (!Number.isSafeInteger(layer) || layer < 0 || layer > MAX_LAYER_INDEX) throw new RangeError(`a layer is an integer from 0 to ${MAX_LAYER_INDEX}, got ${layer}`);
  return encode({ layer });
}

/** The layer in a `pp_layer` payload; WireError for anything else (the connection closes). */
export function decodeLayerChange(payload: Uint8Array): number {
  if (payload.length > MAX_MESSAGE) throw new WireError('layer-change.size', `layer change of ${payload.length} bytes (at most ${MAX_MESSAGE})`);
  let value;
  try {
    value = decode(payload);
  } catch (err) {
    if (err instanceof BencodeError) throw new WireError('layer-change.bencode', `layer change is not bencode: ${err.message}`);
    throw err;
  }
  if (!isDict(value)) throw new WireError('layer-change.shape', 'layer change must be a dictionary');
  const layer = value.layer;
  if (typeof layer !== 'number' || !Number.isSafeInteger(layer) || layer < 0 || layer > MAX_LAYER_INDEX) {
    throw new WireError('layer-change.layer', `layer change names layer ${describeValue(layer)} (an integer from 0 to ${MAX_LAYER_INDEX} expected)`);
  }
  return layer;
}
