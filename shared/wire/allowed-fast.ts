import { sha1 } from '../sha1.js';

/**
 * BEP 6 canonical allowed-fast set: the pieces a peer at `ipv4` may request while choked.
 * x = (ip & 0xffffff00) ++ info-hash; repeat x = SHA-1(x) and take its five big-endian 32-bit
 * words, each modulo the piece count, skipping duplicates, until k pieces are chosen. The /24
 * mask keeps one subnet from collecting many different sets. k is capped by the piece count
 * (a set larger than the torrent would never finish).
 */
export async function allowedFastSet(ipv4: Uint8Array, infoHash: Uint8Array, pieceCount: number, k: number): Promise<number[]> {
  if (ipv4.length !== 4 || infoHash.length !== 20 || pieceCount <= 0) return [];
  const want = Math.min(k, pieceCount);
  let x: Uint8Array = new Uint8Array(24);
  x.set(ipv4.subarray(0, 3), 0); // last byte masked to 0
  x.set(infoHash, 4);
  const chosen: number[] = [];
  const seen = new Set<number>();
  while (chosen.length < want) {
    x = await sha1(x);
    for (let i = 0; i < 5 && chosen.length < want; i++) {
      const y = ((x[4 * i]! << 24) | (x[4 * i + 1]! << 16) | (x[4 * i + 2]! << 8) | x[4 * i + 3]!) >>> 0;
      const index = y % pieceCount;
      if (!seen.has(index)) {
        seen.add(index);
        chosen.push(index);
      }
    }
  }
  return chosen;
}
