import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { randomInt } from 'node:crypto';
import { TrackerError } from '../../shared/errors.js';
import { decodeUdpResponse, encodeUdpRequest, type UdpRequest, type UdpResponse } from '../../shared/tracker/udp-packets.js';
import type { ClientAnnounce } from './client-announce.js';
import type { PeerAddress } from '../../shared/compact/index.js';

export interface UdpAnnounceResult {
  interval: number;
  seeders: number;
  leechers: number;
  peers: PeerAddress[];
}

const CONNECTION_ID_LIFETIME_MS = 60_000;
const MAX_RETRIES = 8;

interface Target {
  address: string;
  family: 4 | 6;
  port: number;
  /** The tracker URL's path as written ('' when it has none). */
  path: string;
  /** The tracker URL's query with its '?' ('' when it has none). */
  query: string;
}

/**
 * BEP 41 URL data for an announce: the tracker URL's path and query, with LAYER-CHANGE's
 * `layer=N` appended to that query when the announce carries a layer. Undefined when there is
 * nothing to say: no query and no layer, and the path is only the conventional `/announce` (or
 * none), which every tracker assumes anyway. Otherwise the path goes along as written, as BEP 41
 * has it (`/announce?layer=2`, `/p/PASSKEY/announce?layer=2`); the encoder splits the result into
 * URL-data options of at most 255 bytes each, which the tracker concatenates.
 */
export function announceUrlData(path: string, query: string, layer?: number): string | undefined {
  // `new URL` has already percent-encoded the query, so appending keeps it well-formed.
  const fullQuery = layer === undefined ? query : `${query.length > 1 ? `${query}&` : '?'}layer=${layer}`;
  const plainPath = path === '' || path === '/' || path === '/announce';
  if (plainPath && fullQuery === '') return undefined;
  return (path || '/') + fullQuery;
}

/**
 * BEP 15 tracker client over one UDP socket per address family.
 *
 * - Retransmission: wait 15 * 2^n seconds for an answer (n = 0..8), resending the request each
 *   time; after the last wait the tracker counts as unreachable.
 * - A connection ID may be used for one minute after it was received, then a new one is asked
 *   for before the next try (retransmissions included).
 * - Only an answer from the tracker's address, with our transaction id and the expected action
 *   (or an error), counts; anything else is ignored.
 * - BEP 41: the URL's path and query (a passkey, say) travel as URL data in the announce, and
 *   so does our active layer (`layer=N` in that query, LAYER-CHANGE as over HTTP); see
 *   `announceUrlData`. An announce without a layer sends no `layer=` (the tracker keeps the last).
 *
 * `baseTimeoutMs` (default 15,000) exists so tests can shorten the schedule.
 */
export class UdpTrackerClient {
  private sockets = new Map<4 | 6, Socket>();
  private connections = new Map<string, { id: Uint8Array; at: number }>();
  private waiting = new Map<number, { from: string; resolve: (r: UdpResponse) => void; family: 4 | 6 }>();
  private closed = false;

  constructor(private readonly options: { baseTimeoutMs?: number; maxRetries?: number } = {}) {}

  async announce(url: string, a: ClientAnnounce): Promise<UdpAnnounceResult> {
    const target = await this.resolve(url);
    const urlData = announceUrlData(target.path, target.query, a.layer);
    const response = await this.request(target, (connectionId, transactionId) => ({
      action: 'announce',
      connectionId,
      transactionId,
      infoHash: a.infoHash,
      peerId: a.peerId,
      downloaded: a.downloaded,
      left: a.left,
      uploaded: a.uploaded,
      // BEP 15 has no `paused`: partial seeds announce as plain re-announces there.
      event: a.event === 'paused' ? 'none' : a.event,
      ip: 0,
      key: a.key ?? 0,
      numWant: a.numWant ?? -1,
      port: a.port,
      ...(urlData === undefined ? {} : { urlData }),
    }));
    if (response.action !== 'announce') throw new TrackerError('udp.unexpected', `tracker answered ${response.action} to an announce`);
    return { interval: response.interval, seeders: response.seeders, leechers: response.leechers, peers: response.peers };
  }

