/**
 * Bytes the edge seed sends, per torrent, reported to the torrent's Swarm object for the
 * dashboard. The seed's request path must not pay a call per request (its throughput is
 * benchmarked): bytes add up in isolate memory and go to the object at most every 2 s per
 * torrent, from the `waitUntil` of the request that opened the batch. The first bytes after a
 * quiet spell go at once. Only plain numbers are shared between requests (Workers hang a request
 * that waits on another request's promise).
 */
import type { Env } from '../env.js';

/** Least time between two reports of one torrent from one isolate (ms). */
export const EDGE_BYTES_FLUSH_MS = 2_000;
/** Torrents remembered per isolate; past it, idle entries are dropped. */
const MAX_TRACKED = 10_000;

interface Tally {
  /** Bytes counted and not yet reported. */
  pending: number;
  /** When the last report left (ms). */
  sentAt: number;
  /** A report is scheduled (its waitUntil holds the batch). */
  open: boolean;
}

const tallies = new Map<string, Tally>();

type WaitUntil = (promise: Promise<unknown>) => void;

/** Counts `bytes` sent for torrent `hex`; never waits. */
export function countEdgeBytes(env: Env, hex: string, bytes: number, waitUntil: WaitUntil): void {
  if (bytes <= 0) return;
  let tally = tallies.get(hex);
  if (!tally) {
    if (tallies.size >= MAX_TRACKED) dropIdle(Date.now());
    tally = { pending: 0, sentAt: 0, open: false };
    tallies.set(hex, tally);
  }
  tally.pending += bytes;
  if (tally.open) return;
  tally.open = true;
  const wait = Math.max(0, tally.sentAt + EDGE_BYTES_FLUSH_MS - Date.now());
  waitUntil(report(env, hex, tally, wait));
}

async function report(env: Env, hex: string, tally: Tally, wait: number): Promise<void> {
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const bytes = tally.pending;
  tally.pending = 0;
  tally.sentAt = Date.now();
  tally.open = false;
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
    if (!tally.open && tally.pending === 0 && now - tally.sentAt >= EDGE_BYTES_FLUSH_MS) tallies.delete(hex);
  }
  // Everyone busy: forget the oldest entry (a report it scheduled still sends what it holds).
  if (tallies.size >= MAX_TRACKED) {
    const oldest = tallies.keys().next().value;
    if (oldest !== undefined) tallies.delete(oldest);
  }
}
