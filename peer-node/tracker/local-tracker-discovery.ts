/**
 * BEP 22 local tracker discovery for a whole client: learns our external address (a tracker's
 * BEP 24 `external ip`, or BEP 10 `yourip` confirmed by several peers), looks up its PTR name,
 * walks the name's domains for `_bittorrent-tracker._tcp` SRV records, and turns the records
 * into ordered announce URLs. Torrents listen for `trackers` (tracker/local-tracker-announcer.ts).
 *
 * Bounded everywhere: each query has a timeout, the walk at most `maxLabels` SRV queries, at most
 * `maxSrv` records used, at most MAX_CNAME_HOPS CNAME questions to tell a loop after an answer
 * without data, results cached per address between a floor and a ceiling. Lookups run
 * only while some torrent wants a local tracker (`want()`), one at a time. Whatever is refused
 * or ignored is counted by reason in `refused`; nothing here throws at the caller.
 */
import { EventEmitter } from 'node:events';
import { Resolver } from 'node:dns/promises';
import { canonicalIp, formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../../shared/ip.js';
import {
  type AcceptAddress,
  addressAccepted,
  isHostName,
  isReverseName,
  localTrackerUrl,
  normaliseName,
  orderSrv,
  reverseName,
  searchDomains,
  SRV_PREFIX,
  type SrvRecord,
} from './local-tracker-rules.js';

/** The DNS questions discovery asks; node's Resolver by default, a fake in unit tests. */
export interface DnsLookups {
  resolvePtr(name: string): Promise<string[]>;
  resolveSrv(name: string): Promise<SrvRecord[]>;
  resolve4(name: string, options: { ttl: true }): Promise<{ address: string; ttl: number }[]>;
  resolve6(name: string, options: { ttl: true }): Promise<{ address: string; ttl: number }[]>;
  /** Follows a name's CNAME one hop, to tell a loop from a plain "no data" (without it: no data). */
  resolveCname?(name: string): Promise<string[]>;
  cancel?(): void;
}

export interface LocalTrackerDiscoveryOptions {
  /** Default true. BEP 22 recommends a user option to turn discovery off. */
  enabled?: boolean;
  /** DNS servers (`host` or `host:port`); default the system's. */
  resolver?: string[];
  /** Which external addresses are looked up (default `public`, see local-tracker-rules.ts). */
  acceptAddress?: AcceptAddress;
  /** Distinct peers (by their address) that must report the same `yourip` before it is used. Default 2. */
  yourIpVotes?: number;
  /** One DNS query's timeout (default 3 s). */
  timeoutMs?: number;
  /** SRV queries of the label walk (default 6). */
  maxLabels?: number;
  /** SRV records used, in RFC 2782 order (default 4); the rest are ignored and counted. */
  maxSrv?: number;
  /** How long a lookup's result stands (default 1 h), kept within [cacheFloorMs, cacheCeilingMs]. */
  cacheMs?: number;
  cacheFloorMs?: number;
  cacheCeilingMs?: number;
  /** Replaces the DNS (tests). */
  dns?: DnsLookups;
  random?: () => number;
  now?: () => number;
}

/** Why discovery ignored an address or a DNS answer, counted. */
export type DiscoveryRefusal =
  /** An external address that is no address, or not acceptable (a private one by default). */
  | 'address'
  /** The resolver could not decode an answer (garbage, truncated: EBADRESP, EFORMERR). */
  | 'malformed'
  /** A query not answered in time (also an answer with the wrong id, which resolvers drop). */
  | 'timeout'
  /** Any other resolver failure (SERVFAIL, REFUSED, a truncated answer and no TCP server). */
  | 'dnsError'
  /** A PTR name or SRV target that is not a host name. */
  | 'badName'
  /** An SRV record with port 0. */
  | 'badPort'
  /**
   * A PTR name inside in-addr.arpa/ip6.arpa, an SRV target that is an SRV owner name, or a name
   * whose CNAME chain comes back to a name already in it (or runs past MAX_CNAME_HOPS).
   */
  | 'loop'
  /** RFC 2782: the target `.` says the service is decidedly not available there. */
  | 'unavailable'
  /** SRV records past `maxSrv`, or PTR names after the first usable one. */
  | 'excess'
  /** A query with no records (NXDOMAIN, no data, a CNAME chain ending nowhere): the walk goes on. */
  | 'notFound';

export interface LocalTrackerDiscoveryStats {
  enabled: boolean;
  /** The external address lookups are for. */
  address?: string;
  /** Its PTR name, once known. */
  name?: string;
  /** The SRV owner the trackers came from. */
  srv?: string;
  /** Announce URLs in RFC 2782 order. */
  trackers: string[];
  lookups: number;
  queries: number;
  refused: Record<DiscoveryRefusal, number>;
}

interface LookupResult {
  name?: string;
  srv?: string;
  trackers: string[];
  /** Seconds of the shortest A/AAAA TTL seen, when any (PTR and SRV TTLs are not exposed by node:dns). */
  ttl?: number;
}

/** Addresses whose results are kept, and addresses whose `yourip` votes are kept. */
const MAX_CACHED = 16;
const MAX_VOTED = 16;
/**
 * CNAME questions asked after an answer without data, to tell a loop (RFC 1034 section 3.6.2: a
 * chain must end; resolvers give up on long ones, BIND after 16). A longer chain counts as a loop.
 */
const MAX_CNAME_HOPS = 8;
/** An address refused is counted once, not at every announce that repeats it. */
const MAX_REFUSED_REMEMBERED = 64;

const DNS_ERROR_REASON: Record<string, DiscoveryRefusal> = {
  EBADRESP: 'malformed',
  EFORMERR: 'malformed',
  EBADNAME: 'malformed',
  ETIMEOUT: 'timeout',
};

class LookupTimeout extends Error {
  code = 'ETIMEOUT';
}

/**
 * Events: `trackers` (urls: string[]) whenever the discovered announce URLs change (an empty list
 * when none remain), `lookup` (address, urls) after each lookup, `warning` (text).
 */
export class LocalTrackerDiscovery extends EventEmitter {
  readonly enabled: boolean;
  readonly refused: Record<DiscoveryRefusal, number> = { address: 0, malformed: 0, timeout: 0, dnsError: 0, badName: 0, badPort: 0, loop: 0, unavailable: 0, excess: 0, notFound: 0 };
  private readonly dns: DnsLookups;
  private readonly accept: AcceptAddress;
  private readonly votesNeeded: number;
  private readonly timeoutMs: number;
  private readonly maxLabels: number;
  private readonly maxSrv: number;
  private readonly cacheMs: number;
  private readonly floorMs: number;
  private readonly ceilingMs: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private address?: string;
  private current: LookupResult = { trackers: [] };
  private readonly cache = new Map<string, { result: LookupResult; expires: number }>();
  private readonly votes = new Map<string, Set<string>>();
  private readonly refusedAddresses = new Set<string>();
  private wanted = 0;
  private running?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private lookups = 0;
  private queries = 0;

  constructor(options: LocalTrackerDiscoveryOptions = {}) {
    super();
    this.setMaxListeners(0); // every torrent of the client listens for `trackers`
    this.enabled = options.enabled !== false;
    this.accept = options.acceptAddress ?? 'public';
    this.votesNeeded = Math.max(1, options.yourIpVotes ?? 2);
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.maxLabels = options.maxLabels ?? 6;
    this.maxSrv = options.maxSrv ?? 4;
    this.floorMs = options.cacheFloorMs ?? 60_000;
    this.ceilingMs = Math.max(this.floorMs, options.cacheCeilingMs ?? 24 * 3600_000);
    this.cacheMs = clamp(options.cacheMs ?? 3600_000, this.floorMs, this.ceilingMs);
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    if (options.dns) this.dns = options.dns;
    else {
      // One try: a lost datagram costs one timeout, and the label walk moves on.
      const resolver = new Resolver({ timeout: this.timeoutMs, tries: 1 });
      if (options.resolver?.length) resolver.setServers(options.resolver);
      this.dns = resolver;
    }
  }

  /** The announce URLs found for the current address, in RFC 2782 order. */
  get trackers(): string[] {
    return [...this.current.trackers];
  }

  snapshot(): LocalTrackerDiscoveryStats {
    return {
      enabled: this.enabled,
      ...(this.address ? { address: this.address } : {}),
      ...(this.current.name ? { name: this.current.name } : {}),
      ...(this.current.srv ? { srv: this.current.srv } : {}),
      trackers: this.trackers,
      lookups: this.lookups,
      queries: this.queries,
      refused: { ...this.refused },
    };
  }

  /**
   * Our address as someone else sees it: `tracker` (BEP 24, taken at once) or `peer` (BEP 10
   * `yourip`, taken once `yourIpVotes` distinct peer addresses said the same: one peer alone could
   * steer our lookups, and so our announces, to a tracker of its choosing). A new address looks
   * its local tracker up again.
   */
  observe(ip: string | Uint8Array, source: 'tracker' | 'peer', voter?: string): void {
    if (!this.enabled || this.closed) return;
    const text = typeof ip === 'string' ? canonicalIp(ip) : ip.length === 4 ? formatIPv4(ip) : ip.length === 16 ? canonicalIp(formatIPv6(ip)) : undefined;
    if (!text || !addressAccepted(text, this.accept)) {
      const key = text ?? String(ip);
      if (!this.refusedAddresses.has(key)) {
        if (this.refusedAddresses.size >= MAX_REFUSED_REMEMBERED) this.refusedAddresses.clear();
        this.refusedAddresses.add(key);
        this.refused.address++;
      }
      return;
    }
    if (text === this.address) return;
    if (source === 'peer') {
      let voters = this.votes.get(text);
      if (!voters) {
        if (this.votes.size >= MAX_VOTED) this.votes.delete(this.votes.keys().next().value!);
        voters = new Set();
        this.votes.set(text, voters);
      }
      voters.add(voter ?? '');
      if (voters.size < this.votesNeeded) return;
    }
    this.address = text;
    this.refresh();
  }

  /** A torrent wants a local tracker; lookups run only while one does. Returns the release. */
  want(): () => void {
    this.wanted++;
    this.refresh();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.wanted--;
    };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.dns.cancel?.();
  }

  /** Looks up the current address unless its result is cached; one lookup at a time. */
  private refresh(): void {
    if (!this.enabled || this.closed || this.wanted === 0 || !this.address) return;
    if (this.running) {
      this.again = true;
      return;
    }
    const address = this.address;
    const cached = this.cache.get(address);
    if (cached && cached.expires > this.now()) {
      this.apply(cached.result, cached.expires);
      return;
    }
    this.running = this.lookup(address)
      .then((result) => {
        if (this.closed) return;
        const ttlMs = result.ttl !== undefined ? result.ttl * 1000 : this.cacheMs;
        const expires = this.now() + clamp(Math.min(ttlMs, this.cacheMs), this.floorMs, this.ceilingMs);
        if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(address, { result, expires });
        // The address may have changed meanwhile: that one is looked up next.
        if (this.address === address) this.apply(result, expires);
        this.emit('lookup', address, [...result.trackers]);
      })
      .catch((err: unknown) => {
        this.emit('warning', `local tracker discovery: ${(err as Error).message}`);
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.refresh();
        }
      });
  }

  private apply(result: LookupResult, expires: number): void {
    const changed = result.trackers.join(' ') !== this.current.trackers.join(' ');
    this.current = result;
    // When the result runs out, it is looked up again (the records may have changed).
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.cache.delete(this.address ?? '');
      this.refresh();
    }, Math.max(expires - this.now(), this.floorMs));
    this.timer.unref();
    if (changed) this.emit('trackers', this.trackers);
  }

  /**
   * PTR, then the SRV walk, then each target's address: at most 1 + maxLabels + 2 * maxSrv
   * queries, each answer without data followed by at most MAX_CNAME_HOPS CNAME questions.
   */
  private async lookup(address: string): Promise<LookupResult> {
    this.lookups++;
    const ptr = reverseName(address)!;
    // By name, not dns.reverse(): reverse() answers from /etc/hosts before asking any server.
    const names = await this.query(ptr, () => this.dns.resolvePtr(ptr));
    let name: string | undefined;
    for (const candidate of names ?? []) {
      if (name) this.refused.excess++;
      else if (isReverseName(candidate)) this.refused.loop++;
      else if (!isHostName(candidate)) this.refused.badName++;
      else name = normaliseName(candidate);
    }
    if (!name) return { trackers: [] };
    for (const domain of searchDomains(name, this.maxLabels)) {
      const owner = SRV_PREFIX + domain;
      const records = await this.query(owner, () => this.dns.resolveSrv(owner));
      // BEP 22: the walk ends at the first domain with records, usable or not.
      if (records && records.length > 0) return { name, srv: owner, ...(await this.targets(owner, records)) };
    }
    return { name, trackers: [] };
  }

  private async targets(owner: string, records: SrvRecord[]): Promise<{ trackers: string[]; ttl?: number }> {
    // RFC 2782: a single record with target `.` means no such service at this domain.
    if (records.length === 1 && (records[0]!.name === '' || records[0]!.name === '.')) {
      this.refused.unavailable++;
      return { trackers: [] };
    }
    const ordered = orderSrv(records, this.random);
    if (ordered.length > this.maxSrv) this.refused.excess += ordered.length - this.maxSrv;
    const trackers: string[] = [];
    let ttl: number | undefined;
    for (const r of ordered.slice(0, this.maxSrv)) {
      const target = normaliseName(r.name);
      if (target === '') this.refused.unavailable++;
      else if (!Number.isInteger(r.port) || r.port < 1 || r.port > 65535) this.refused.badPort++;
      else if (target === normaliseName(owner) || target.split('.').some((l) => l.startsWith('_'))) this.refused.loop++;
      else if (parseIPv4(target)) trackers.push(localTrackerUrl(target, r.port)); // a literal some zones carry
      else if (!isHostName(target)) this.refused.badName++;
      else {
        // The target is resolved by the same resolver: the system's may not know the ISP's names.
        const found = (await this.query(target, () => this.dns.resolve4(target, { ttl: true }))) ?? (await this.query(target, () => this.dns.resolve6(target, { ttl: true })));
        const first = found?.find((a) => parseIPv4(a.address) || parseIPv6(a.address));
        if (!first) continue;
        ttl = ttl === undefined ? first.ttl : Math.min(ttl, first.ttl);
        const url = localTrackerUrl(first.address, r.port);
        if (!trackers.includes(url)) trackers.push(url);
      }
    }
    return { trackers, ...(ttl !== undefined ? { ttl } : {}) };
  }

  /**
   * One DNS question about `name`. Not found and no data are an empty answer (undefined); other
   * failures are counted. An answer without data whose name turns out to be in a CNAME loop
   * counts as `loop`: the resolver only says it found no record at the end.
   */
  /** The name holds no such record (an empty answer, ENODATA): maybe a CNAME that leads back to itself. */
  private async noRecords(name: string): Promise<void> {
    this.refused[(await this.inCnameLoop(name)) ? 'loop' : 'notFound']++;
  }

  private async query<T>(name: string, ask: () => Promise<T[]>): Promise<T[] | undefined> {
    try {
      const answer = await this.ask(ask);
      if (answer.length === 0) await this.noRecords(name);
      return answer.length > 0 ? answer : undefined;
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (code === 'ECANCELLED' || this.closed) return undefined;
      if (code === 'ENOTFOUND') {
        this.refused.notFound++;
        return undefined;
      }
      if (code === 'ENODATA') {
        await this.noRecords(name);
        return undefined;
      }
      this.refused[DNS_ERROR_REASON[code] ?? 'dnsError']++;
      return undefined;
    }
  }

  /** A question, bounded by our own timer too (the resolver's timeout applies per try). */
  private async ask<T>(question: () => Promise<T>): Promise<T> {
    this.queries++;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LookupTimeout('no answer')), this.timeoutMs + 1000);
      timer.unref();
    });
    try {
      return await Promise.race([question(), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Whether `name`'s CNAME chain comes back to a name already in it, followed one hop per
   * question (a stub resolver hands back no chain), at most MAX_CNAME_HOPS; a longer chain counts
   * as a loop. Any failure on the way means no loop is known.
   */
  private async inCnameLoop(name: string): Promise<boolean> {
    if (!this.dns.resolveCname || this.closed) return false;
    const seen = new Set([normaliseName(name)]);
    let current = name;
    for (let hop = 0; hop < MAX_CNAME_HOPS; hop++) {
      let targets: string[];
      try {
        targets = await this.ask(() => this.dns.resolveCname!(current));
      } catch {
        return false;
      }
      const next = targets[0] === undefined ? '' : normaliseName(targets[0]);
      if (next === '') return false;
      if (seen.has(next)) return true;
      seen.add(next);
      current = next;
    }
    return true;
  }
}

function clamp(n: number, low: number, high: number): number {
  return Math.min(Math.max(n, low), high);
}
