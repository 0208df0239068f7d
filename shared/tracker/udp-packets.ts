import { TrackerError } from '../errors.js';
import { decodeCompactPeers, encodeCompactPeers, type PeerAddress } from '../compact/compact-peers.js';
import type { AnnounceEvent } from './announce-params.js';

/** BEP 15: the magic constant that opens every connect request. */
export const UDP_PROTOCOL_ID = 0x41727101980n;
/** BEP 15 action codes. */
export const UDP_ACTION = { connect: 0, announce: 1, scrape: 2, error: 3 } as const;
/** BEP 15 announce events; 4 (paused, BEP 21) is libtorrent's addition. */
const EVENT_CODES: readonly AnnounceEvent[] = ['none', 'completed', 'started', 'stopped', 'paused'];
/** BEP 15: a scrape packet holds up to about 74 info-hashes. */
export const UDP_MAX_SCRAPE_HASHES = 74;
/** Largest datagram we look at; anything bigger is not a tracker request. */
export const UDP_MAX_PACKET = 2048;
const ANNOUNCE_LENGTH = 98;
/** BEP 41 URL data is at most a few hundred bytes in practice. */
const MAX_URL_DATA = 1024;

export type UdpRequest =
  | { action: 'connect'; transactionId: number }
  | {
      action: 'announce';
      connectionId: Uint8Array;
      transactionId: number;
      infoHash: Uint8Array;
      peerId: Uint8Array;
      downloaded: number;
      left: number;
      uploaded: number;
      event: AnnounceEvent;
      /** The IPv4 the client claims (0 = use the sender's); trackers should ignore it. */
      ip: number;
      key: number;
      /** -1 = tracker's default. */
      numWant: number;
      port: number;
      /** BEP 41: the path and query of the tracker URL (e.g. a passkey), when sent. */
      urlData?: string;
    }
  | { action: 'scrape'; connectionId: Uint8Array; transactionId: number; infoHashes: Uint8Array[] };

export type UdpResponse =
  | { action: 'connect'; transactionId: number; connectionId: Uint8Array }
  | { action: 'announce'; transactionId: number; interval: number; leechers: number; seeders: number; peers: PeerAddress[] }
  | { action: 'scrape'; transactionId: number; results: { seeders: number; completed: number; leechers: number }[] }
  | { action: 'error'; transactionId: number; message: string };

/**
 * A request that cannot be served. When `transactionId` is known the tracker answers with an
 * error packet; otherwise the datagram is dropped (BEP 15: it may not be ours at all).
 */
export class UdpRequestError extends TrackerError {
  readonly transactionId: number | undefined;

  constructor(code: string, message: string, transactionId?: number) {
    super(`udp-${code}`, message);
    this.transactionId = transactionId;
  }

  get sendable(): boolean {
    return this.transactionId !== undefined;
  }
}

