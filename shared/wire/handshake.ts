import { WireError } from '../errors.js';

/**
 * The BEP 3 handshake: `<19>"BitTorrent protocol"<8 reserved><20 info-hash><20 peer id>`, 68
 * bytes. Reserved bits we know (BEP 4): extension protocol (BEP 10) is reserved[5] & 0x10, DHT
 * (BEP 5) reserved[7] & 0x01, Fast extension (BEP 6) reserved[7] & 0x04. Every other bit is
 * kept as sent and ignored.
 */
export const HANDSHAKE_LENGTH = 68;
const PROTOCOL = new TextEncoder().encode('BitTorrent protocol');

export interface Handshake {
  reserved: Uint8Array;
  infoHash: Uint8Array;
  peerId: Uint8Array;
}

export interface Capabilities {
  extensionProtocol: boolean;
  fast: boolean;
  dht: boolean;
}

export function reservedBytes(c: Capabilities): Uint8Array {
  const r = new Uint8Array(8);
  if (c.extensionProtocol) r[5]! |= 0x10;
  if (c.dht) r[7]! |= 0x01;
  if (c.fast) r[7]! |= 0x04;
  return r;
}

export function capabilities(reserved: Uint8Array): Capabilities {
  return {
    extensionProtocol: (reserved[5]! & 0x10) !== 0,
    dht: (reserved[7]! & 0x01) !== 0,
    fast: (reserved[7]! & 0x04) !== 0,
  };
}

export function encodeHandshake(h: Handshake): Uint8Array {
  if (h.reserved.length !== 8 || h.infoHash.length !== 20 || h.peerId.length !== 20) {
    throw new WireError('handshake.field-length', 'reserved must be 8 bytes, info-hash and peer id 20');
  }
  const out = new Uint8Array(HANDSHAKE_LENGTH);
  out[0] = PROTOCOL.length;
  out.set(PROTOCOL, 1);
  out.set(h.reserved, 20);
  out.set(h.infoHash, 28);
  out.set(h.peerId, 48);
  return out;
}

/**
 * Checks the first bytes a peer sent, as soon as they arrive: a wrong protocol string is refused
 * after its first byte, not after 68. Returns the handshake once all 68 bytes are there.
 */
export function decodeHandshake(bytes: Uint8Array): Handshake | undefined {
  if (bytes.length >= 1 && bytes[0] !== PROTOCOL.length) {
    throw new WireError('handshake.protocol', `handshake protocol length is ${bytes[0]}, not 19 ("BitTorrent protocol")`);
  }
  for (let i = 1; i < Math.min(bytes.length, 20); i++) {
    if (bytes[i] !== PROTOCOL[i - 1]) throw new WireError('handshake.protocol', 'handshake does not say "BitTorrent protocol"');
  }
  if (bytes.length < HANDSHAKE_LENGTH) return undefined;
  return {
    reserved: bytes.slice(20, 28),
    infoHash: bytes.slice(28, 48),
    peerId: bytes.slice(48, 68),
  };
}
