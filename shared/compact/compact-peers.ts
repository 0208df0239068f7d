import { CompactError } from '../errors.js';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../ip.js';

/** A peer's transport address. `host` is IP text (IPv6 without brackets). */
export interface PeerAddress {
  host: string;
  port: number;
}

/** BEP 23: 4 address bytes + 2 port bytes, network order. */
export const COMPACT_PEER_V4 = 6;
/** BEP 7: 16 address bytes + 2 port bytes. */
export const COMPACT_PEER_V6 = 18;

/** Encodes one address in compact form (6 bytes for IPv4, 18 for IPv6). */
export function encodeCompactPeer(peer: PeerAddress): Uint8Array {
  checkPort(peer.port, true);
  const v4 = parseIPv4(peer.host);
  const ip = v4 ?? parseIPv6(peer.host);
  if (!ip) throw new CompactError('bad-address', `not an IP address: ${JSON.stringify(peer.host)}`);
  const out = new Uint8Array(ip.length + 2);
  out.set(ip);
  out[ip.length] = peer.port >> 8;
  out[ip.length + 1] = peer.port & 0xff;
  return out;
}

/** Encodes a list of peers of one family into a compact string (`peers` or `peers6`). */
export function encodeCompactPeers(peers: readonly PeerAddress[], family: 4 | 6): Uint8Array {
  const size = family === 4 ? COMPACT_PEER_V4 : COMPACT_PEER_V6;
  const out = new Uint8Array(peers.length * size);
  peers.forEach((peer, i) => {
    const one = encodeCompactPeer(peer);
    if (one.length !== size) throw new CompactError('wrong-family', `${peer.host} is not IPv${family}`);
    out.set(one, i * size);
  });
  return out;
}

/**
 * Decodes a compact peer string of one family. A length that is not a whole number of entries
 * is an error rather than silently truncated.
 */
export function decodeCompactPeers(bytes: Uint8Array, family: 4 | 6): PeerAddress[] {
  const size = family === 4 ? COMPACT_PEER_V4 : COMPACT_PEER_V6;
  if (bytes.length % size !== 0) {
    throw new CompactError('bad-length', `compact IPv${family} peers: ${bytes.length} bytes is not a multiple of ${size}`);
  }
  const peers: PeerAddress[] = [];
  for (let at = 0; at < bytes.length; at += size) peers.push(decodeOne(bytes.subarray(at, at + size)));
  return peers;
}

/** Decodes a single 6- or 18-byte compact address (BEP 10 `yourip` style, BEP 11 entries). */
export function decodeCompactPeer(bytes: Uint8Array): PeerAddress {
  if (bytes.length !== COMPACT_PEER_V4 && bytes.length !== COMPACT_PEER_V6) {
    throw new CompactError('bad-length', `a compact peer is 6 or 18 bytes, got ${bytes.length}`);
  }
  return decodeOne(bytes);
}

function decodeOne(entry: Uint8Array): PeerAddress {
  const ipLength = entry.length - 2;
  const ip = entry.subarray(0, ipLength);
  const port = (entry[ipLength]! << 8) | entry[ipLength + 1]!;
  return { host: ipLength === 4 ? formatIPv4(ip) : formatIPv6(ip), port };
}

/** Port 0 is legal on the wire (a peer that does not accept connections) but not to dial. */
export function checkPort(port: number, allowZero: boolean): void {
  if (!Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new CompactError('bad-port', `not a port number: ${port}`);
  }
}
