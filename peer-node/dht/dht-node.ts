import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { bytesEqual, fromHex, toHex } from '../../shared/bytes.js';
import type { PeerAddress } from '../../shared/compact/index.js';
import type { CompactNode } from '../../shared/compact/compact-nodes.js';
import { decodeKrpc, encodeKrpc, type KrpcQuery, type KrpcResponseBody } from '../../shared/dht/krpc.js';
import { KrpcError } from '../../shared/errors.js';
import { idToBigInt, RoutingTable } from './routing-table.js';
import { ScrapeBloom } from '../../shared/dht/scrape-bloom.js';
import { parseIPv4, parseIPv6 } from '../../shared/ip.js';
import { UdpTransport, type DhtTransport, type Endpoint } from './transport.js';

/** A BEP 33 filter of the entries' IPs (never their ports). */
async function bloomOf(entries: { peer: PeerAddress }[]): Promise<Uint8Array> {
  const bloom = new ScrapeBloom();
  for (const e of entries) {
    const ip = parseIPv4(e.peer.host) ?? parseIPv6(e.peer.host);
    if (ip) await bloom.insertIp(ip);
  }
  return bloom.bits;
}

/** The node id kept in a state file, if there is a readable one. */
function savedId(file: string | undefined): Uint8Array | undefined {
  if (!file) return undefined;
  try {
    const id = fromHex(String((JSON.parse(readFileSync(file, 'utf8')) as { id?: unknown }).id ?? ''));
    return id && id.length === 20 ? id : undefined;
  } catch {
    return undefined;
  }
}

export interface DhtOptions {
  host?: string;
  port?: number;
  nodeId?: Uint8Array;
  /** A file to keep the node id and routing table in across restarts (JSON). */
  stateFile?: string;
  /** How long a query may wait for its answer. */
  queryTimeoutMs?: number;
  /**
   * After this long without an answer a lookup stops waiting on a query (it may still answer)
   * and asks another node in its place, so a dead node costs a lookup this much, not the timeout.
   */
  slowAfterMs?: number;
  /** Datagrams go through this (default: a UDP socket); simulations use a MemoryNetwork. */
  transport?: DhtTransport;
  /** The clock for tokens, peer expiry, rate limits and node states; tests move it. */
  now?: () => number;
}

const MAX_IN_FLIGHT = 256;
/** Queries one address may send a second before the rest are dropped. */
const QUERIES_PER_SECOND = 50;
/** How often the table is checked, refreshed and saved. */
const MAINTAIN_MS = 60_000;
const TOKEN_ROTATE_MS = 5 * 60_000;
const PEER_TTL_MS = 30 * 60_000;
const MAX_TORRENTS = 2000;
const MAX_PEERS_PER_TORRENT = 200;
const ALPHA = 3;
const K = 8;

interface Pending {
  resolve: (body: KrpcResponseBody | undefined) => void;
  from: string;
  timer: NodeJS.Timeout;
}

export interface LookupResult {
  peers: PeerAddress[];
  /** The closest nodes that answered, with the token each gave (for announce_peer). */
  closest: { node: CompactNode; token?: Uint8Array }[];
  stats: LookupStats;
}

export interface LookupStats {
  /** Queries sent, and those unanswered by the end of the lookup. */
  queries: number;
  unanswered: number;
  /**
   * For the first node that answered with peers: how many steps from our table it was (a node
   * of our table is 1 hop, one it named is 2, ...) and how many queries had been sent by then.
   */
  hopsToPeers?: number;
  queriesToPeers?: number;
  /** Milliseconds from the start of the lookup to that answer. */
  msToPeers?: number;
}

/** A node a lookup knows of, with its distance to the target and what became of asking it. */
interface Candidate {
  node: CompactNode;
  distance: bigint;
  hops: number;
  state: 'new' | 'asked' | 'slow' | 'answered' | 'failed';
  token?: Uint8Array;
}

