/**
 * What a publisher sees of a swarm's peers on the dashboard, without listing addresses: how many
 * are reachable over each IP family, which client programs they run (from the peer id), how many
 * passkey users are in it (private torrents), how many are partial seeds. Pure.
 */
import type { PeerRecord } from '../swarm/swarm-rules.js';

/** Most client names listed per swarm; the rest are counted under `other`. */
const MAX_CLIENT_NAMES = 20;

export interface PeerSummary {
  /** Peers with an address of each family (a dual-stack peer counts in both, BEP 7). */
  ipv4: number;
  ipv6: number;
  /** Peers per client program: the Azureus-style peer id prefix (`-qB4650-`), else `other`. */
  clients: Record<string, number>;
  /** Distinct passkey users among the peers (BEP 27 private torrents; 0 for public ones). */
  users: number;
  /** BEP 21 partial seeds (event=paused). */
  partialSeeds: number;
}

/**
 * The client part of a peer id (hex): BEP 20's Azureus style `-XXVVVV-`, the common one. Shadow's
 * style and random ids tell nothing reliable and count as `other`.
 */
export function clientOf(peerIdHex: string): string {
  let prefix = '';
  for (let i = 0; i < 16 && i + 2 <= peerIdHex.length; i += 2) prefix += String.fromCharCode(parseInt(peerIdHex.slice(i, i + 2), 16));
  return /^-[A-Za-z~][A-Za-z0-9~]\w{4}-$/.test(prefix) ? prefix : 'other';
}

export function summarizePeers(peers: Iterable<PeerRecord>): PeerSummary {
  let ipv4 = 0;
  let ipv6 = 0;
  let partialSeeds = 0;
  const users = new Set<string>();
  const clients = new Map<string, number>();
  for (const peer of peers) {
    if (peer.addresses.some((a) => !a.host.includes(':'))) ipv4++;
    if (peer.addresses.some((a) => a.host.includes(':'))) ipv6++;
    if (peer.paused) partialSeeds++;
    if (peer.user !== undefined) users.add(peer.user);
    let client = clientOf(peer.peerId);
    if (!clients.has(client) && clients.size >= MAX_CLIENT_NAMES) client = 'other';
    clients.set(client, (clients.get(client) ?? 0) + 1);
  }
  // Busiest client first, so a long tail reads naturally.
  const sorted = [...clients].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return { ipv4, ipv6, clients: Object.fromEntries(sorted), users: users.size, partialSeeds };
}
