import { CompactError } from '../errors.js';
import { COMPACT_PEER_V4, COMPACT_PEER_V6, type PeerAddress, decodeCompactPeer, encodeCompactPeer } from './compact-peers.js';

/** BEP 5 node ids are 160 bits. */
export const NODE_ID_LENGTH = 20;

/** A DHT node: its id and address. */
export interface CompactNode extends PeerAddress {
  id: Uint8Array;
}

/**
 * Encodes nodes as BEP 5 "compact node info" (`nodes`, 26 bytes each) or BEP 32 (`nodes6`,
 * 38 bytes each). Every node must be of the given family.
 */
export function encodeCompactNodes(nodes: readonly CompactNode[], family: 4 | 6): Uint8Array {
  const size = NODE_ID_LENGTH + (family === 4 ? COMPACT_PEER_V4 : COMPACT_PEER_V6);
  const out = new Uint8Array(nodes.length * size);
  nodes.forEach((node, i) => {
    if (node.id.length !== NODE_ID_LENGTH) throw new CompactError('bad-node-id', `node id must be ${NODE_ID_LENGTH} bytes`);
    const address = encodeCompactPeer(node);
    if (address.length + NODE_ID_LENGTH !== size) throw new CompactError('wrong-family', `${node.host} is not IPv${family}`);
    out.set(node.id, i * size);
    out.set(address, i * size + NODE_ID_LENGTH);
  });
  return out;
}

/** Decodes a compact node list; a length that is not a whole number of entries is an error. */
export function decodeCompactNodes(bytes: Uint8Array, family: 4 | 6): CompactNode[] {
  const size = NODE_ID_LENGTH + (family === 4 ? COMPACT_PEER_V4 : COMPACT_PEER_V6);
  if (bytes.length % size !== 0) {
    throw new CompactError('bad-length', `compact IPv${family} nodes: ${bytes.length} bytes is not a multiple of ${size}`);
  }
  const nodes: CompactNode[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    const id = bytes.slice(at, at + NODE_ID_LENGTH);
    nodes.push({ id, ...decodeCompactPeer(bytes.subarray(at + NODE_ID_LENGTH, at + size)) });
  }
  return nodes;
}