/**
 * A Mainline DHT node (BEP 5) over one UDP socket (or another transport): answers ping, find_node, get_peers and
 * announce_peer; asks them with at most MAX_IN_FLIGHT queries in flight, each answered only from
 * the address it went to; keeps a routing table of the nodes that answer or ask. Tokens are a
 * hash of the asker's IP and a secret that rotates every 5 minutes (the previous one still
 * accepted), so an announce_peer must come from the address that did get_peers within 10
 * minutes. Announced peers expire after 30 minutes.
 *
 * Events: `warning` (text).
 */
export class DhtNode extends EventEmitter {
  readonly id: Uint8Array;
  readonly table: RoutingTable;
  private readonly transport: DhtTransport;
  private boundPort = 0;
  private readonly now: () => number;
  private readonly pending = new Map<string, Pending>();
  private nextT = 0;
  private secret = randomBytes(16);
  private previousSecret = randomBytes(16);
  /** The 5-minute period the secret belongs to (secrets rotate when the clock leaves it). */
  private secretPeriod: number;
  private maintainTimer?: NodeJS.Timeout;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** Queries dropped by the per-address rate limit. */
  dropped = 0;
  private readonly store = new Map<string, Map<string, { peer: PeerAddress; until: number; seed: boolean }>>();

  constructor(private readonly options: DhtOptions = {}) {
    super();
    this.id = options.nodeId ?? savedId(options.stateFile) ?? new Uint8Array(randomBytes(20));
    this.now = options.now ?? Date.now;
    this.table = new RoutingTable(this.id, K, 2, this.now);
    this.transport = options.transport ?? new UdpTransport();
    this.secretPeriod = Math.floor(this.now() / TOKEN_ROTATE_MS);
  }

  get port(): number {
    return this.boundPort;
  }

  async listen(): Promise<number> {
    const saved = await this.loadState();
    this.transport.onMessage((bytes, from) => this.onPacket(bytes, from));
    this.transport.onError((err) => this.emit('warning', `dht socket: ${err.message}`));
    this.boundPort = await this.transport.bind(this.options.port ?? 0, this.options.host ?? '0.0.0.0');
    this.maintainTimer = setInterval(() => void this.maintain(), MAINTAIN_MS);
    this.maintainTimer.unref();
    // Nodes from the last run are pinged: those that answer go back into the table.
    if (saved.length) void Promise.all(saved.map((n) => this.query(n, { method: 'ping', id: this.id })));
    return this.port;
  }

  /**
   * Keeps the table healthy (BEP 5): pings questionable nodes of buckets with newcomers waiting
   * (a dead one turns bad and is replaced), refreshes buckets untouched for 15 minutes by
   * looking up a random id in them, and saves the table.
   */
  private async maintain(): Promise<void> {
    for (const n of this.table.questionable().slice(0, 16)) void this.query(n, { method: 'ping', id: this.id });
    for (const target of this.table.staleBuckets().slice(0, 4)) await this.lookup(target, 'find_node');
    await this.saveState();
  }

  /** Saves the node id and the table's nodes (BEP 5: reuse them on the next start). */
  async saveState(): Promise<void> {
    if (!this.options.stateFile) return;
    const { writeFile, rename } = await import('node:fs/promises');
    const tmp = `${this.options.stateFile}.tmp`;
    await writeFile(tmp, JSON.stringify(this.table.toJSON()));
    await rename(tmp, this.options.stateFile);
  }

  private async loadState(): Promise<PeerAddress[]> {
    if (!this.options.stateFile) return [];
    const { readFile } = await import('node:fs/promises');
    try {
      const state = JSON.parse(await readFile(this.options.stateFile, 'utf8')) as { id?: unknown; nodes?: unknown };
      const nodes = Array.isArray(state.nodes) ? state.nodes : [];
      return nodes
        .filter((n): n is { host: string; port: number } => typeof n?.host === 'string' && Number.isInteger(n?.port) && n.port > 0 && n.port < 65536)
        .slice(0, 500)
        .map((n) => ({ host: n.host, port: n.port }));
    } catch {
      return []; // no state yet, or unreadable: start fresh
    }
  }

