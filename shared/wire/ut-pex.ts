import { decode, encode, isBytes, isDict } from '../bencode/index.js';
import { decodeCompactPeers, encodeCompactPeers, type PeerAddress } from '../compact/compact-peers.js';
import { BencodeError, CompactError, WireError } from '../errors.js';

/**
 * BEP 11 ut_pex messages: peers added since the last message (compact, with one flags byte each
 * in `added.f`) and peers dropped, for IPv4 (`added`, `dropped`) and IPv6 (`added6`, `dropped6`).
 * We send at most MAX_PEX_PEERS added and dropped peers per family (BEP 11 says 50) and take
 * the first MAX_PEX_PEERS of longer lists (libtorrent sends up to 100).
 */
export const MAX_PEX_PEERS = 50;
/** Bound on a whole message: 4 lists of 50 IPv6 entries plus flags fit easily. */
export const MAX_PEX_MESSAGE = 8 * 1024;

/** BEP 11 flags. */
export const PEX_FLAG = { encryption: 0x01, seed: 0x02, utp: 0x04, holepunch: 0x08, reachable: 0x10 } as const;

export interface PexPeer extends PeerAddress {
  flags: number;
}

export interface PexMessage {
  added: PexPeer[];
  dropped: PeerAddress[];
}

const family = (p: PeerAddress): 4 | 6 => (p.host.includes(':') ? 6 : 4);

export function encodePexMessage(m: PexMessage): Uint8Array {
  const dict: Record<string, Uint8Array> = {};
  for (const f of [4, 6] as const) {
    const suffix = f === 4 ? '' : '6';
    const added = m.added.filter((p) => family(p) === f);
    const dropped = m.dropped.filter((p) => family(p) === f);
    if (added.length) {
      dict[`added${suffix}`] = encodeCompactPeers(added, f);
      dict[`added${suffix}.f`] = Uint8Array.from(added.map((p) => p.flags & 0xff));
    }
    if (dropped.length) dict[`dropped${suffix}`] = encodeCompactPeers(dropped, f);
  }
  return encode(dict);
}

export function decodePexMessage(payload: Uint8Array): PexMessage {
  if (payload.length > MAX_PEX_MESSAGE) throw new WireError('ut-pex.too-long', `ut_pex message of ${payload.length} bytes (limit ${MAX_PEX_MESSAGE})`);
  let value;
  try {
    value = decode(payload, { maxDepth: 4, maxValues: 64, maxBytes: MAX_PEX_MESSAGE });
  } catch (err) {
    if (err instanceof BencodeError) throw new WireError('ut-pex.bencode', `ut_pex message is not bencode: ${err.message}`);
    throw err;
  }
  if (!isDict(value)) throw new WireError('ut-pex.not-dict', 'ut_pex message is not a dictionary');
  const out: PexMessage = { added: [], dropped: [] };
  try {
    for (const f of [4, 6] as const) {
      const suffix = f === 4 ? '' : '6';
      const added = value[`added${suffix}`];
      const flags = value[`added${suffix}.f`];
      const dropped = value[`dropped${suffix}`];
      if (isBytes(added)) {
        // libtorrent sends up to 100 added peers; we take the first MAX_PEX_PEERS of any list.
        const peers = decodeCompactPeers(added, f).slice(0, MAX_PEX_PEERS);
        // Flags are advisory: a missing or short flags string means none.
        peers.forEach((p, i) => out.added.push({ ...p, flags: isBytes(flags) && i < flags.length ? flags[i]! : 0 }));
      }
      if (isBytes(dropped)) {
        out.dropped.push(...decodeCompactPeers(dropped, f).slice(0, MAX_PEX_PEERS));
      }
    }
  } catch (err) {
    if (err instanceof CompactError) throw new WireError('ut-pex.compact', `ut_pex peers: ${err.message}`);
    throw err;
  }
  return out;
}
