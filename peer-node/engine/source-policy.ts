/**
 * Which piece, if any, the edge (a web seed) should fetch next. Peers come first; the edge is
 * used only when
 *
 * 1. `deadline`: a streaming piece is due sooner than the safety margin and no peer has
 *    delivered it; a piece peers are already sending gets half the margin first (they
 *    usually finish it, and fetching it twice wastes the edge's bytes);
 * 2. `unavailable`: no connected peer has a piece we want (a layered stream: none would send
 *    it to us now), after a short grace at start, so that peers found by the tracker get the
 *    first chance; one such piece at a time while peers keep us busy, more when they do not
 *    (we are choked, or they have nothing for us); with inject ranks, a piece nobody holds that
 *    we are first for goes at once, beside other fetches, keeping a slot free for deadlines;
 * 3. `rate`: the peers deliver less than the download needs (`neededRate`), or, streaming, less
 *    than the playback rate while less than `rateBufferMs` of playback is buffered; the edge
 *    makes up the difference with pieces no peer has started.
 *
 * Pieces go to the edge in random order (drawn uniformly), except deadlines (in playback order):
 * viewers of one crowd then ask the edge for different pieces and trade them, so the edge sends
 * each piece about once for the whole crowd. A piece a peer told us it is fetching from the edge
 * (`coming`, pp_fetching) waits for that peer's HAVE instead of a second fetch.
 *
 * Nothing here remembers a decision: every free web-seed slot asks again, so the edge drops out
 * as soon as the swarm recovers (pieces appear, the peers' rate comes back).
 */
export interface SourcePolicyOptions {
  /** After start, peers get this long before pieces no peer has go to the edge (default 2 s). */
  graceMs?: number;
  /** A streaming piece due sooner than this goes to the edge (default 1.5 s). */
  deadlineMarginMs?: number;
  /**
   * A player buffers this long before it starts playing (default 2 s): the first pieces are due
   * then, not at once, which gives peers the chance to deliver them.
   */
  startupMs?: number;
  /**
   * Streaming: the rate rule fires only while less than this much playback is buffered (default
   * 1 s, under the deadline margin). At two margins (3 s), in a 20-viewer crowd, newcomers still
   * choked by the peers holding the pieces they wanted fetched those pieces again from the edge:
   * 1,099 of 1,289 duplicate edge fetches in one traced run. Streaming egress, mean over runs:
   * 1.90x at 3 s, 1.60x at 1.5 s, 1.49x at 1 s (docs/BENCHMARKS.md). A layered stream
   * (engine/torrent.ts) keeps 3 s unless this is set.
   */
  rateBufferMs?: number;
  /** Bytes a second the download needs from peers before the edge helps (default: none). */
  neededRate?: number;
  /** Requests in flight per web seed (default 4). */
  requestsPerSeed?: number;
}

export type EdgeReason = 'deadline' | 'unavailable' | 'rate';

/** What the policy sees of a torrent. */
export interface EdgeView {
  now: number;
  startedAt: number;
  pieceCount: number;
  /** Wanted and not yet held. */
  wants(i: number): boolean;
  /** How many connected peers have the piece. */
  rarity(i: number): number;
  /** Asked of a peer, or partly received. */
  started(i: number): boolean;
  /** A web seed is fetching it already. */
  fetching(i: number): boolean;
  /**
   * A peer told us it is fetching the piece from the edge (pp_fetching): its HAVE is due soon.
   * Not fetched as missing or for the rate meanwhile; a deadline waits as for a piece a peer is
   * sending (half the margin first).
   */
  coming?(i: number): boolean;
  /** An exclusive schedule (a layered stream): the edge, too, fetches nothing but these. */
  only?: readonly number[];
  /**
   * Whether a piece no peer has may go to the edge yet (default: always). A crowd of viewers
   * whose windows overlap would otherwise all fetch the same missing piece at once; each waits
   * according to its inject rank, and the first one's `have` spares the others the trip.
   */
  unavailableReady?(i: number): boolean;
  /**
   * Where we stand among the crowd's viewers for fetching piece i from the edge (0: first, for
   * a piece nobody holds). With it, a piece we are first for is fetched before any other, even
   * beside other edge fetches (all but one slot: a deadline may come): nobody else will fetch
   * it soon, and the crowd waits for it.
   */
  injectRank?(i: number): number;
  /** Streaming: the pieces ahead of the playback position in order, and when each is due (ms). */
  stream?: { order: number[]; due(i: number): number; rate: number; bufferedMs: number };
  /** Bytes a second arriving from peers. */
  peerRate: number;
  /** No block is being fetched from any peer: the swarm gives us nothing to do. */
  starved: boolean;
  /** Pieces the web seeds are fetching now. */
  edgeInFlight: number;
  random(): number;
}

