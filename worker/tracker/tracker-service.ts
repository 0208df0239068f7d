import type { Env } from '../env.js';
import type { AnnounceAccess, SwarmAnswer } from '../swarm/swarm-do.js';
import type { AnnounceParams } from '../../shared/tracker/announce-params.js';
import type { ScrapeCounts } from '../../shared/tracker/http-response.js';
import { toHex } from '../../shared/bytes.js';

/** BEP 31: how long a client should wait after we could not serve it (minutes). */
export const OVERLOAD_RETRY_MINUTES = 1;

/** The tracker mode from the Worker vars. */
export function trackerMode(env: Env): 'open' | 'registered' {
  return env.TRACKER_MODE === 'registered' ? 'registered' : 'open';
}

function swarmStub(env: Env, infoHash: Uint8Array) {
  return env.SWARM.get(env.SWARM.idFromName(toHex(infoHash)));
}

/**
 * Announces to the swarm's Durable Object. A failure of the object itself (overload, a reset)
 * becomes a BEP 31 answer with `retry in`, for this request only.
 */
export async function announceToSwarm(env: Env, params: AnnounceParams, client: { host: string }, user: string | undefined): Promise<SwarmAnswer> {
  const access: AnnounceAccess = { mode: trackerMode(env), ...(user !== undefined ? { user } : {}) };
  try {
    return await swarmStub(env, params.infoHash).announce(params, client, access);
  } catch (err) {
    console.error('swarm announce failed', err);
    return { ok: false, failure: 'tracker busy, try again shortly', retryIn: OVERLOAD_RETRY_MINUTES };
  }
}

/** Scrapes each swarm in parallel; unknown ones in registered mode are left out. */
export async function scrapeSwarms(env: Env, infoHashes: Uint8Array[]): Promise<Map<string, ScrapeCounts>> {
  const mode = trackerMode(env);
  const unique = [...new Map(infoHashes.map((h) => [toHex(h), h])).values()];
  const counts = await Promise.all(unique.map((h) => swarmStub(env, h).scrape(mode)));
  const out = new Map<string, ScrapeCounts>();
  unique.forEach((h, i) => {
    const c = counts[i];
    if (c) out.set(toHex(h), c);
  });
  return out;
}

/** Registers a torrent (registered-only mode and BEP 27 private torrents). */
export async function registerTorrent(env: Env, infoHash: Uint8Array, options: { private: boolean }): Promise<void> {
  await swarmStub(env, infoHash).register(options);
}

export async function torrentRegistration(env: Env, infoHash: Uint8Array) {
  return swarmStub(env, infoHash).registration();
}
