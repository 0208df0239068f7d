import { Hono, type Context } from 'hono';
import type { Env } from '../env.js';
import { requirePublisher } from '../access/bearer.js';
import { swarmDirectory, type DirectoryEntry } from '../swarm/swarm-directory-do.js';
import { offloadOf, type SwarmStats } from '../stats/swarm-stats.js';

/**
 * The dashboard's data, JSON:
 * - `GET /stats?limit=N` (1-200, default 50): the busiest listed swarms and totals.
 * - `GET /stats/:infoHash`: one swarm with its time series.
 * Anyone may read public swarms. With `Authorization: Bearer PUBLISH_TOKEN` the answers add
 * private swarms, each swarm's `publisher` part and, in the list, the edge's refused tracker
 * requests by route and reason (`refusals`); a wrong or malformed token is refused
 * (401/403), never quietly answered with the public view.
 */
export const stats = new Hono<{ Bindings: Env }>();

/** Default and largest page of GET /stats. */
export const DEFAULT_STATS_LIMIT = 50;
export const MAX_STATS_LIMIT = 200;

const HEX40 = /^[0-9a-fA-F]{40}$/;

/** A swarm as GET /stats shows it. */
type ShownSwarm = { infoHash: string; name?: string } & Omit<SwarmStats, 'private'> & { private?: boolean };

/** True for the publisher, false without a token; the refusal for a bad token. */
async function publisherView(c: Context<{ Bindings: Env }>): Promise<boolean | Response> {
  if (c.req.header('authorization') === undefined) return false;
  let allowed = false;
  const refusal = await requirePublisher(c, async () => {
    allowed = true;
  });
  return allowed || (refusal ?? c.json({ error: 'wrong publish token' }, 403));
}

function swarmStub(env: Env, hex: string) {
  return env.SWARM.get(env.SWARM.idFromName(hex));
}

/** The swarm as shown: `private` and the publisher part only for the publisher. */
function shown(hex: string, entry: DirectoryEntry | undefined, s: SwarmStats, publisher: boolean): ShownSwarm {
  const { private: isPrivate, ...rest } = s;
  return { infoHash: hex, ...(entry?.name !== undefined ? { name: entry.name } : {}), ...rest, ...(publisher ? { private: isPrivate } : {}) };
}

/** Most peers first, then most bytes delivered. */
function busier(a: ShownSwarm, b: ShownSwarm): number {
  return b.seeds + b.leechers - (a.seeds + a.leechers) || b.edgeBytes + b.peerBytes - (a.edgeBytes + a.peerBytes) || a.infoHash.localeCompare(b.infoHash);
}

const NO_STORE = { 'cache-control': 'no-store' };

stats.get('/', async (c) => {
  const publisher = await publisherView(c);
  if (publisher instanceof Response) return publisher;
  const limitText = c.req.query('limit');
  const limit = limitText === undefined ? DEFAULT_STATS_LIMIT : Number(limitText);
  if (!/^\d{1,3}$/.test(limitText ?? '50') || limit < 1 || limit > MAX_STATS_LIMIT) {
    return c.json({ error: `limit must be a whole number from 1 to ${MAX_STATS_LIMIT}` }, 400);
  }
  // The directory orders by peer counts reported now and then (at most every 5 minutes): up to
  // four times the page is read live and the busiest of those are shown.
  const directory = swarmDirectory(c.env);
  // The publisher (the operator) also sees the edge-wide counts of refused tracker requests.
  const [{ total, entries }, refusals] = await Promise.all([directory.busiest(Math.min(MAX_STATS_LIMIT, 4 * limit)), publisher ? directory.refusals() : undefined]);
  // One call per candidate, in parallel (at most MAX_STATS_LIMIT); a swarm that fails is left out.
  const answers = await Promise.allSettled(entries.map((e) => swarmStub(c.env, e.infoHash).stats({ publisher, series: false })));
  const swarms: ShownSwarm[] = [];
  answers.forEach((answer, i) => {
    if (answer.status !== 'fulfilled' || answer.value === undefined) return;
    // BEP 27: a private swarm is for its members; the dashboard shows it to the publisher only.
    if (answer.value.private && !publisher) return;
    swarms.push(shown(entries[i]!.infoHash, entries[i], answer.value, publisher));
  });
  swarms.sort(busier);
  swarms.splice(limit);
  const sum = (f: (s: ShownSwarm) => number) => swarms.reduce((n, s) => n + f(s), 0);
  const edgeBytes = sum((s) => s.edgeBytes);
  const peerBytes = sum((s) => s.peerBytes);
  const totals = {
    listed: total,
    shown: swarms.length,
    seeds: sum((s) => s.seeds),
    leechers: sum((s) => s.leechers),
    downloaders: sum((s) => s.downloaders),
    completed: sum((s) => s.completed),
    edgeBytes,
    peerBytes,
    offload: offloadOf(peerBytes, edgeBytes),
  };
  return c.json({ generatedAt: new Date().toISOString(), publisher, swarms, totals, ...(refusals ? { refusals } : {}) }, 200, NO_STORE);
});

stats.get('/:infoHash', async (c) => {
  const publisher = await publisherView(c);
  if (publisher instanceof Response) return publisher;
  const text = c.req.param('infoHash');
  if (!HEX40.test(text)) return c.json({ error: 'info-hash must be 40 hex characters' }, 400);
  const hex = text.toLowerCase();
  const [s, entry] = await Promise.all([swarmStub(c.env, hex).stats({ publisher, series: true }), swarmDirectory(c.env).entry(hex)]);
  if (s === undefined) {
    return c.json({ error: `no swarm with this info-hash on this edge: ${hex} was never announced, published or served here` }, 404);
  }
  if (s.private && !publisher) {
    return c.json({ error: 'private torrent: its stats are for the publisher (Authorization: Bearer <publish token>)' }, 403);
  }
  return c.json({ generatedAt: new Date().toISOString(), publisher, swarm: shown(hex, entry, s, publisher) }, 200, NO_STORE);
});