/** Decodes a request datagram exactly per BEP 15's byte layouts (network byte order). */
export function decodeUdpRequest(packet: Uint8Array): UdpRequest {
  if (packet.length < 16) throw new UdpRequestError('too-short', `datagram of ${packet.length} bytes is shorter than 16`);
  if (packet.length > UDP_MAX_PACKET) throw new UdpRequestError('too-long', `datagram of ${packet.length} bytes`);
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const action = view.getUint32(8);
  const transactionId = view.getUint32(12);
  if (action === UDP_ACTION.connect) {
    if (view.getBigUint64(0) !== UDP_PROTOCOL_ID) throw new UdpRequestError('bad-protocol-id', 'connect without the BEP 15 protocol id');
    return { action: 'connect', transactionId };
  }
  const connectionId = packet.slice(0, 8);
  if (action === UDP_ACTION.announce) {
    if (packet.length < ANNOUNCE_LENGTH) {
      throw new UdpRequestError('bad-length', `announce needs ${ANNOUNCE_LENGTH} bytes, got ${packet.length}`, transactionId);
    }
    const eventCode = view.getUint32(80);
    const event = EVENT_CODES[eventCode];
    if (event === undefined) throw new UdpRequestError('bad-event', `unknown event ${eventCode}`, transactionId);
    const port = view.getUint16(96);
    if (port === 0) throw new UdpRequestError('bad-port', 'port 0', transactionId);
    const request: UdpRequest = {
      action: 'announce',
      connectionId,
      transactionId,
      infoHash: packet.slice(16, 36),
      peerId: packet.slice(36, 56),
      downloaded: counter(view, 56),
      left: counter(view, 64),
      uploaded: counter(view, 72),
      event,
      ip: view.getUint32(84),
      key: view.getUint32(88),
      numWant: view.getInt32(92),
      port,
    };
    const urlData = readUrlData(packet.subarray(ANNOUNCE_LENGTH), transactionId);
    if (urlData !== undefined) request.urlData = urlData;
    return request;
  }
  if (action === UDP_ACTION.scrape) {
    const body = packet.length - 16;
    if (body === 0 || body % 20 !== 0) {
      throw new UdpRequestError('bad-length', 'scrape must carry one or more whole 20-byte info-hashes', transactionId);
    }
    if (body / 20 > UDP_MAX_SCRAPE_HASHES) {
      throw new UdpRequestError('too-many-hashes', `at most ${UDP_MAX_SCRAPE_HASHES} info-hashes per scrape`, transactionId);
    }
    const infoHashes: Uint8Array[] = [];
    for (let at = 16; at < packet.length; at += 20) infoHashes.push(packet.slice(at, at + 20));
    return { action: 'scrape', connectionId, transactionId, infoHashes };
  }
  throw new UdpRequestError('bad-action', `unknown action ${action}`, transactionId);
}

/** 64-bit counters: clamp to the safe-integer range (no real transfer comes near it). */
function counter(view: DataView, at: number): number {
  const v = view.getBigUint64(at);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** BEP 41 options after the announce: 0 = end, 1 = no-op, 2 = URL data (length byte + bytes). */
function readUrlData(options: Uint8Array, transactionId: number): string | undefined {
  let url = '';
  let seen = false;
  for (let i = 0; i < options.length; ) {
    const type = options[i]!;
    if (type === 0) break;
    if (type === 1) {
      i++;
      continue;
    }
    if (type !== 2) break; // unknown option: BEP 41 says stop parsing
    const length = options[i + 1];
    if (length === undefined || i + 2 + length > options.length) {
      throw new UdpRequestError('bad-option', 'URL data option runs past the packet', transactionId);
    }
    url += String.fromCharCode(...options.subarray(i + 2, i + 2 + length));
    if (url.length > MAX_URL_DATA) throw new UdpRequestError('bad-option', 'URL data too long', transactionId);
    seen = true;
    i += 2 + length;
  }
  return seen ? url : undefined;
}

/** Encodes a tracker's answer. Announce peers must all be of one family: IPv6 requests get 18-byte entries. */
export function encodeUdpResponse(response: UdpResponse): Uint8Array {
  switch (response.action) {
    case 'connect': {
      const out = header(16, UDP_ACTION.connect, response.transactionId);
      out.bytes.set(response.connectionId.subarray(0, 8), 8);
      return out.bytes;
    }
    case 'announce': {
      const family = response.peers.some((p) => p.host.includes(':')) ? 6 : 4;
      const peers = encodeCompactPeers(response.peers, family);
      return encodeUdpAnnounceResponse(response.transactionId, response.interval, response.leechers, response.seeders, peers);
    }
    case 'scrape': {
      const out = header(8 + 12 * response.results.length, UDP_ACTION.scrape, response.transactionId);
      response.results.forEach((r, i) => {
        out.view.setUint32(8 + 12 * i, r.seeders);
        out.view.setUint32(12 + 12 * i, r.completed);
        out.view.setUint32(16 + 12 * i, r.leechers);
      });
      return out.bytes;
    }
    case 'error': {
      const message = new TextEncoder().encode(response.message);
      const out = header(8 + message.length, UDP_ACTION.error, response.transactionId);
      out.bytes.set(message, 8);
      return out.bytes;
    }
  }
}

/** An announce answer from peers already in compact form (6 bytes each for IPv4, 18 for IPv6). */
export function encodeUdpAnnounceResponse(transactionId: number, interval: number, leechers: number, seeders: number, compactPeers: Uint8Array): Uint8Array {
  const out = header(20 + compactPeers.length, UDP_ACTION.announce, transactionId);
  out.view.setUint32(8, interval);
  out.view.setUint32(12, leechers);
  out.view.setUint32(16, seeders);
  out.bytes.set(compactPeers, 20);
  return out.bytes;
}

function header(length: number, action: number, transactionId: number) {
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, action);
  view.setUint32(4, transactionId);
  return { bytes, view };
}

