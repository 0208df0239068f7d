import { TrackerError } from '../errors.js';
import { parseIPv4, parseIPv6 } from '../ip.js';
import { type AnnounceEvent, type AnnounceParams, type ScrapeParams, TRACKER_LIMITS } from './announce-params.js';
import { MAX_LAYERS } from '../layers/layer-info.js';

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * Percent-escapes raw bytes for a query string, byte by byte (unreserved ASCII stays as it is):
 * info-hashes and peer ids are bytes, not text, and must not pass through a UTF-8 encoder.
 */
export function escapeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    out += UNRESERVED.test(ch) ? ch : `%${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Longest query string accepted (a scrape of 100 hashes escaped is about 6 KB). */
export const MAX_QUERY_LENGTH = 8192;
const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

/**
 * Splits a raw query string into byte values. `info_hash` and `peer_id` are 20 raw bytes
 * percent-encoded, so the query must not go through a UTF-8 URL decoder, which would replace
 * invalid sequences and change the bytes.
 */
export function parseRawQuery(query: string): Map<string, Uint8Array[]> {
  if (query.length > MAX_QUERY_LENGTH) throw new TrackerError('too-long', `query string longer than ${MAX_QUERY_LENGTH} bytes`);
  const out = new Map<string, Uint8Array[]>();
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = latin1(percentDecode(eq < 0 ? pair : pair.slice(0, eq), 'parameter name'));
    const value = percentDecode(eq < 0 ? '' : pair.slice(eq + 1), name);
    const list = out.get(name);
    if (list) list.push(value);
    else out.set(name, [value]);
  }
  return out;
}

/** Percent-decoding to bytes; '+' is a space, as in form encoding. (Hot path: no regex, no slicing.) */
function percentDecode(text: string, name: string): Uint8Array {
  const out = new Uint8Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      const hi = hexValue(text.charCodeAt(i + 1));
      const lo = hexValue(text.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) throw new TrackerError('bad-escape', `${name}: malformed percent-escape`);
      out[n++] = (hi << 4) | lo;
      i += 2;
    } else if (c === 0x2b) {
      out[n++] = 0x20;
    } else if (c > 0x7e || c < 0x21) {
      throw new TrackerError('bad-escape', `${name}: unescaped byte 0x${c.toString(16)}`);
    } else {
      out[n++] = c;
    }
  }
  return n === out.length ? out : out.slice(0, n);
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/** Reads single-valued parameters of a query: a repeated one is an error, not a choice. */
function queryReader(query: string) {
  const q = parseRawQuery(query);
  const one = (name: string): Uint8Array | undefined => {
    const values = q.get(name);
    if (values && values.length > 1) throw new TrackerError('duplicate-parameter', `${name} given more than once`);
    return values?.[0];
  };
  const text = (name: string) => {
    const v = one(name);
    return v === undefined ? undefined : latin1(v);
  };
  return { one, text };
}

/** `numwant`: negative means the default (several clients send -1); huge values are clamped, not refused. */
function parseNumwant(text: string | undefined): number {
  if (text === undefined || text === '') return TRACKER_LIMITS.defaultNumwant;
  if (!/^-?\d{1,10}$/.test(text)) throw new TrackerError('bad-parameter', 'numwant must be an integer');
  const asked = Number(text);
  return asked < 0 ? TRACKER_LIMITS.defaultNumwant : Math.min(asked, TRACKER_LIMITS.maxNumwant);
}

/** Reads announce parameters (BEP 3, 7, 21, 23) from a raw query string. */
export function parseAnnounceQuery(query: string): AnnounceParams {
  const { one, text } = queryReader(query);
  const hash20 = (name: string): Uint8Array => {
    const v = one(name);
    if (v === undefined) throw new TrackerError('missing-parameter', `${name} is missing`);
    if (v.length !== 20) throw new TrackerError('bad-parameter', `${name} must be 20 bytes, got ${v.length}`);
    return v;
  };
  const counter = (name: string, required: boolean): number => {
    const v = text(name);
    if (v === undefined || v === '') {
      if (required) throw new TrackerError('missing-parameter', `${name} is missing`);
      return 0;
    }
    if (!/^\d{1,16}$/.test(v) || Number(v) > MAX_COUNTER) throw new TrackerError('bad-parameter', `${name} must be a non-negative integer`);
    return Number(v);
  };

  const infoHash = hash20('info_hash');
  const peerId = hash20('peer_id');
  const portText = text('port');
  if (portText === undefined) throw new TrackerError('missing-parameter', 'port is missing');
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw new TrackerError('bad-parameter', 'port must be 1-65535');
  }
  const port = Number(portText);

  const event = parseEvent(text('event'));
  const numwant = parseNumwant(text('numwant'));
  const flag = (name: string) => {
    const v = text(name);
    return v === undefined ? undefined : v === '1';
  };
  const params: AnnounceParams = {
    infoHash,
    peerId,
    port,
    uploaded: counter('uploaded', false),
    downloaded: counter('downloaded', false),
    // BEP 3 requires `left`; without it the client is taken for a downloader, not a seed.
    left: text('left') === undefined ? Number.MAX_SAFE_INTEGER : counter('left', false),
    event,
    numwant,
    compact: flag('compact') ?? true,
    noPeerId: flag('no_peer_id') ?? false,
    otherAddresses: [],
  };
  const key = text('key');
  if (key !== undefined) params.key = normalizeKey(bounded(key, 'key'));
  const layer = parseActiveLayer(text('layer'));
  if (layer !== undefined) params.layer = layer;
  const trackerId = text('trackerid');
  if (trackerId !== undefined) params.trackerId = bounded(trackerId, 'trackerid');
  // BEP 3 `ip`, BEP 7 `ipv4` / `ipv6`: read and checked here (a codec reports what was sent), but
  // the tracker lists a peer only at the address its request came from (worker/swarm/swarm-rules.ts):
  // these name any address the client likes, so they are never handed to other peers.
  for (const name of ['ip', 'ipv4', 'ipv6']) {
    const v = text(name);
    if (v === undefined || v === '') continue;
    // BEP 3 lets `ip` be a DNS name; we never use names a client gives, so it is ignored.
    if (name === 'ip' && /^[A-Za-z0-9.-]+$/.test(v) && !/^[\d.]+$/.test(v)) continue;
    params.otherAddresses.push(parseEndpoint(v, port, name));
  }
  return params;
}

/**
 * PPSP Get-Peer (`GET /peers`): a viewer asks a swarm for peers without joining it. Only
 * `info_hash` is required; `numwant` (clamped like an announce's), `compact`, `no_peer_id`,
 * `layer` (layer-aware selection, as for an announce) and `peer_id` (a member asking for more:
 * itself is left out) are optional. The bounds and errors are an announce's.
 */
export interface GetPeerParams {
  infoHash: Uint8Array;
  peerId?: Uint8Array;
  numwant: number;
  compact: boolean;
  noPeerId: boolean;
  layer?: number;
}

export function parseGetPeerQuery(query: string): GetPeerParams {
  const { one, text } = queryReader(query);
  const infoHash = one('info_hash');
  if (infoHash === undefined) throw new TrackerError('missing-parameter', 'info_hash is missing');
  if (infoHash.length !== 20) throw new TrackerError('bad-parameter', `info_hash must be 20 bytes, got ${infoHash.length}`);
  const peerId = one('peer_id');
  if (peerId !== undefined && peerId.length !== 20) throw new TrackerError('bad-parameter', `peer_id must be 20 bytes, got ${peerId.length}`);
  const params: GetPeerParams = { infoHash, numwant: parseNumwant(text('numwant')), compact: text('compact') !== '0', noPeerId: text('no_peer_id') === '1' };
  if (peerId !== undefined) params.peerId = peerId;
  const layer = parseActiveLayer(text('layer'));
  if (layer !== undefined) params.layer = layer;
  return params;
}

/**
 * LAYER-CHANGE: the `layer` parameter, a plain decimal 0 to MAX_LAYERS - 1 (leading zeros
 * allowed, nothing else: no sign, no spaces, not empty). Undefined when absent.
 */
export function parseActiveLayer(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,3}$/.test(value) || Number(value) >= MAX_LAYERS) {
    throw new TrackerError('bad-parameter', `layer must be a whole number from 0 to ${MAX_LAYERS - 1}, got ${JSON.stringify(value.slice(0, 16))}`);
  }
  return Number(value);
}

/**
 * The `layer` of a URL query (BEP 41 URL data of a BEP 15 announce carries the tracker URL's
 * path and query, so `/announce?layer=2` works there as over HTTP). Undefined when absent.
 */
export function layerOfQuery(query: string): number | undefined {
  const values = parseRawQuery(query).get('layer');
  if (values && values.length > 1) throw new TrackerError('duplicate-parameter', 'layer given more than once');
  return parseActiveLayer(values === undefined ? undefined : latin1(values[0]!));
}

/** Reads the info-hashes of a scrape (BEP 48); at least one, at most the cap. */
export function parseScrapeQuery(query: string): ScrapeParams {
  const q = parseRawQuery(query);
  const hashes = q.get('info_hash') ?? [];
  if (hashes.length === 0) throw new TrackerError('missing-parameter', 'info_hash is missing (full scrapes are not offered)');
  if (hashes.length > TRACKER_LIMITS.maxScrapeHashes) {
    throw new TrackerError('too-many-hashes', `at most ${TRACKER_LIMITS.maxScrapeHashes} info_hash values per scrape`);
  }
  for (const h of hashes) {
    if (h.length !== 20) throw new TrackerError('bad-parameter', `info_hash must be 20 bytes, got ${h.length}`);
  }
  return { infoHashes: hashes };
}

function parseEvent(v: string | undefined): AnnounceEvent {
  switch (v) {
    case undefined:
    case '':
    case 'empty': // some clients spell "no event" this way
      return 'none';
    case 'started':
    case 'completed':
    case 'stopped':
    case 'paused':
      return v;
    default:
      throw new TrackerError('bad-parameter', `unknown event ${JSON.stringify(v.slice(0, 32))}`);
  }
}

/**
 * The same client sends its key as `%08X` hex over HTTP (libtorrent) and as a 32-bit number over
 * BEP 15; both become lower-case hex without leading zeros so that they compare equal.
 */
export function normalizeKey(key: string): string {
  return /^[0-9a-fA-F]{1,8}$/.test(key) ? parseInt(key, 16).toString(16) : key;
}

function bounded(value: string, name: string): string {
  if (value.length > TRACKER_LIMITS.maxTokenLength) throw new TrackerError('bad-parameter', `${name} longer than ${TRACKER_LIMITS.maxTokenLength}`);
  return value;
}

/** BEP 7: an address, or an endpoint (`1.2.3.4:6881`, `[::1]:6881`); the port defaults to `port`. */
function parseEndpoint(value: string, port: number, name: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(value);
  const v4 = /^([\d.]+)(?::(\d{1,5}))?$/.exec(value);
  let host: string | undefined;
  let portText: string | undefined;
  if (bracketed && parseIPv6(bracketed[1]!)) [host, portText] = [bracketed[1], bracketed[2]];
  else if (v4 && parseIPv4(v4[1]!)) [host, portText] = [v4[1], v4[2]];
  else if (parseIPv6(value)) host = value;
  const endpointPort = portText === undefined ? port : Number(portText);
  if (host === undefined || endpointPort < 1 || endpointPort > 65535) {
    throw new TrackerError('bad-parameter', `${name} is not an IP address or endpoint`);
  }
  return { host, port: endpointPort };
}
