/**
 * Plain re-announces answered in the Worker isolate.
 *
 * Most tracker traffic is the periodic re-announce of a peer already in the swarm (no event).
 * Sending each one to the swarm's Durable Object costs a round trip and caps a swarm near one
 * object's request rate. Instead an isolate keeps, per swarm, a snapshot that the object hands
 * out (counts and a random sample of peers, at most a second old), answers re-announces from it
 * at once, and sends what it answered to the object in one batch about every 50 ms, from the
 * waitUntil of the request that opened the batch. The object gets the same updates, a little
 * later; a client gets peers and counts up to a second old, which BitTorrent tolerates (the next
 * announce is minutes away). Events (started, completed, stopped, paused), private torrents and
 * non-compact requests always go to the object.
 *
 * Only plain data is shared between requests here (no promises or I/O objects), which is what
 * Workers allow.
 */
import type { Env } from '../env.js';
import type { AnnounceAccess, SwarmSnapshot } from '../swarm/swarm-do.js';
import type { AnnounceParams } from '../../shared/tracker/announce-params.js';
import { encode } from '../../shared/bencode/index.js';
import { concatBytes } from '../../shared/bytes.js';
import { encodeCompactPeer } from '../../shared/compact/compact-peers.js';
import { parseIPv4, parseIPv6 } from '../../shared/ip.js';

/** How long a snapshot may answer announces. */
export const VIEW_TTL_MS = 1000;
/** How long answered re-announces gather before they go to the object together. */
const FLUSH_DELAY_MS = 50;
/** Past this many waiting, announces take the direct path (backpressure). */
const MAX_PENDING = 1024;
/** Swarms an isolate keeps views of. */
const MAX_VIEWS = 10_000;

interface View {
  snapshot: SwarmSnapshot;
  receivedAt: number;
  pending: { params: AnnounceParams; client: { host: string } }[];
  flushing: boolean;
}

const views = new Map<string, View>();
const askedAt = new Map<string, number>();

/** True when the direct path should bring back a snapshot for this swarm (at most once a TTL). */
export function wantsSnapshot(hex: string, now = Date.now()): boolean {
  const view = views.get(hex);
  if (view && now - view.receivedAt < VIEW_TTL_MS / 2) return false;
  const asked = askedAt.get(hex) ?? 0;
  if (now - asked < VIEW_TTL_MS / 2) return false;
  askedAt.set(hex, now);
  if (askedAt.size > MAX_VIEWS) askedAt.clear();
  return true;
}

/** Keeps a snapshot that the object sent back. */
export function rememberSnapshot(hex: string, snapshot: SwarmSnapshot, now = Date.now()): void {
  const view = views.get(hex);
  if (view) {
    view.snapshot = snapshot;
    view.receivedAt = now;
    return;
  }
  if (views.size >= MAX_VIEWS) evictStale(now);
  views.set(hex, { snapshot, receivedAt: now, pending: [], flushing: false });
}

function evictStale(now: number): void {
  for (const [hex, view] of views) if (now - view.receivedAt > VIEW_TTL_MS && !view.flushing && view.pending.length === 0) views.delete(hex);
  if (views.size >= MAX_VIEWS) views.clear();
}

/** What the view answers with: counts, timing and sampled compact peers of both families. */
export interface ViewAnswer {
  counts: SwarmSnapshot['counts'];
  interval: number;
  minInterval: number;
  peers4: Uint8Array;
  peers6: Uint8Array;
}

/**
 * Answers a plain re-announce from the isolate's view, or returns undefined when it must go to
 * the object. `waitUntil` keeps the batch flush alive after the response is sent.
 */
export function answerFromView(
  env: Env,
  hex: string,
  params: AnnounceParams,
  client: { host: string },
  access: AnnounceAccess,
  waitUntil: (promise: Promise<unknown>) => void,
  random: () => number = Math.random,
): ViewAnswer | undefined {
  if (params.event !== 'none' || !params.compact || access.user !== undefined || params.otherAddresses.length > 0) return undefined;
  const view = views.get(hex);
  const now = Date.now();
  if (!view || now - view.receivedAt > VIEW_TTL_MS || view.pending.length >= MAX_PENDING) return undefined;
  const snap = view.snapshot;
  const own = encodeCompactPeer({ host: client.host, port: params.port });
  // Seeds get only downloaders (as the object would answer).
  const seed = params.left === 0;
  const answer: ViewAnswer = {
    counts: snap.counts,
    interval: snap.interval,
    minInterval: snap.minInterval,
    peers4: pick([snap.downloaders4, ...(seed ? [] : [snap.uploadOnly4])], 6, params.numwant, own, random),
    peers6: pick([snap.downloaders6, ...(seed ? [] : [snap.uploadOnly6])], 18, params.numwant, own, random),
  };
  view.pending.push({ params, client });
  if (!view.flushing) {
    view.flushing = true;
    waitUntil(flush(env, hex, view, access));
  }
  return answer;
}

/** The bencoded HTTP body of a view answer (BEP 23 `peers`, BEP 7 `peers6`, BEP 24). */
export function viewAnswerBody(answer: ViewAnswer, externalIp: string): Uint8Array {
  return encode({
    complete: answer.counts.complete,
    'external ip': parseIPv4(externalIp) ?? parseIPv6(externalIp),
    incomplete: answer.counts.incomplete,
    interval: answer.interval,
    'min interval': answer.minInterval,
    peers: answer.peers4,
    peers6: answer.peers6.length > 0 ? answer.peers6 : undefined,
  });
}

/** Sends the waiting re-announces in batches until none are left, refreshing the snapshot. */
async function flush(env: Env, hex: string, view: View, access: AnnounceAccess): Promise<void> {
  try {
    while (view.pending.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, FLUSH_DELAY_MS));
      const items = view.pending.splice(0, view.pending.length);
      const stub = env.SWARM.get(env.SWARM.idFromName(hex));
      const snapshot = await stub.applyAnnounces(items, access);
      if (snapshot) {
        view.snapshot = snapshot;
        view.receivedAt = Date.now();
      } else {
        // The swarm no longer allows isolate answers (made private): stop using the view.
        view.receivedAt = 0;
      }
    }
  } catch (err) {
    console.error('swarm batch failed', err);
    view.pending.length = 0;
    view.receivedAt = 0;
  } finally {
    view.flushing = false;
  }
}

/** Up to `count` random entries of `size` bytes from the concatenation of `groups`, never `own`. */
function pick(groups: Uint8Array[], size: number, count: number, own: Uint8Array, random: () => number): Uint8Array {
  const all = concatBytes(groups);
  const n = all.length / size;
  const order = Array.from({ length: n }, (_, i) => i);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n && out.length < count; i++) {
    const j = i + Math.floor(random() * (n - i));
    [order[i], order[j]] = [order[j]!, order[i]!];
    const entry = all.subarray(order[i]! * size, order[i]! * size + size);
    if (entry.length === own.length && entry.every((b, k) => b === own[k])) continue;
    out.push(entry);
  }
  return concatBytes(out);
}
