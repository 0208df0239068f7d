import type { Env } from '../env.js';
import { formatIPv6, parseIPv6 } from '../../shared/ip.js';
import { type SeedDecision, seedPolicy, SeedThrottle } from './seed-throttle.js';

/** How long a swarm's health is trusted before it is asked again. */
const HEALTH_TTL_MS = 10_000;
/** The edge tells a swarm it seeds it for this long, again at most every EDGE_NOTICE_MS. */
const EDGE_SEED_MS = 5 * 60_000;
const EDGE_NOTICE_MS = 60_000;

let throttle: SeedThrottle | undefined;
const health = new Map<string, { p2pSeeds: number; at: number; refreshing: boolean }>();
const noticed = new Map<string, number>();

type WaitUntil = (promise: Promise<unknown>) => void;

/**
 * Whether the edge seed serves `bytes` of torrent `hex` to `client` now: the per-isolate throttle
 * with the swarm's health (cached for 10 s, refreshed in the background). While it serves, the
 * swarm counts the edge as a seed.
 */
export async function admit(env: Env, hex: string, client: string, bytes: number, waitUntil: WaitUntil): Promise<SeedDecision> {
  const now = Date.now();
  throttle ??= new SeedThrottle(seedPolicy(env as unknown as Record<string, string | undefined>), now);
  const p2pSeeds = await swarmSeeds(env, hex, now, waitUntil);
  const decision = throttle.decide(client, bytes, p2pSeeds, now, hex);
  if (decision.ok && now - (noticed.get(hex) ?? 0) > EDGE_NOTICE_MS) {
    noticed.set(hex, now);
    if (noticed.size > 10_000) noticed.clear();
    waitUntil(stub(env, hex).edgeSeeding(now + EDGE_SEED_MS).catch(() => undefined));
  }
  return decision;
}

async function swarmSeeds(env: Env, hex: string, now: number, waitUntil: WaitUntil): Promise<number> {
  const known = health.get(hex);
  if (known && now - known.at < HEALTH_TTL_MS) return known.p2pSeeds;
  const ask = async () => {
    try {
      const { p2pSeeds } = await stub(env, hex).health();
      health.set(hex, { p2pSeeds, at: Date.now(), refreshing: false });
      if (health.size > 10_000) health.clear();
      return p2pSeeds;
    } catch {
      // Unknown health is no reason to refuse: serve as if the swarm had no seeds.
      if (known) known.refreshing = false;
      return known?.p2pSeeds ?? 0;
    }
  };
  if (known) {
    // Serve on the last known figure and refresh in the background.
    if (!known.refreshing) {
      known.refreshing = true;
      waitUntil(ask());
    }
    return known.p2pSeeds;
  }
  return ask();
}

function stub(env: Env, hex: string) {
  return env.SWARM.get(env.SWARM.idFromName(hex));
}

/**
 * The client for per-client limits (from its canonical address): an IPv4 address, or an IPv6 /64 (one
 * subscriber's prefix: rotating addresses inside it must not buy fresh buckets).
 */
export function clientAddress(ip: string | undefined): string {
  if (ip === undefined) return 'unknown';
  const v6 = parseIPv6(ip);
  if (!v6) return ip;
  const prefix = new Uint8Array(16);
  prefix.set(v6.subarray(0, 8));
  return `${formatIPv6(prefix)}/64`;
}

/** The answer for a refused request: BEP 17 wants the seconds to wait as the body. */
export function busyResponse(decision: Extract<SeedDecision, { ok: false }>): Response {
  return new Response(`${decision.retryAfter}`, {
    status: 503,
    headers: { 'retry-after': String(decision.retryAfter), 'content-type': 'text/plain', 'x-edge-reason': decision.reason },
  });
}
