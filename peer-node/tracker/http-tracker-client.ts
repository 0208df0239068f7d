import { request } from 'undici';
import { readBounded } from '../http/read-bounded.js';
import { TrackerError } from '../../shared/errors.js';
import { decodeAnnounceResponse, decodeScrapeResponse, MAX_TRACKER_RESPONSE, type AnnounceResponse, type ScrapeCounts, type TrackerFailure } from '../../shared/tracker/http-response.js';
import { escapeBytes } from '../../shared/tracker/http-query.js';
import type { ClientAnnounce } from './client-announce.js';

/**
 * BEP 3 / BEP 23 HTTP tracker client through undici (keep-alive, bounded body, timeouts).
 * Binary parameters (info_hash, peer_id) are percent-escaped byte by byte: they are not text.
 * A tracker's `failure reason` (with BEP 31 `retry in`) comes back as a TrackerFailure, not an
 * exception; transport problems (refused, timed out, non-200, oversized or undecodable bodies)
 * throw TrackerError with the reason.
 */
export function announceUrl(base: string, a: ClientAnnounce): string {
  const parts = [
    `info_hash=${escapeBytes(a.infoHash)}`,
    `peer_id=${escapeBytes(a.peerId)}`,
    `port=${a.port}`,
    `uploaded=${a.uploaded}`,
    `downloaded=${a.downloaded}`,
    `left=${a.left}`,
    'compact=1',
  ];
  if (a.event !== 'none') parts.push(`event=${a.event}`);
  if (a.numWant !== undefined) parts.push(`numwant=${a.numWant}`);
  if (a.key !== undefined) parts.push(`key=${(a.key >>> 0).toString(16).padStart(8, '0')}`);
  if (a.trackerId) parts.push(`trackerid=${encodeURIComponent(a.trackerId)}`);
  if (a.layer !== undefined) parts.push(`layer=${a.layer}`);
  return `${base}${base.includes('?') ? '&' : '?'}${parts.join('&')}`;
}

/** The announce URL with its last `announce` path segment renamed (BEP 48's rule for scrape). */
function siblingUrl(announce: string, name: string): string | undefined {
  const u = new URL(announce);
  const last = u.pathname.lastIndexOf('/');
  if (!u.pathname.slice(last + 1).startsWith('announce')) return undefined;
  u.pathname = u.pathname.slice(0, last + 1) + name + u.pathname.slice(last + 1 + 'announce'.length);
  return u.toString();
}

/** BEP 48: the scrape URL is the announce URL with its last `announce` path segment renamed. */
export const scrapeUrl = (announce: string) => siblingUrl(announce, 'scrape');

/** PPSP Get-Peer on our edge: `/peers` beside `/announce` (and `/p/KEY/peers` beside a passkey's). */
export const getPeerUrl = (announce: string) => siblingUrl(announce, 'peers');

async function getBounded(url: string, timeoutMs: number): Promise<Uint8Array> {
  let response;
  try {
    response = await request(url, { method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs, headers: { 'user-agent': 'edge-swarm/0.1' } });
  } catch (err) {
    throw new TrackerError('http.unreachable', `tracker ${new URL(url).origin} unreachable: ${(err as Error).message}`);
  }
  const body = await readBounded(response.body, MAX_TRACKER_RESPONSE);
  if (!body) throw new TrackerError('http.too-large', `tracker answer over ${MAX_TRACKER_RESPONSE} bytes`);
  // Trackers send failure reasons with 200; some use 4xx with a bencoded body, which we read too.
  if (response.statusCode !== 200 && !(response.statusCode >= 400 && response.statusCode < 500 && body[0] === 0x64)) {
    throw new TrackerError('http.status', `tracker answered HTTP ${response.statusCode}`);
  }
  return body;
}

export async function httpAnnounce(announce: string, a: ClientAnnounce, timeoutMs = 15_000): Promise<AnnounceResponse | TrackerFailure> {
  return decodeAnnounceResponse(await getBounded(announceUrl(announce, a), timeoutMs));
}

export async function httpScrape(announce: string, infoHashes: Uint8Array[], timeoutMs = 15_000): Promise<Map<string, ScrapeCounts> | TrackerFailure> {
  const base = scrapeUrl(announce);
  if (!base) throw new TrackerError('http.no-scrape', `no scrape URL for ${announce} (BEP 48: the path must end in announce)`);
  const query = infoHashes.map((h) => `info_hash=${escapeBytes(h)}`).join('&');
  return decodeScrapeResponse(await getBounded(`${base}${base.includes('?') ? '&' : '?'}${query}`, timeoutMs));
}

/**
 * PPSP Get-Peer: peers of a swarm without joining it (a viewer that is only looking). Answered
 * in the announce's shape; `layer` asks for peers holding what that layer needs first.
 */
export async function httpGetPeers(announce: string, infoHash: Uint8Array, options: { numwant?: number; layer?: number; timeoutMs?: number } = {}): Promise<AnnounceResponse | TrackerFailure> {
  const base = getPeerUrl(announce);
  if (!base) throw new TrackerError('http.no-get-peer', `no Get-Peer URL for ${announce} (the path must end in announce)`);
  const parts = [`info_hash=${escapeBytes(infoHash)}`, 'compact=1'];
  if (options.numwant !== undefined) parts.push(`numwant=${options.numwant}`);
  if (options.layer !== undefined) parts.push(`layer=${options.layer}`);
  return decodeAnnounceResponse(await getBounded(`${base}${base.includes('?') ? '&' : '?'}${parts.join('&')}`, options.timeoutMs ?? 15_000));
}
