/** A bare HTTP tracker client for tests: builds announce/scrape URLs with raw binary escapes. */
import { decodeAnnounceResponse, decodeScrapeResponse, escapeBytes, type UdpRequest } from '../../shared/tracker/index.js';

export { escapeBytes };

export function peerId(n: number): Uint8Array {
  return new TextEncoder().encode(`-ES0100-${String(n).padStart(12, '0')}`);
}

export function infoHash(n: number): Uint8Array {
  return Uint8Array.from({ length: 20 }, (_, i) => (n * 31 + i * 7) & 0xff);
}

export interface AnnounceOptions {
  hash: Uint8Array;
  peer: number;
  port?: number;
  left?: number;
  event?: string;
  extra?: string;
  path?: string;
  /** Extra request headers (e.g. a forged CF-Connecting-IP, which the edge must ignore). */
  headers?: Record<string, string>;
}

export async function announceRaw(base: URL, o: AnnounceOptions): Promise<Response> {
  const query = `info_hash=${escapeBytes(o.hash)}&peer_id=${escapeBytes(peerId(o.peer))}&port=${o.port ?? 6000 + o.peer}&left=${o.left ?? 100}` + (o.event ? `&event=${o.event}` : '') + (o.extra ?? '');
  return fetch(new URL(`${o.path ?? '/announce'}?${query}`, base), { headers: o.headers ?? {} });
}

export async function announce(base: URL, o: AnnounceOptions) {
  const response = await announceRaw(base, o);
  if (response.status !== 200) throw new Error(`announce answered ${response.status}`);
  return decodeAnnounceResponse(new Uint8Array(await response.arrayBuffer()));
}

export async function scrape(base: URL, hashes: Uint8Array[], path = '/scrape') {
  const response = await fetch(new URL(`${path}?${hashes.map((h) => `info_hash=${escapeBytes(h)}`).join('&')}`, base));
  if (response.status !== 200) throw new Error(`scrape answered ${response.status}`);
  return decodeScrapeResponse(new Uint8Array(await response.arrayBuffer()));
}

/** A BEP 15 announce from peer n of swarm 1 (fields as `over` says). */
export function announceRequest(connectionId: Uint8Array, peer: number, over: Partial<Extract<UdpRequest, { action: 'announce' }>> = {}): UdpRequest {
  return {
    action: 'announce',
    connectionId,
    transactionId: 1000 + peer,
    infoHash: infoHash(1),
    peerId: peerId(peer),
    downloaded: 0,
    left: 100,
    uploaded: 0,
    event: 'started',
    ip: 0,
    key: peer,
    numWant: -1,
    port: 7000 + peer,
    ...over,
  };
}
