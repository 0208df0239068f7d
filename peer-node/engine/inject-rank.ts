/**
 * Rendezvous hashing for "who fetches a missing piece from the edge first": every peer scores
 * a piece against each peer id the same way, so viewers of one crowd agree, without a word to
 * each other, on an order in which they try the edge for it (Torrent.injectRank).
 */

/** A piece's score for a peer id: an FNV-1a-style hash of the piece index and all 20 bytes. */
export function injectScore(piece: number, id: Uint8Array): number {
  let h = Math.imul(piece + 1, 2654435761);
  for (const b of id) h = Math.imul(h ^ b, 16777619);
  return h >>> 0;
}

/** How many of `rivals` come before `ours` for this piece (0: we are first). */
export function rankAmong(piece: number, ours: Uint8Array, rivals: Iterable<Uint8Array>): number {
  const score = injectScore(piece, ours);
  let rank = 0;
  for (const id of rivals) if (injectScore(piece, id) < score) rank++;
  return rank;
}