/** Encodes a request (for our UDP tracker client and for tests). */
export function encodeUdpRequest(request: UdpRequest): Uint8Array {
  if (request.action === 'connect') {
    const bytes = new Uint8Array(16);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, UDP_PROTOCOL_ID);
    view.setUint32(8, UDP_ACTION.connect);
    view.setUint32(12, request.transactionId);
    return bytes;
  }
  if (request.action === 'scrape') {
    const bytes = new Uint8Array(16 + 20 * request.infoHashes.length);
    const view = new DataView(bytes.buffer);
    bytes.set(request.connectionId, 0);
    view.setUint32(8, UDP_ACTION.scrape);
    view.setUint32(12, request.transactionId);
    request.infoHashes.forEach((h, i) => bytes.set(h, 16 + 20 * i));
    return bytes;
  }
  const url = request.urlData === undefined ? [] : urlDataOptions(request.urlData);
  const bytes = new Uint8Array(ANNOUNCE_LENGTH + url.length);
  const view = new DataView(bytes.buffer);
  bytes.set(request.connectionId, 0);
  view.setUint32(8, UDP_ACTION.announce);
  view.setUint32(12, request.transactionId);
  bytes.set(request.infoHash, 16);
  bytes.set(request.peerId, 36);
  view.setBigUint64(56, BigInt(request.downloaded));
  view.setBigUint64(64, BigInt(request.left));
  view.setBigUint64(72, BigInt(request.uploaded));
  view.setUint32(80, EVENT_CODES.indexOf(request.event));
  view.setUint32(84, request.ip);
  view.setUint32(88, request.key);
  view.setInt32(92, request.numWant);
  view.setUint16(96, request.port);
  bytes.set(url, ANNOUNCE_LENGTH);
  return bytes;
}

function urlDataOptions(url: string): number[] {
  const out: number[] = [];
  for (let at = 0; at < url.length; at += 255) {
    const chunk = url.slice(at, at + 255);
    out.push(2, chunk.length, ...Array.from(chunk, (c) => c.charCodeAt(0) & 0xff));
  }
  out.push(0);
  return out;
}

/**
 * Decodes a tracker's answer; `family` says which peer size an announce answer carries (the
 * family of the socket it came over). Throws TrackerError for a malformed datagram.
 */
export function decodeUdpResponse(packet: Uint8Array, family: 4 | 6): UdpResponse {
  if (packet.length < 8) throw new TrackerError('udp-too-short', `response of ${packet.length} bytes`);
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const action = view.getUint32(0);
  const transactionId = view.getUint32(4);
  switch (action) {
    case UDP_ACTION.connect:
      if (packet.length < 16) throw new TrackerError('udp-bad-length', 'connect response shorter than 16 bytes');
      return { action: 'connect', transactionId, connectionId: packet.slice(8, 16) };
    case UDP_ACTION.announce: {
      if (packet.length < 20) throw new TrackerError('udp-bad-length', 'announce response shorter than 20 bytes');
      return {
        action: 'announce',
        transactionId,
        interval: view.getUint32(8),
        leechers: view.getUint32(12),
        seeders: view.getUint32(16),
        peers: decodeCompactPeers(packet.subarray(20), family),
      };
    }
    case UDP_ACTION.scrape: {
      if ((packet.length - 8) % 12 !== 0) throw new TrackerError('udp-bad-length', 'scrape response is not 8 + 12n bytes');
      const results = [];
      for (let at = 8; at < packet.length; at += 12) {
        results.push({ seeders: view.getUint32(at), completed: view.getUint32(at + 4), leechers: view.getUint32(at + 8) });
      }
      return { action: 'scrape', transactionId, results };
    }
    case UDP_ACTION.error:
      return { action: 'error', transactionId, message: new TextDecoder().decode(packet.subarray(8)) };
    default:
      throw new TrackerError('udp-bad-action', `unknown action ${action} in a response`);
  }
}