  close(): void {
    clearInterval(this.maintainTimer);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve(undefined);
    }
    this.pending.clear();
    this.transport.close();
    this.boundPort = 0;
  }

  /** Fills the routing table from bootstrap nodes by looking up our own id. */
  async bootstrap(nodes: PeerAddress[]): Promise<void> {
    await Promise.all(nodes.map((n) => this.query(n, { method: 'ping', id: this.id })));
    await this.lookup(this.id, 'find_node');
  }

  /** Iterative get_peers for an info-hash: peers found, and the closest nodes with their tokens. */
  getPeers(infoHash: Uint8Array): Promise<LookupResult> {
    return this.lookup(infoHash, 'get_peers');
  }

  /** Looks the info-hash up, then announces us (`port`, or implied) to the k closest nodes. */
  async announce(infoHash: Uint8Array, port: number, seed = false): Promise<LookupResult> {
    const result = await this.getPeers(infoHash);
    await Promise.all(
      result.closest
        .filter((c) => c.token)
        .map((c) => this.query(c.node, { method: 'announce_peer', id: this.id, infoHash, port: port || 1, impliedPort: port === 0, token: c.token!, ...(seed ? { seed: true } : {}) })),
    );
    return result;
  }

  /**
   * Sends one query; resolves with the answer, or undefined on timeout or error. A node given
   * with its id that stays silent counts a failure in the routing table.
   */
  query(to: PeerAddress & { id?: Uint8Array }, query: KrpcQuery): Promise<KrpcResponseBody | undefined> {
    if (!this.boundPort || this.pending.size >= MAX_IN_FLIGHT) return Promise.resolve(undefined);
    const t = Uint8Array.of((this.nextT >> 8) & 0xff, this.nextT & 0xff);
    this.nextT = (this.nextT + 1) & 0xffff;
    const key = toHex(t);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(key);
        if (to.id) this.table.failed(to.id);
        resolve(undefined);
      }, this.options.queryTimeoutMs ?? 5000);
      timer.unref();
      this.pending.set(key, { resolve, from: `${to.host}:${to.port}`, timer });
      this.transport.send(encodeKrpc({ type: 'query', t, query }), { address: to.host, port: to.port });
    });
  }

  /**
   * An iterative lookup toward `target` (BEP 5): ALPHA queries in flight to the closest nodes
   * not yet asked, each answer adding the nodes it names; a query silent for `slowAfterMs` stops
   * counting against ALPHA (another node is asked in its place) and stops holding up the end.
   * Done when the K closest nodes still in the running have all answered.
   */
  private async lookup(target: Uint8Array, method: 'get_peers' | 'find_node', onResponse?: (r: KrpcResponseBody) => void): Promise<LookupResult> {
    const goal = idToBigInt(target);
    const seen = new Map<string, Candidate>();
    // One candidate per endpoint: a liar naming itself (or one address) under many ids close to
    // the target would otherwise take every one of the K closest places.
    const endpoints = new Set<string>();
    const add = (n: CompactNode, hops: number) => {
      const k = toHex(n.id);
      const endpoint = `${n.host}:${n.port}`;
      if (seen.has(k) || endpoints.has(endpoint) || bytesEqual(n.id, this.id)) return;
      endpoints.add(endpoint);
      seen.set(k, { node: n, distance: idToBigInt(n.id) ^ goal, hops, state: 'new' });
    };
    for (const n of this.table.closest(target, K)) add({ id: n.id, host: n.host, port: n.port }, 1);
    const peers = new Map<string, PeerAddress>();
    const stats: LookupStats = { queries: 0, unanswered: 0 };
    const started = performance.now();
    const running = () => [...seen.values()].filter((e) => e.state !== 'failed' && e.state !== 'slow').sort((a, b) => (a.distance < b.distance ? -1 : a.distance > b.distance ? 1 : 0));
    const slowAfter = this.options.slowAfterMs ?? Math.min(1500, this.options.queryTimeoutMs ?? 5000);
    let active = 0;
    let wake: (() => void) | undefined;
    const ask = async (e: Candidate) => {
      e.state = 'asked';
      active++;
      stats.queries++;
      const slow = setTimeout(() => {
        if (e.state !== 'asked') return;
        e.state = 'slow';
        active--;
        wake?.();
      }, slowAfter);
      const q: KrpcQuery = method === 'get_peers' ? { method, id: this.id, infoHash: target, ...(onResponse ? { scrape: true } : {}) } : { method, id: this.id, target };
      const r = await this.query(e.node, q);
      clearTimeout(slow);
      if (e.state === 'asked') active--;
      if (!r) {
        e.state = 'failed';
      } else {
        e.state = 'answered';
        onResponse?.(r);
        if (r.token) e.token = r.token;
        if (r.values?.length && stats.hopsToPeers === undefined) {
          stats.hopsToPeers = e.hops;
          stats.queriesToPeers = stats.queries;
          stats.msToPeers = performance.now() - started;
        }
        for (const p of r.values ?? []) if (peers.size < 1000) peers.set(`${p.host}:${p.port}`, p);
        for (const n of r.nodes ?? []) add(n, e.hops + 1);
      }
      wake?.();
    };
    for (;;) {
      const kClosest = running().slice(0, K);
      if (kClosest.every((e) => e.state === 'answered')) break;
      for (const e of kClosest) if (e.state === 'new' && active < ALPHA) void ask(e);
      // Nothing asked and nothing in flight can change the K closest: the lookup has run dry.
      if (active === 0 && !kClosest.some((e) => e.state === 'asked')) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    wake = undefined;
    // Queries still out when the lookup ends count as unanswered: it went on without them.
    stats.unanswered = [...seen.values()].filter((e) => e.state === 'failed' || e.state === 'slow' || e.state === 'asked').length;
    const closest = running()
      .filter((e) => e.state === 'answered')
      .slice(0, K)
      .map((e) => ({ node: e.node, ...(e.token ? { token: e.token } : {}) }));
    return { peers: [...peers.values()], closest, stats };
  }

  /** At most QUERIES_PER_SECOND queries a second from one address (token bucket). */
  private admit(ip: string): boolean {
    const now = this.now();
    let bucket = this.buckets.get(ip);
    if (!bucket) {
      if (this.buckets.size > 10_000) this.buckets.clear(); // bounded: a fresh start is harmless
      bucket = { tokens: QUERIES_PER_SECOND, at: now };
      this.buckets.set(ip, bucket);
    }
    bucket.tokens = Math.min(QUERIES_PER_SECOND, bucket.tokens + ((now - bucket.at) / 1000) * QUERIES_PER_SECOND);
    bucket.at = now;
    if (bucket.tokens < 1) {
      this.dropped++;
      return false;
    }
    bucket.tokens--;
    return true;
  }

  /** Secrets rotate when the clock enters a new 5-minute period; the previous one stays valid. */
  private secrets(): [Uint8Array, Uint8Array] {
    const period = Math.floor(this.now() / TOKEN_ROTATE_MS);
    if (period !== this.secretPeriod) {
      this.previousSecret = period === this.secretPeriod + 1 ? this.secret : randomBytes(16);
      this.secret = randomBytes(16);
      this.secretPeriod = period;
    }
    return [this.secret, this.previousSecret];
  }

  private token(ip: string, secret: Uint8Array): Uint8Array {
    return new Uint8Array(createHash('sha1').update(secret).update(ip).digest().subarray(0, 8));
  }

  private onPacket(packet: Uint8Array, from: Endpoint): void {
    let m;
    try {
      m = decodeKrpc(packet);
    } catch (err) {
      if (err instanceof KrpcError) {
        // A query we could not read gets the error back; anything else is dropped.
        if (err.transactionId) this.send(from, encodeKrpc({ type: 'error', t: err.transactionId, code: err.krpcCode, message: err.message }));
        return;
      }
      throw err;
    }
    if (m.type === 'query') {
      if (!this.admit(from.address)) return; // a flood from one address: dropped
      return void this.answer(m.t, m.query, from);
    }
    const key = toHex(m.t);
    const pending = this.pending.get(key);
    // Only the address the query went to may answer it.
    if (!pending || pending.from !== `${from.address}:${from.port}`) return;
    this.pending.delete(key);
    clearTimeout(pending.timer);
    if (m.type === 'error') return pending.resolve(undefined);
    this.table.add({ id: m.body.id, host: from.address, port: from.port, failures: 0 }, true);
    pending.resolve(m.body);
  }

  private async answer(t: Uint8Array, q: KrpcQuery, from: Endpoint): Promise<void> {
    // A node that asks is not trusted for asking: a known one is marked seen, a new one gets a
    // ping and enters the table only if it answers (so silent or spoofed askers never poison it).
    if (this.table.find(q.id)) this.table.add({ id: q.id, host: from.address, port: from.port, failures: 0 }, false);
    else if (this.pending.size < MAX_IN_FLIGHT / 2) void this.query({ host: from.address, port: from.port }, { method: 'ping', id: this.id });
    const reply = (body: KrpcResponseBody) => this.send(from, encodeKrpc({ type: 'response', t, body }));
    const nodes = (target: Uint8Array) => this.table.closest(target, K).map((n) => ({ id: n.id, host: n.host, port: n.port }));
    switch (q.method) {
      case 'ping':
        return reply({ id: this.id });
      case 'find_node':
        return reply({ id: this.id, nodes: nodes(q.target) });
      case 'get_peers': {
        const stored = this.entriesFor(q.infoHash);
        const token = this.token(from.address, this.secrets()[0]);
        const body: KrpcResponseBody = stored.length > 0 ? { id: this.id, token, values: stored.filter((e) => !q.noSeed || !e.seed).concat(q.noSeed ? stored.filter((e) => e.seed) : []).slice(0, 50).map((e) => e.peer) } : { id: this.id, token, nodes: nodes(q.infoHash) };
        if (q.scrape && stored.length > 0) {
          // BEP 33: bloom filters of the stored seeds' and peers' IPs (fewer values keep the packet small).
          const [seeds, peers] = await Promise.all([bloomOf(stored.filter((e) => e.seed)), bloomOf(stored.filter((e) => !e.seed))]);
          body.seeds = seeds;
          body.peers = peers;
          if (body.values) body.values = body.values.slice(0, 20);
        }
        return reply(body);
      }
      case 'announce_peer': {
        const good = this.secrets().some((s) => bytesEqual(this.token(from.address, s), q.token));
        if (!good) return this.send(from, encodeKrpc({ type: 'error', t, code: 203, message: 'bad token' }));
        this.storePeer(q.infoHash, { host: from.address, port: q.impliedPort ? from.port : q.port }, q.seed === true);
        return reply({ id: this.id });
      }
    }
  }

  private entriesFor(infoHash: Uint8Array): { peer: PeerAddress; seed: boolean }[] {
    const peers = this.store.get(toHex(infoHash));
    if (!peers) return [];
    const now = this.now();
    for (const [k, v] of peers) if (v.until < now) peers.delete(k);
    return [...peers.values()];
  }

  /**
   * BEP 33 DHT scrape: a get_peers lookup with `scrape`, the bloom filters of the nodes closest
   * to the info-hash ORed together, and the estimated numbers of seeds and peers from them.
   */
  async scrape(infoHash: Uint8Array): Promise<{ seeds: number; peers: number }> {
    const seeds = new ScrapeBloom();
    const peers = new ScrapeBloom();
    await this.lookup(infoHash, 'get_peers', (r) => {
      if (r.seeds) seeds.union(new ScrapeBloom(r.seeds));
      if (r.peers) peers.union(new ScrapeBloom(r.peers));
    });
    return { seeds: Math.round(seeds.estimate()), peers: Math.round(peers.estimate()) };
  }

  private storePeer(infoHash: Uint8Array, peer: PeerAddress, seed: boolean): void {
    const key = toHex(infoHash);
    let peers = this.store.get(key);
    if (!peers) {
      if (this.store.size >= MAX_TORRENTS) return;
      peers = new Map();
      this.store.set(key, peers);
    }
    if (peers.size >= MAX_PEERS_PER_TORRENT && !peers.has(`${peer.host}:${peer.port}`)) return;
    peers.set(`${peer.host}:${peer.port}`, { peer, until: this.now() + PEER_TTL_MS, seed });
  }

  private send(to: Endpoint, bytes: Uint8Array): void {
    if (this.boundPort) this.transport.send(bytes, to);
  }
}
