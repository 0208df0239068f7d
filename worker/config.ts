import type { Env } from './env.js';
import type { SwarmConfig } from './swarm/swarm-rules.js';

/** Tracker timing and bounds from Worker vars (wrangler.toml [vars]), with defaults. */
export function swarmConfig(env: Env): SwarmConfig {
  const interval = positiveInt(env.ANNOUNCE_INTERVAL, 900);
  return {
    interval,
    minInterval: Math.min(positiveInt(env.MIN_ANNOUNCE_INTERVAL, 60), interval),
    // About two intervals (DESIGN): a client that missed one announce is not dropped yet.
    peerTtlMs: positiveInt(env.PEER_TTL, 2 * interval + 60) * 1000,
    maxPeers: positiveInt(env.MAX_PEERS_PER_SWARM, 50_000),
  };
}

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}
