import { concatBytes, fromHex } from '../../shared/bytes.js';
import { encode } from '../../shared/bencode/index.js';
import { parseIPv4, parseIPv6 } from '../../shared/ip.js';
import { encodeCompactAnnounce, type ScrapeCounts } from '../../shared/tracker/http-response.js';
import type { ListedPeer } from './swarm-rules.js';

/** How the asker wants its peers: the HTTP models of BEP 3 / 23 / 7, or a BEP 15 family. */
export type PeerFormat = { kind: 'http'; compact: boolean; noPeerId: boolean } | { kind: 'udp'; family: 4 | 6 };

/** What an HTTP announce answer needs besides the peers. */
export interface HttpAnswerFields {
  interval: number;
  minInterval: number;
  counts: ScrapeCounts;
  /** BEP 24: the address we saw the request come from. */
  externalIp: string;
  warning?: string;
}

/**
 * The bencoded HTTP announce answer. Compact: IPv4 entries concatenated in `peers` (BEP 23),
 * IPv6 in `peers6` (BEP 7). Otherwise BEP 3's list of dictionaries.
 */
export function httpAnnounceBody(peers: readonly ListedPeer[], fields: HttpAnswerFields, compact: boolean, noPeerId: boolean): Uint8Array {
  const externalIp = parseIPv4(fields.externalIp) ?? parseIPv6(fields.externalIp);
  if (compact && fields.warning === undefined) {
    // The common answer, written directly (the same bytes as below; a test checks the encoder).
    return encodeCompactAnnounce({
      complete: fields.counts.complete,
      incomplete: fields.counts.incomplete,
      interval: fields.interval,
      minInterval: fields.minInterval,
      ...(externalIp ? { externalIp } : {}),
      peers: compactPeers(peers, 4),
      peers6: compactPeers(peers, 6),
    });
  }
  const body: Record<string, unknown> = {
    complete: fields.counts.complete,
    incomplete: fields.counts.incomplete,
    'external ip': externalIp,
    interval: fields.interval,
    'min interval': fields.minInterval,
    'warning message': fields.warning,
  };
  if (compact) {
    body.peers = compactPeers(peers, 4);
    const v6 = compactPeers(peers, 6);
    if (v6.length > 0) body.peers6 = v6;
  } else {
    body.peers = peers.flatMap(({ record }) =>
      record.addresses.map((a) => ({ 'peer id': noPeerId ? undefined : fromHex(record.peerId), ip: a.host, port: a.port })),
    );
  }
  return encode(body as never);
}

/** The compact entries of one family, concatenated (a BEP 15 answer carries one family). */
export function compactPeers(peers: readonly ListedPeer[], family: 4 | 6): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const p of peers) {
    const entry = family === 4 ? p.v4 : p.v6;
    if (entry) parts.push(entry);
  }
  return concatBytes(parts);
}