export const SOURCE_POLICY_DEFAULTS: Required<Omit<SourcePolicyOptions, 'neededRate'>> = {
  graceMs: 2000,
  deadlineMarginMs: 1500,
  rateBufferMs: 1000,
  startupMs: 2000,
  requestsPerSeed: 4,
};

export function pickEdgePiece(view: EdgeView, options: SourcePolicyOptions = {}): { index: number; reason: EdgeReason } | undefined {
  const margin = options.deadlineMarginMs ?? SOURCE_POLICY_DEFAULTS.deadlineMarginMs;
  const free = (i: number) => view.wants(i) && !view.fetching(i);
  if (view.stream) {
    for (const i of view.stream.order) {
      const left = view.stream.due(i) - view.now;
      if (free(i) && left < (view.started(i) || view.coming?.(i) ? margin / 2 : margin)) return { index: i, reason: 'deadline' };
    }
  }
  if (view.now - view.startedAt < (options.graceMs ?? SOURCE_POLICY_DEFAULTS.graceMs)) return undefined;
  const pool = view.only;
  const size = pool ? pool.length : view.pieceCount;
  /**
   * The candidate of lowest `key` (all 0 by default), ties drawn uniformly (reservoir sampling
   * over every candidate): viewers of one crowd then ask the edge for different pieces and trade
   * them. Scanning from a random point and taking the first match, as we did, drew the first
   * piece after the longest run of held pieces far more often than any other: a streaming crowd
   * holds the start of the file, so its viewers fetched the same "random" piece within
   * milliseconds (measured: 176 duplicate edge fetches of 1,024 pieces, most begun within 5 ms of
   * each other). Stopping early at the first few ties would bring that bias back.
   */
  const draw = (ok: (i: number) => boolean, key?: (i: number) => number): { index: number; key: number } | undefined => {
    let best: { index: number; key: number } | undefined;
    let ties = 0;
    for (let k = 0; k < size; k++) {
      const i = pool ? pool[k]! : k;
      if (!ok(i)) continue;
      const rank = key ? key(i) : 0;
      if (best === undefined || rank < best.key) {
        best = { index: i, key: rank };
        ties = 1;
      } else if (rank === best.key && view.random() * ++ties < 1) best.index = i;
    }
    return best;
  };
  // Started or not: a piece begun with a peer that has since left is finished from the edge.
  const untold = (i: number) => !(view.coming?.(i) ?? false);
  // The rank clock (unavailableReady) starts even while a peer's notice holds the piece: a notice
  // nobody delivers then costs its hold, not its hold and the rank wait after it.
  const unavailable = (i: number) => free(i) && view.rarity(i) === 0 && (view.unavailableReady?.(i) ?? true) && untold(i);
  if (view.injectRank) {
    const best = draw(unavailable, view.injectRank);
    const spareSlots = (options.requestsPerSeed ?? SOURCE_POLICY_DEFAULTS.requestsPerSeed) - 1 - view.edgeInFlight;
    if (best !== undefined && ((best.key === 0 && spareSlots > 0) || view.starved || view.edgeInFlight === 0)) return { index: best.index, reason: 'unavailable' };
  } else if (view.starved || view.edgeInFlight === 0) {
    const best = draw(unavailable);
    if (best) return { index: best.index, reason: 'unavailable' };
  }
  const stream = view.stream;
  if (stream) {
    // Streaming: a thin buffer while the peers deliver slower than playback fills up in order.
    if (view.edgeInFlight === 0 && stream.bufferedMs < (options.rateBufferMs ?? SOURCE_POLICY_DEFAULTS.rateBufferMs) && view.peerRate < Math.max(stream.rate, options.neededRate ?? 0)) {
      for (const i of stream.order) if (free(i) && !view.started(i) && untold(i)) return { index: i, reason: 'rate' };
    }
    return undefined;
  }
  if (options.neededRate !== undefined && view.peerRate < options.neededRate) {
    const best = draw((i) => free(i) && !view.started(i) && untold(i));
    if (best) return { index: best.index, reason: 'rate' };
  }
  return undefined;
}
