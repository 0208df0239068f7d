/**
 * Which piece, if any, the edge (a web seed) should fetch next. Peers come first; the edge is
 * used only when
 *
 * 1. `deadline`: a streaming piece is due sooner than the safety margin and no peer has
 *    delivered it (whatever the peers are doing with it);
 * 2. `unavailable`: no connected peer has a piece we want (after a short grace at start, so
 *    that peers found by the tracker get the first chance);
 * 3. `rate`: the peers deliver less than the download or the playback needs, and the edge makes
 *    up the difference with pieces no peer has started.
 *
 * Nothing here remembers a decision: every free web-seed slot asks again, so the edge drops out
 * as soon as the swarm recovers (pieces appear, the peers' rate comes back).
 */
export interface SourcePolicyOptions {
  /** After start, peers get this long before pieces no peer has go to the edge (default 2 s). */
  graceMs?: number;
  /** A streaming piece due sooner than this goes to the edge (default 4 s). */
  deadlineMarginMs?: number;
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
  /** Streaming: the pieces ahead of the playback position in order, and when each is due (ms). */
  stream?: { order: number[]; due(i: number): number; rate: number };
  /** Bytes a second arriving from peers. */
  peerRate: number;
  random(): number;
}

export const SOURCE_POLICY_DEFAULTS: Required<Omit<SourcePolicyOptions, 'neededRate'>> = {
  graceMs: 2000,
  deadlineMarginMs: 4000,
  requestsPerSeed: 4,
};

export function pickEdgePiece(view: EdgeView, options: SourcePolicyOptions = {}): { index: number; reason: EdgeReason } | undefined {
  const margin = options.deadlineMarginMs ?? SOURCE_POLICY_DEFAULTS.deadlineMarginMs;
  const free = (i: number) => view.wants(i) && !view.fetching(i);
  if (view.stream) {
    for (const i of view.stream.order) if (free(i) && view.stream.due(i) - view.now < margin) return { index: i, reason: 'deadline' };
  }
  if (view.now - view.startedAt < (options.graceMs ?? SOURCE_POLICY_DEFAULTS.graceMs)) return undefined;
  // Pieces in playback order first when streaming, then the rest from a random point, so that
  // viewers of one crowd ask the edge for different pieces and trade them.
  const order = view.stream?.order ?? [];
  const offset = Math.floor(view.random() * view.pieceCount);
  const candidates = function* () {
    yield* order;
    for (let k = 0; k < view.pieceCount; k++) yield (offset + k) % view.pieceCount;
  };
  // Started or not: a piece begun with a peer that has since left is finished from the edge.
  for (const i of candidates()) if (free(i) && view.rarity(i) === 0) return { index: i, reason: 'unavailable' };
  const needed = view.stream ? Math.max(view.stream.rate, options.neededRate ?? 0) : options.neededRate;
  if (needed !== undefined && view.peerRate < needed) {
    for (const i of candidates()) if (free(i) && !view.started(i)) return { index: i, reason: 'rate' };
  }
  return undefined;
}
