/**
 * Tracker requests the edge refused, counted by route and reason, for the operator: GET /stats
 * shows them in the publisher view. Counted as edge-bytes.ts counts bytes: the refusal path must
 * not pay a call per request (a client that keeps asking wrong is exactly the one that asks
 * often), so counts go to the one SwarmDirectory object at most every 2 s (report-pacer.ts).
 * Nothing of the refused request is kept but its reason: a refusal
 * for an unknown info-hash writes nothing to that info-hash's Swarm object, so it creates no swarm.
 */
import type { Env } from '../env.js';
import { swarmDirectory } from '../swarm/swarm-directory-do.js';
import type { TrackerError } from '../../shared/errors.js';
import { ReportPacer, type WaitUntil } from './report-pacer.js';

/** Least time between two reports from one isolate (ms). */
export const REFUSAL_FLUSH_MS = 2_000;

/**
 * Why a PPSP Get-Peer request (`GET /peers`, `/p/PASSKEY/peers`) was answered with a `failure
 * reason`. The first five are the query parser's TrackerError codes (shared/tracker/http-query.ts).
 */
export const GET_PEER_REFUSALS = [
  /** `info_hash` absent. */
  'missing-parameter',
  /** A parameter of the wrong size or form (`info_hash` not 20 bytes, `numwant`, `layer`, `peer_id`). */
  'bad-parameter',
  /** A parameter given twice. */
  'duplicate-parameter',
  /** A malformed percent-escape or an unescaped byte. */
  'bad-escape',
  /** A query string past MAX_QUERY_LENGTH. */
  'too-long',
  /** `/p/PASSKEY/peers` with a passkey that is not one of ours. */
  'unknown-passkey',
  /** The Worker could not tell the client's address. */
  'no-address',
  /** BEP 27: a private torrent asked for without a passkey. */
  'private',
  /** `TRACKER_MODE=registered` and the torrent is not registered (any unknown info-hash). */
  'unregistered',
  /** The swarm's object failed (overload, a reset): BEP 31 `retry in`. */
  'busy',
] as const;

export type GetPeerRefusal = (typeof GET_PEER_REFUSALS)[number];

/** Counts by route, then by reason (only reasons counted at least once appear). */
export type RefusalCounts = Record<string, Record<string, number>>;

/** The Get-Peer reason of a TrackerError from the query parser (an unknown code counts as `bad-parameter`). */
export function getPeerRefusalOf(err: TrackerError): GetPeerRefusal {
  const code = err.code.replace(/^tracker\./, '');
  return (GET_PEER_REFUSALS as readonly string[]).includes(code) ? (code as GetPeerRefusal) : 'bad-parameter';
}

/** Counts not yet reported, by route, then reason. */
const pending = new Map<string, Map<string, number>>();
const pacer = new ReportPacer(REFUSAL_FLUSH_MS);

function add(route: string, reason: string, count: number): void {
  let byReason = pending.get(route);
  if (!byReason) pending.set(route, (byReason = new Map()));
  byReason.set(reason, (byReason.get(reason) ?? 0) + count);
}

/** Counts one refusal on `route` for `reason`; never waits. */
export function countRefusal(env: Env, route: 'getPeer', reason: GetPeerRefusal, waitUntil: WaitUntil): void {
  add(route, reason, 1);
  pacer.schedule(waitUntil, () => report(env));
}

async function report(env: Env): Promise<void> {
  const counts = [...pending].flatMap(([route, byReason]) => [...byReason].map(([reason, count]) => ({ route, reason, count })));
  pending.clear();
  try {
    await swarmDirectory(env).addRefusals(counts);
  } catch (err) {
    // Kept for the next report rather than lost.
    for (const { route, reason, count } of counts) add(route, reason, count);
    console.error('refusal counts report failed', err);
  }
}
