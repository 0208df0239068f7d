/**
 * Plain re-announces answered in the Worker isolate.
 *
 * Most tracker traffic is the periodic re-announce of a peer already in the swarm (no event).
 * Sending each one to the swarm's Durable Object costs a round trip and caps a swarm near one
 * object's request rate. Instead an isolate keeps, per swarm, a snapshot that the object hands
 * out (counts and a random sample of peers, at most a second old), answers re-announces from it
 * at once, and sends what it answered to the object in one batch about every 50 ms, from the
 * waitUntil of the request that opened the batch. Every announce that does go to the object (a
 * new peer, an event) brings a fresh snapshot back, so a swarm's changes show here at once and
 * elsewhere within a second. The object gets the same updates, a little
 * later; a client gets peers and counts up to a second old, which BitTorrent tolerates (the next
 * announce is minutes away). Events (started, completed, stopped, paused), private torrents,
 * non-compact requests and announces with `layer=` always go to the object.
 *
 * Only plain data is shared between requests here (no promises or I/O objects), which is what
 * Workers allow.
 */
import type { Env } from '../env.js';
import type { AnnounceAccess, SwarmSnapshot } from '../swarm/swarm-do.js';
import type { AnnounceParams } from '../../shared/tracker/announce-params.js';
import { encodeCompactAnnounce } from '../../shared/tracker/http-response.js';
import { concatBytes } from '../../shared/bytes.js';
import { encodeCompactPeer } from '../../shared/compact/compact-peers.js';
import { parseIPv4, parseIPv6 } from '../../shared/ip.js';

/** How long a snapshot may answer announces. */
export const VIEW_TTL_MS = 1000;
/** How long answered re-announces gather before they go to the object together. */
const FLUSH_DELAY_MS = 50;
/** Past this many waiting, announces take the direct path (backpressure). */
const MAX_PENDING = 1024;
/** Swarms an isolate keeps views of (each at most ~20 KB of entries plus its queue). */
const MAX_VIEWS = 1_000;
/**
 * A flush loop ends after this long and the next answered re-announce starts a new one: work
 * under one request's waitUntil is cut off about 30 s after its response on Cloudflare.
 */
const FLUSH_LOOP_MS = 20_000;

/** A snapshot's entries laid out for sampling: downloaders first, then seeds and partial seeds. */
interface Entries {
  all: Uint8Array;
  /** Entries [0, downloaders) are downloaders. */
  downloaders: number;
}

interface View {
  snapshot: SwarmSnapshot;
  v4: Entries;
  v6: Entries;
  receivedAt: number;
  /** Answered re-announces waiting to go to the object, each with the time it was answered. */
  pending: { params: AnnounceParams; client: { host: string }; at: number }[];
  flushing: boolean;
}

const views = new Map<string, View>();

/** Keeps a snapshot that the object sent back. */
export function rememberSnapshot(hex: string, snapshot: SwarmSnapshot, now = Date.now()): void {
  const view = views.get(hex);
  if (view) {
    setSnapshot(view, snapshot, now);
    return;
  }
  if (views.size >= MAX_VIEWS) evictStale(now);
  if (views.size >= MAX_VIEWS) return; // every view is busy: this swarm goes direct for now
  const fresh: View = { snapshot, v4: entries(snapshot, 4), v6: entries(snapshot, 6), receivedAt: now, pending: [], flushing: false };
  views.set(hex, fresh);
}

function setSnapshot(view: View, snapshot: SwarmSnapshot, now: number): void {
  view.snapshot = snapshot;
  view.v4 = entries(snapshot, 4);
  view.v6 = entries(snapshot, 6);
  view.receivedAt = now;
}

function entries(snapshot: SwarmSnapshot, family: 4 | 6): Entries {
  const down = family === 4 ? snapshot.downloaders4 : snapshot.downloaders6;
  const up = family === 4 ? snapshot.uploadOnly4 : snapshot.uploadOnly6;
  return { all: concatBytes([down, up]), downloaders: down.length / (family === 4 ? 6 : 18) };
}

