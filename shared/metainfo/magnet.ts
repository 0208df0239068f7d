import { MagnetError } from '../errors.js';
import { fromHex, toHex } from '../bytes.js';
import { type PeerAddress } from '../compact/compact-peers.js';
import { formatIPv6, parseIPv4, parseIPv6 } from '../ip.js';

/** Longest magnet URI accepted. */
export const MAX_MAGNET_LENGTH = 64 * 1024;
/** Most values kept per repeated parameter (tr, ws, x.pe); further ones are ignored. */
export const MAX_MAGNET_VALUES = 200;

/** A BEP 9 magnet link. */
export interface MagnetLink {
  infoHash: Uint8Array;
  /** `dn`: display name, advisory. */
  name?: string;
  /** `tr`: tracker URLs, in order. */
  trackers: string[];
  /** `ws`: web seeds (BEP 19 in magnets). */
  webSeeds: string[];
  /** `x.pe`: peer addresses to try directly. */
  peers: PeerAddress[];
  /** `xl`: exact length in bytes, when given. */
  length?: number;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Parses a magnet URI. The info-hash may be 40 hex chars or 32 base32 chars (BEP 9). */
export function parseMagnet(uri: string): MagnetLink {
  if (uri.length > MAX_MAGNET_LENGTH) throw new MagnetError('too-long', `magnet URI longer than ${MAX_MAGNET_LENGTH} characters`);
  if (!/^magnet:\?/i.test(uri)) throw new MagnetError('not-magnet', 'a magnet URI starts with "magnet:?"');
  const link: MagnetLink = { infoHash: new Uint8Array(0), trackers: [], webSeeds: [], peers: [] };
  let found = false;
  for (const pair of uri.slice(uri.indexOf('?') + 1).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    // BEP 9 allows numbered duplicates such as tr.1, tr.2; x.pe keeps its dot.
    const rawKey = pair.slice(0, eq).toLowerCase();
    const key = rawKey === 'x.pe' ? rawKey : rawKey.replace(/\.\d+$/, '');
    const value = percentDecode(pair.slice(eq + 1), key);
    switch (key) {
      case 'xt': {
        const hash = parseExactTopic(value);
        if (hash === undefined) break; // another hash kind (e.g. btmh); keep looking for btih
        if (found && toHex(hash) !== toHex(link.infoHash)) {
          throw new MagnetError('conflicting-hash', 'two different BitTorrent info-hashes in one magnet');
        }
        link.infoHash = hash;
        found = true;
        break;
      }
      case 'dn':
        link.name = value;
        break;
      case 'tr':
        pushBounded(link.trackers, value);
        break;
      case 'ws':
        pushBounded(link.webSeeds, value);
        break;
      case 'x.pe': {
        // A peer hint we cannot use (a scoped address, a typo) is skipped, as libtorrent does.
        const peer = parsePeerAddress(value);
        if (peer) pushBounded(link.peers, peer);
        break;
      }
      case 'xl': {
        if (!/^\d{1,15}$/.test(value)) throw new MagnetError('bad-length', `xl is not a byte count: ${JSON.stringify(value)}`);
        link.length = Number(value);
        break;
      }
      default:
        break; // unknown parameters are ignored, as BEP 9 clients do
    }
  }
  if (!found) throw new MagnetError('no-info-hash', 'no xt=urn:btih: info-hash in the magnet');
  return link;
}

/** Builds a magnet URI; the info-hash is written as 40 lower-case hex characters. */
export function formatMagnet(link: MagnetLink): string {
  const parts = [`xt=urn:btih:${toHex(link.infoHash)}`];
  if (link.name !== undefined) parts.push(`dn=${encodeURIComponent(link.name)}`);
  if (link.length !== undefined) parts.push(`xl=${link.length}`);
  for (const tr of link.trackers) parts.push(`tr=${encodeURIComponent(tr)}`);
  for (const ws of link.webSeeds) parts.push(`ws=${encodeURIComponent(ws)}`);
  for (const peer of link.peers) {
    const host = peer.host.includes(':') ? `[${peer.host}]` : peer.host;
    parts.push(`x.pe=${encodeURIComponent(`${host}:${peer.port}`)}`);
  }
  return `magnet:?${parts.join('&')}`;
}

function pushBounded<T>(list: T[], value: T): void {
  if (list.length < MAX_MAGNET_VALUES) list.push(value);
}

function percentDecode(text: string, key: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw new MagnetError('bad-escape', `${key}: malformed percent-encoding`);
  }
}

/** `urn:btih:` + 40 hex or 32 base32 chars; undefined for other URN kinds. */
function parseExactTopic(value: string): Uint8Array | undefined {
  const match = /^urn:btih:(.*)$/i.exec(value);
  if (!match) return undefined;
  const hash = match[1]!;
  const bytes = hash.length === 40 ? fromHex(hash) : hash.length === 32 ? fromBase32(hash) : undefined;
  if (!bytes) throw new MagnetError('bad-info-hash', `btih must be 40 hex or 32 base32 characters, got ${JSON.stringify(hash)}`);
  return bytes;
}

function fromBase32(text: string): Uint8Array | undefined {
  const out = new Uint8Array(20);
  let bits = 0;
  let value = 0;
  let at = 0;
  if (!/^[A-Za-z2-7]{32}$/.test(text)) return undefined;
  for (const ch of text.toUpperCase()) {
    const v = BASE32.indexOf(ch);
    if (v < 0) return undefined;
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  return at === 20 ? out : undefined;
}

/** BEP 9 x.pe: `hostname:port`, `ipv4:port` or `[ipv6]:port`; undefined when unusable. */
function parsePeerAddress(text: string): PeerAddress | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  if (match[1] !== undefined) {
    const v6 = parseIPv6(match[1]);
    return v6 ? { host: formatIPv6(v6), port } : undefined;
  }
  const host = match[2]!;
  if (parseIPv4(host)) return { host, port };
  // A name that looks numeric but is no IPv4 (999.1.1.1) is a typo, not a host.
  return HOSTNAME.test(host) && !/^[\d.]+$/.test(host) ? { host, port } : undefined;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
