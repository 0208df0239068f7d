import { TrackerError } from '../errors.js';
import { type BDict, type BEncodable, decode, DictReader, encode, isBytes, isDict, isList } from '../bencode/index.js';
import { fromBinaryString, fromHex, toBinaryString, toHex } from '../bytes.js';
import { decodeCompactPeers, encodeCompactPeers, type PeerAddress } from '../compact/compact-peers.js';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../ip.js';

/** A peer as a tracker returns it. */
export interface TrackerPeer extends PeerAddress {
  peerId?: Uint8Array;
}

/** Swarm counts as scrape reports them (BEP 48, with BEP 21 `downloaders`). */
export interface ScrapeCounts {
  complete: number;
  incomplete: number;
  downloaded: number;
  downloaders: number;
}

export interface AnnounceResponse {
  interval: number;
  minInterval?: number;
  complete: number;
  incomplete: number;
  peers: TrackerPeer[];
  /** BEP 24: the address the tracker saw the request come from. */
  externalIp?: string;
  warning?: string;
  trackerId?: string;
}

/** A tracker's refusal: BEP 3 `failure reason` with BEP 31 `retry in` (minutes or 'never'). */
export interface TrackerFailure {
  failure: string;
  retryIn?: number | 'never';
}

/** Largest tracker response a client decodes. */
export const MAX_TRACKER_RESPONSE = 1024 * 1024;

/**
 * Bencodes an announce response. Compact: IPv4 peers in `peers` (BEP 23), IPv6 in `peers6`
 * (BEP 7). Otherwise the BEP 3 list of dictionaries, with `peer id` unless `noPeerId`.
 */
export function encodeAnnounceResponse(response: AnnounceResponse, options: { compact: boolean; noPeerId: boolean }): Uint8Array {
  const v4 = response.peers.filter((p) => parseIPv4(p.host));
  const v6 = response.peers.filter((p) => !parseIPv4(p.host) && parseIPv6(p.host));
  const body: Record<string, BEncodable | undefined> = {
    interval: response.interval,
    'min interval': response.minInterval,
    complete: response.complete,
    incomplete: response.incomplete,
    'warning message': response.warning,
    'tracker id': response.trackerId,
    'external ip': response.externalIp === undefined ? undefined : (parseIPv4(response.externalIp) ?? parseIPv6(response.externalIp)),
  };
  if (options.compact) {
    body.peers = encodeCompactPeers(v4, 4);
    if (v6.length > 0) body.peers6 = encodeCompactPeers(v6, 6);
  } else {
    body.peers = [...v4, ...v6].map((p) => ({
      'peer id': options.noPeerId ? undefined : p.peerId,
      ip: p.host,
      port: p.port,
    }));
  }
  return encode(body);
}

/** Bencodes a refusal. */
export function encodeFailure(failure: TrackerFailure): Uint8Array {
  return encode({ 'failure reason': failure.failure, 'retry in': failure.retryIn });
}

/** Bencodes a scrape response; `files` is keyed by the raw 20-byte info-hash. */
export function encodeScrapeResponse(files: ReadonlyMap<string, ScrapeCounts>, interval?: number): Uint8Array {
  const dict: Record<string, BEncodable> = {};
  for (const [hex, counts] of files) {
    dict[toBinaryString(fromHex(hex)!)] = { ...counts };
  }
  return encode({ files: dict, flags: interval === undefined ? undefined : { min_request_interval: interval } });
}

const fail = (code: string, message: string) => new TrackerError(code, message);

