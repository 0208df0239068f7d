/**
 * Bytes the edge seed sends, per torrent, reported to the torrent's Swarm object for the
 * dashboard. The seed's request path must not pay a call per request (its throughput is
 * benchmarked): bytes go to the object at most every 2 s per torrent (report-pacer.ts).
 */
import type { Env } from '../env.js';
import { ReportPacer, type WaitUntil } from './report-pacer.js';

/** Least time between two reports of one torrent from one isolate (ms). */
export const EDGE_BYTES_FLUSH_MS = 2_000;
/** Torrents remembered per isolate; past it, idle entries are dropped. */
const MAX_TRACKED = 10_000;

interface Tally {
  /** Bytes counted and not yet reported. */
  pending: number;
  pacer: ReportPacer;
}

const tallies = new Map<string, Tally>();

/** Counts `bytes` sent for torrent `hex`; never waits. */
export function countEdgeBytes(env: Env, hex: string, bytes: number, waitUntil: WaitUntil): void {
  if (bytes <= 0) return;
  let tally = tallies.get(hex);
  if (!tally) {
    if (tallies.size >= MAX_TRACKED) dropIdle(Date.now());
    tally = { pending: 0, pacer: new ReportPacer(EDGE_BYTES_FLUSH_MS) };
    tallies.set(hex, tally);
  }
  tally.pending += bytes;
  const t = tally;
  t.pacer.schedule(waitUntil, () => report(env, hex, t));
}

async function report(env: Env, hex: string, tally: Tally): Promise<void> {
  const bytes = tally.pending;
  tally.pending = 0;
  try {
    await env.SWARM.get(env.SWARM.idFromName(hex)).addEdgeBytes(hex, bytes);
  } catch (err) {
    // Kept for the next report rather than lost.
    tally.pending += bytes;
    console.error('edge bytes report failed', err);
  }
}

function dropIdle(now: number): void {
  for (const [hex, tally] of tallies) {
    if (!tally.pacer.open && tally.pending === 0 && now - tally.pacer.sentAt >= EDGE_BYTES_FLUSH_MS) tallies.delete(hex);
  }
  // Everyone busy: forget the oldest entry (a report it scheduled still sends what it holds).
  if (tallies.size >= MAX_TRACKED) {
    const oldest = tallies.keys().next().value;
    if (oldest !== undefined) tallies.delete(oldest);
  }
}
