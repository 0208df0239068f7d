/**
 * The pure rules of BEP 22 local tracker discovery (no I/O, no timers): which addresses are
 * worth a lookup, the reverse name of an address, which names the SRV search walks, what a valid
 * host name is, the RFC 2782 order of SRV records, and the tracker URL an SRV record names.
 * tracker/local-tracker-discovery.ts does the lookups with these.
 */
import { canonicalIp, formatIPv4, parseIPv4, parseIPv6 } from '../../shared/ip.js';

/** BEP 22: the SRV owner is `_bittorrent-tracker._tcp.<domain>`. */
export const SRV_PREFIX = '_bittorrent-tracker._tcp.';

/** RFC 1035 section 2.3.4: 63 octets a label; 253 characters a name in text (255 on the wire). */
const MAX_LABEL = 63;
const MAX_NAME = 253;

/**
 * Which external addresses start a lookup. `public` (the default): only a globally routable
 * unicast address, since the reverse name of a private, loopback, link-local, shared (CGNAT) or
 * documentation address says nothing about our ISP and would ask the DNS about someone else's
 * network. `any`: every unicast address (tests on 127.0.0.1, a LAN deployment). A function
 * decides by itself.
 */
export type AcceptAddress = 'public' | 'any' | ((ip: string) => boolean);

export function addressAccepted(ip: string, accept: AcceptAddress): boolean {
  if (typeof accept === 'function') return accept(ip);
  const v4 = parseIPv4(ip);
  const v6 = v4 ? undefined : parseIPv6(ip);
  if (!v4 && !v6) return false;
  if (v4) {
    const [a, b, c] = [v4[0]!, v4[1]!, v4[2]!];
    if (a === 0 || a >= 224) return false; // "this network", multicast, reserved, broadcast: never unicast
    if (accept === 'any') return true;
    if (a === 10 || a === 127) return false; // RFC 1918, loopback
    if (a === 172 && b >= 16 && b < 32) return false; // RFC 1918
    if (a === 192 && b === 168) return false; // RFC 1918
    if (a === 169 && b === 254) return false; // link-local
    if (a === 100 && b >= 64 && b < 128) return false; // RFC 6598 shared address space (CGNAT)
    if (a === 192 && b === 0 && (c === 0 || c === 2)) return false; // IETF protocol assignments, TEST-NET-1
    if ((a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113)) return false; // TEST-NET-2/3
    if (a === 198 && (b === 18 || b === 19)) return false; // benchmarking
    return true;
  }
  const w = v6!;
  if (w.subarray(0, 15).every((x) => x === 0)) return false; // :: and ::1
  if (w[0] === 0xff) return false; // multicast
  if (w.subarray(0, 10).every((x) => x === 0) && w[10] === 0xff && w[11] === 0xff) {
    // IPv4-mapped: judged as the IPv4 address it is.
    return addressAccepted(formatIPv4(w.subarray(12)), accept);
  }
  if (accept === 'any') return true;
  if (w[0] === 0xfe && (w[1]! & 0xc0) === 0x80) return false; // link-local fe80::/10
  if ((w[0]! & 0xfe) === 0xfc) return false; // unique local fc00::/7
  if (w[0] === 0x20 && w[1] === 0x01 && w[2] === 0x0d && w[3] === 0xb8) return false; // documentation 2001:db8::/32
  return (w[0]! & 0xe0) === 0x20; // global unicast is 2000::/3
}

/**
 * The PTR owner name of an address (RFC 1035 section 3.5, RFC 3596 section 2.5): reversed octets
 * under in-addr.arpa, reversed nibbles under ip6.arpa. Undefined for text that is no address.
 */
export function reverseName(ip: string): string | undefined {
  const canonical = canonicalIp(ip);
  if (!canonical) return undefined;
  const v4 = parseIPv4(canonical);
  if (v4) return `${[...v4].reverse().join('.')}.in-addr.arpa`;
  const v6 = parseIPv6(canonical)!;
  const nibbles: string[] = [];
  for (const byte of v6) nibbles.push((byte >> 4).toString(16), (byte & 15).toString(16));
  return `${nibbles.reverse().join('.')}.ip6.arpa`;
}

/** Lower case without the root's trailing dot: how names are compared (RFC 4343). */
export function normaliseName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * A host name as RFC 1123 section 2.1 allows it: labels of letters, digits and inner hyphens, 1-63
 * characters, 253 in all, at least two labels. DNS answers carry any bytes in a label; this keeps
 * what we query or dial to names that mean a host (an underscore label is a service name, never a
 * host).
 */
export function isHostName(name: string): boolean {
  const n = normaliseName(name);
  if (n.length === 0 || n.length > MAX_NAME) return false;
  const labels = n.split('.');
  if (labels.length < 2) return false;
  return labels.every((l) => l.length > 0 && l.length <= MAX_LABEL && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(l));
}

/** True for a name inside the reverse trees: a PTR pointing there leads back into reverse lookups. */
export function isReverseName(name: string): boolean {
  const n = normaliseName(name);
  return n === 'in-addr.arpa' || n === 'ip6.arpa' || n.endsWith('.in-addr.arpa') || n.endsWith('.ip6.arpa');
}

/**
 * BEP 22 "Iterative Queries": the domains whose SRV records are asked for, most specific first.
 * Start with the whole name from the PTR record, then drop the leftmost label each time; stop
 * before the root and before a top-level domain that is not a country code (two letters: a
 * country may run caches for its public infrastructure, `com` will not). At most `maxQueries`.
 */
export function searchDomains(name: string, maxQueries: number): string[] {
  const labels = normaliseName(name).split('.');
  const out: string[] = [];
  for (let i = 0; i < labels.length && out.length < maxQueries; i++) {
    const rest = labels.slice(i);
    if (rest.length === 1 && !/^[a-z]{2}$/.test(rest[0]!)) break;
    out.push(rest.join('.'));
  }
  return out;
}

export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  name: string;
}

/**
 * RFC 2782 target selection, as a full order: lowest priority first; within one priority,
 * repeatedly pick by weight: the remaining records listed with weight-0 ones first, a random
 * number 0..sum of weights, the first record whose running sum reaches it. Weight 0 records
 * thus come last unless the others are gone (a small chance when the sum is 0 for all).
 */
export function orderSrv<T extends SrvRecord>(records: readonly T[], random: () => number = Math.random): T[] {
  const byPriority = new Map<number, T[]>();
  for (const r of records) byPriority.set(r.priority, [...(byPriority.get(r.priority) ?? []), r]);
  const out: T[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    const left = byPriority.get(priority)!;
    while (left.length > 0) {
      left.sort((a, b) => (a.weight === 0 ? 0 : 1) - (b.weight === 0 ? 0 : 1));
      const sum = left.reduce((n, r) => n + r.weight, 0);
      const pick = Math.min(Math.floor(random() * (sum + 1)), sum);
      let running = 0;
      let index = left.length - 1;
      for (let i = 0; i < left.length; i++) {
        running += left[i]!.weight;
        if (running >= pick) {
          index = i;
          break;
        }
      }
      out.push(left.splice(index, 1)[0]!);
    }
  }
  return out;
}

/**
 * The announce URL of a local tracker at `host` (an address) and `port`. BEP 22 says only that the
 * local tracker speaks the standard BEP 3 protocol, and the record is `_tcp`: that is HTTP. The
 * path is not given; `/announce` is the one every tracker serves (and BEP 48 derives scrape from).
 */
export function localTrackerUrl(host: string, port: number): string {
  return `http://${parseIPv6(host) ? `[${host}]` : host}:${port}/announce`;
}