/** Decodes an HTTP tracker's announce answer (both peer models, peers6, BEP 24, BEP 31). */
export function decodeAnnounceResponse(bytes: Uint8Array): AnnounceResponse | TrackerFailure {
  const top = topDict(bytes);
  const failure = readFailure(top);
  if (failure) return failure;
  const r = new DictReader(top, fail);
  const peers: TrackerPeer[] = [];
  const rawPeers = r.get('peers');
  if (isBytes(rawPeers)) peers.push(...decodeCompactPeers(rawPeers, 4));
  else if (isList(rawPeers)) {
    rawPeers.forEach((entry, i) => {
      if (!isDict(entry)) throw new TrackerError('bad-response', `peers[${i}] is not a dictionary`);
      const p = new DictReader(entry, fail, `peers[${i}]`);
      const host = p.text('ip');
      const peer: TrackerPeer = { host, port: p.int('port', 0, 65535) };
      const id = p.optBytes('peer id');
      if (id !== undefined) peer.peerId = id;
      peers.push(peer);
    });
  } else if (rawPeers !== undefined) throw new TrackerError('bad-response', 'peers is neither a string nor a list');
  const peers6 = r.optBytes('peers6');
  if (peers6 !== undefined) peers.push(...decodeCompactPeers(peers6, 6));
  const response: AnnounceResponse = {
    interval: r.int('interval', 0),
    complete: r.optInt('complete', 0) ?? 0,
    incomplete: r.optInt('incomplete', 0) ?? 0,
    peers,
  };
  const minInterval = r.optInt('min interval', 0);
  if (minInterval !== undefined) response.minInterval = minInterval;
  const external = r.optBytes('external ip');
  if (external?.length === 4) response.externalIp = formatIPv4(external);
  else if (external?.length === 16) response.externalIp = formatIPv6(external);
  const warning = r.optText('warning message');
  if (warning !== undefined) response.warning = warning;
  const trackerId = r.optBytes('tracker id');
  if (trackerId !== undefined) response.trackerId = toBinaryString(trackerId);
  return response;
}

/** Decodes a scrape answer into counts keyed by info-hash hex. */
export function decodeScrapeResponse(bytes: Uint8Array): Map<string, ScrapeCounts> | TrackerFailure {
  const top = topDict(bytes);
  const failure = readFailure(top);
  if (failure) return failure;
  const files = new DictReader(top, fail).dictAt('files');
  const out = new Map<string, ScrapeCounts>();
  for (const key of Object.keys(files.dict)) {
    const hash = fromBinaryString(key);
    if (!hash || hash.length !== 20) throw new TrackerError('bad-response', 'scrape files key is not a 20-byte info-hash');
    const c = files.dictAt(key);
    const incomplete = c.optInt('incomplete', 0) ?? 0;
    out.set(toHex(hash), {
      complete: c.optInt('complete', 0) ?? 0,
      incomplete,
      downloaded: c.optInt('downloaded', 0) ?? 0,
      downloaders: c.optInt('downloaders', 0) ?? incomplete,
    });
  }
  return out;
}

function topDict(bytes: Uint8Array): BDict {
  const value = decode(bytes, { maxBytes: MAX_TRACKER_RESPONSE });
  if (!isDict(value)) throw new TrackerError('bad-response', 'tracker response is not a dictionary');
  return value;
}

function readFailure(top: BDict): TrackerFailure | undefined {
  const r = new DictReader(top, fail);
  const reason = r.optText('failure reason');
  if (reason === undefined) return undefined;
  const retry = r.get('retry in');
  const failure: TrackerFailure = { failure: reason };
  if (typeof retry === 'number' && retry >= 0) failure.retryIn = retry;
  else if (isBytes(retry) && toBinaryString(retry) === 'never') failure.retryIn = 'never';
  return failure;
}

/** The fields of the common compact announce answer, for `encodeCompactAnnounce`. */
export interface CompactAnnounceFields {
  complete: number;
  incomplete: number;
  interval: number;
  minInterval: number;
  /** BEP 24, raw 4 or 16 bytes. */
  externalIp?: Uint8Array;
  /** BEP 23 entries, concatenated. */
  peers: Uint8Array;
  /** BEP 7 entries, concatenated; left out when empty. */
  peers6: Uint8Array;
}

const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

/**
 * The compact announce answer written directly (keys in their sorted order), for the tracker's
 * hot path; byte for byte what `encode` makes of the same dictionary (a test checks this).
 */
export function encodeCompactAnnounce(f: CompactAnnounceFields): Uint8Array {
  const head = ascii(
    `d8:completei${f.complete}e` +
      (f.externalIp ? `11:external ip${f.externalIp.length}:` : ''),
  );
  const middle = ascii(
    `10:incompletei${f.incomplete}e8:intervali${f.interval}e12:min intervali${f.minInterval}e5:peers${f.peers.length}:`,
  );
  const six = f.peers6.length > 0 ? ascii(`6:peers6${f.peers6.length}:`) : undefined;
  const out = new Uint8Array(head.length + (f.externalIp?.length ?? 0) + middle.length + f.peers.length + (six ? six.length + f.peers6.length : 0) + 1);
  let at = 0;
  const put = (bytes: Uint8Array) => {
    out.set(bytes, at);
    at += bytes.length;
  };
  put(head);
  if (f.externalIp) put(f.externalIp);
  put(middle);
  put(f.peers);
  if (six) {
    put(six);
    put(f.peers6);
  }
  out[at] = 0x65; // 'e'
  return out;
}