  async scrape(url: string, infoHashes: Uint8Array[]): Promise<{ seeders: number; completed: number; leechers: number }[]> {
    const target = await this.resolve(url);
    const response = await this.request(target, (connectionId, transactionId) => ({ action: 'scrape', connectionId, transactionId, infoHashes }));
    if (response.action !== 'scrape') throw new TrackerError('udp.unexpected', `tracker answered ${response.action} to a scrape`);
    return response.results;
  }

  close(): void {
    this.closed = true;
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }

  private async resolve(url: string): Promise<Target> {
    const u = new URL(url);
    if (u.protocol !== 'udp:') throw new TrackerError('udp.url', `not a udp:// tracker URL: ${url}`);
    const port = Number(u.port);
    if (!port) throw new TrackerError('udp.url', `udp tracker URL without a port: ${url}`);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const found = await lookup(host);
    // `search` drops a bare '?'; only a query with something in it counts.
    return { address: found.address, family: found.family === 6 ? 6 : 4, port, path: u.pathname, query: u.search };
  }

  private socket(family: 4 | 6): Socket {
    let s = this.sockets.get(family);
    if (!s) {
      s = createSocket(family === 6 ? 'udp6' : 'udp4');
      s.on('message', (msg, rinfo) => this.onMessage(new Uint8Array(msg), `${rinfo.address}:${rinfo.port}`, family));
      s.on('error', () => undefined); // ICMP errors surface as timeouts, which the schedule handles
      s.unref();
      this.sockets.set(family, s);
    }
    return s;
  }

  private onMessage(packet: Uint8Array, from: string, family: 4 | 6): void {
    if (packet.length < 8) return;
    const transactionId = new DataView(packet.buffer, packet.byteOffset).getUint32(4);
    const waiter = this.waiting.get(transactionId);
    if (!waiter || waiter.from !== from || waiter.family !== family) return;
    let response: UdpResponse;
    try {
      response = decodeUdpResponse(packet, family);
    } catch {
      return; // a malformed answer is as good as none; the retransmit schedule goes on
    }
    this.waiting.delete(transactionId);
    waiter.resolve(response);
  }

  /** Sends one datagram and waits `ms` for the answer to this transaction; undefined on timeout. */
  private exchange(target: Target, request: UdpRequest, ms: number): Promise<UdpResponse | undefined> {
    return new Promise((resolve) => {
      const from = `${target.address}:${target.port}`;
      const timer = setTimeout(() => {
        this.waiting.delete(request.transactionId);
        resolve(undefined);
      }, ms);
      timer.unref();
      this.waiting.set(request.transactionId, {
        from,
        family: target.family,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
      this.socket(target.family).send(encodeUdpRequest(request), target.port, target.address);
    });
  }

  private async request(target: Target, build: (connectionId: Uint8Array, transactionId: number) => UdpRequest): Promise<UdpResponse> {
    const base = this.options.baseTimeoutMs ?? 15_000;
    const retries = this.options.maxRetries ?? MAX_RETRIES;
    const key = `${target.address}:${target.port}`;
    for (let n = 0; n <= retries; n++) {
      if (this.closed) throw new TrackerError('udp.closed', 'the tracker client was closed');
      const wait = base * 2 ** n;
      let connection = this.connections.get(key);
      if (!connection || Date.now() - connection.at > CONNECTION_ID_LIFETIME_MS) {
        const answer = await this.exchange(target, { action: 'connect', transactionId: randomInt(2 ** 32) }, wait);
        if (!answer) continue;
        if (answer.action === 'error') throw new TrackerError('udp.error', `tracker refused to connect: ${answer.message}`);
        if (answer.action !== 'connect') continue;
        connection = { id: answer.connectionId, at: Date.now() };
        this.connections.set(key, connection);
      }
      const answer = await this.exchange(target, build(connection.id, randomInt(2 ** 32)), wait);
      if (!answer) continue; // retransmit; the ID is renewed once it is a minute old
      if (answer.action === 'error') throw new TrackerError('udp.error', answer.message);
      return answer;
    }
    throw new TrackerError('udp.timeout', `no answer from udp://${key} after ${retries + 1} tries`);
  }
}