function evictStale(now: number): void {
  for (const [hex, view] of views) if (now - view.receivedAt > VIEW_TTL_MS && !view.flushing && view.pending.length === 0) views.delete(hex);
  // Still full of live views: drop the oldest idle one (never one with answers still to deliver).
  if (views.size >= MAX_VIEWS) {
    for (const [hex, view] of views) {
      if (!view.flushing && view.pending.length === 0) {
        views.delete(hex);
        return;
      }
    }
  }
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
  // A LAYER-CHANGE report needs the object: it may be refused, and layer-aware selection needs
  // every peer's layer, which the snapshot does not carry.
  if (params.event !== 'none' || !params.compact || access.user !== undefined || params.otherAddresses.length > 0 || params.layer !== undefined) return undefined;
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
    peers4: pick(view.v4, 6, seed, params.numwant, own, random),
    peers6: pick(view.v6, 18, seed, params.numwant, own, random),
  };
  view.pending.push({ params, client, at: now });
  if (!view.flushing) {
    view.flushing = true;
    waitUntil(flush(env, hex, view, access));
  }
  return answer;
}

/** The bencoded HTTP body of a view answer (BEP 23 `peers`, BEP 7 `peers6`, BEP 24). */
export function viewAnswerBody(answer: ViewAnswer, externalIp: string): Uint8Array {
  const ip = parseIPv4(externalIp) ?? parseIPv6(externalIp);
  return encodeCompactAnnounce({
    complete: answer.counts.complete,
    incomplete: answer.counts.incomplete,
    interval: answer.interval,
    minInterval: answer.minInterval,
    ...(ip ? { externalIp: ip } : {}),
    peers: answer.peers4,
    peers6: answer.peers6,
  });
}

/** Sends the waiting re-announces in batches until none are left, refreshing the snapshot. */
async function flush(env: Env, hex: string, view: View, access: AnnounceAccess): Promise<void> {
  const started = Date.now();
  try {
    while (view.pending.length > 0 && Date.now() - started < FLUSH_LOOP_MS) {
      await new Promise((resolve) => setTimeout(resolve, FLUSH_DELAY_MS));
      const items = view.pending.splice(0, view.pending.length);
      try {
        const snapshot = await env.SWARM.get(env.SWARM.idFromName(hex)).applyAnnounces(items, access);
        if (snapshot) setSnapshot(view, snapshot, Date.now());
        // The swarm no longer allows isolate answers (made private): stop using the view.
        else view.receivedAt = 0;
      } catch (err) {
        // This batch is lost (those peers' next announces repair it); what arrived meanwhile
        // stays queued, and announces go direct until a fresh snapshot comes back.
        console.error('swarm batch failed', err);
        view.receivedAt = 0;
      }
    }
  } finally {
    view.flushing = false;
  }
}

/**
 * Up to `count` distinct random entries of `size` bytes (Floyd's sampling: O(count)), never
 * `own`; a seed draws only from the downloaders.
 */
function pick(entries: Entries, size: number, seed: boolean, count: number, own: Uint8Array, random: () => number): Uint8Array {
  const n = seed ? entries.downloaders : entries.all.length / size;
  const want = Math.min(n, count + 1); // one spare, in case the asker itself is drawn
  const chosen = new Set<number>();
  for (let j = n - want; j < n; j++) {
    const t = Math.floor(random() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  const out = new Uint8Array(Math.min(count, want) * size);
  let at = 0;
  for (const index of chosen) {
    if (at === out.length) break;
    const entry = entries.all.subarray(index * size, index * size + size);
    if (own.length === size && entry.every((b, k) => b === own[k])) continue;
    out.set(entry, at);
    at += size;
  }
  return at === out.length ? out : out.subarray(0, at);
}
