import type { Env } from '../env.js';
import type { AnnounceAccess, HttpSwarmAnswer, SwarmSnapshot, UdpSwarmAnswer } from '../swarm/swarm-do.js';
import type { AnnounceParams } from '../../shared/tracker/announce-params.js';
import type { GetPeerParams } from '../../shared/tracker/http-query.js';
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

export function accessFor(env: Env, user: string | undefined): AnnounceAccess {
  return { mode: trackerMode(env), ...(user !== undefined ? { user } : {}) };
}

/** The BEP 31 answer when the swarm's object itself failed (overload, a reset): for this request only. */
function busy(err: unknown) {
  console.error('swarm announce failed', err);
  return { ok: false as const, failure: 'tracker busy, try again shortly', retryIn: OVERLOAD_RETRY_MINUTES };
}

/** An HTTP announce to the swarm's Durable Object, which answers with the bencoded body. */
export async function announceHttp(
  env: Env,
  params: AnnounceParams,
  client: { host: string },
  user: string | undefined,
  wantSnapshot = false,
): Promise<HttpSwarmAnswer> {
  try {
    return await swarmStub(env, params.infoHash).announceHttp(params, client, accessFor(env, user), { compact: params.compact, noPeerId: params.noPeerId, wantSnapshot });
  } catch (err) {
    return busy(err);
  }
}

/** PPSP Get-Peer to the swarm's Durable Object: peers without joining. */
export async function getPeersHttp(env: Env, params: GetPeerParams, client: { host: string }, user: string | undefined): Promise<HttpSwarmAnswer> {
  try {
    return await swarmStub(env, params.infoHash).getPeers(params, client, accessFor(env, user));
  } catch (err) {
    return busy(err);
  }
}

/** BEP 15 announces to one swarm, in one call to its Durable Object. */
export async function announceUdpBatch(
  env: Env,
  items: { params: AnnounceParams; client: { host: string }; user: string | undefined }[],
  wantSnapshot = false,
): Promise<{ answers: UdpSwarmAnswer[]; snapshot?: SwarmSnapshot }> {
  try {
    return await swarmStub(env, items[0]!.params.infoHash).announceUdpBatch(
      items.map(({ params, client, user }) => ({ params, client, access: accessFor(env, user) })),
      wantSnapshot,
    );
  } catch (err) {
    const answer = busy(err);
    return { answers: items.map(() => answer) };
  }
}

/** Scrapes each swarm in parallel; unknown ones in registered mode are left out. */
export async function scrapeSwarms(env: Env, infoHashes: Uint8Array[], user?: string): Promise<Map<string, ScrapeCounts>> {
  const mode = trackerMode(env);
  const unique = [...new Map(infoHashes.map((h) => [toHex(h), h])).values()];
  const counts = await Promise.all(unique.map((h) => swarmStub(env, h).scrape(mode, user)));
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
