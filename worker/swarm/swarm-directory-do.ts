import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env.js';
import type { RefusalCounts } from '../stats/refusal-counts.js';

/** Route and reason names of refusal counts (ours, short; anything else is dropped). */
const REFUSAL_KEY = /^[a-z][a-z-]{0,31}$/i;
/** Refusal counts taken in one report at most (one isolate's reasons, with room to spare). */
const MAX_REFUSAL_ROWS = 64;

/** Most swarms the directory lists; past it the least recently seen is dropped. */
export const MAX_LISTED_SWARMS = 10_000;

/** A swarm as the directory lists it. */
export interface DirectoryEntry {
  infoHash: string;
  /** The torrent's name, for torrents published on this edge. */
  name?: string;
  /** Peers at its last report: what "busiest first" orders by. */
  peers: number;
  /** Last time the swarm reported (ms). */
  seenAt: number;
}

/**
 * The list of swarms for GET /stats and the dashboard: one object (`idFromName('directory')`),
 * SQLite-backed. Swarm objects add themselves once per life (first announce or edge-seed bytes)
 * and report their peer count now and then from their alarm; the publisher adds published
 * torrents with their name. Bounded: MAX_LISTED_SWARMS, least recently seen dropped first.
 * Being the edge's one object, it also keeps the edge-wide counts of refused tracker requests
 * (worker/stats/refusal-counts.ts), which belong to no swarm.
 */
export class SwarmDirectory extends DurableObject<Env> {
  private count: number;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS swarms (
      info_hash TEXT PRIMARY KEY, name TEXT, peers INTEGER NOT NULL, seen_at INTEGER NOT NULL)`);
    sql.exec('CREATE INDEX IF NOT EXISTS swarms_seen ON swarms (seen_at)');
    sql.exec('CREATE INDEX IF NOT EXISTS swarms_busy ON swarms (peers DESC, seen_at DESC)');
    this.count = sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM swarms').one().n;
    sql.exec('CREATE TABLE IF NOT EXISTS refusals (route TEXT NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (route, reason))');
  }

  /** Adds an isolate's refusal counts since its last report (malformed rows are dropped). */
  async addRefusals(counts: { route: string; reason: string; count: number }[]): Promise<void> {
    for (const { route, reason, count } of counts.slice(0, MAX_REFUSAL_ROWS)) {
      if (!REFUSAL_KEY.test(route) || !REFUSAL_KEY.test(reason) || !Number.isSafeInteger(count) || count <= 0) continue;
      this.ctx.storage.sql.exec(
        'INSERT INTO refusals (route, reason, count) VALUES (?, ?, ?) ON CONFLICT(route, reason) DO UPDATE SET count = count + excluded.count',
        route,
        reason,
        count,
      );
    }
  }

  /** Refused tracker requests since the edge began, by route and reason. */
  async refusals(): Promise<RefusalCounts> {
    const out: RefusalCounts = {};
    for (const r of this.ctx.storage.sql.exec<{ route: string; reason: string; count: number }>('SELECT route, reason, count FROM refusals ORDER BY route, reason')) {
      (out[r.route] ??= {})[r.reason] = r.count;
    }
    return out;
  }

  /** Adds or refreshes a swarm; a name, once known, is kept when later reports carry none. */
  async list(infoHash: string, report: { name?: string; peers?: number }): Promise<void> {
    if (!/^[0-9a-f]{40}$/.test(infoHash)) return;
    const sql = this.ctx.storage.sql;
    const known = sql.exec('SELECT 1 FROM swarms WHERE info_hash = ?', infoHash).toArray().length > 0;
    sql.exec(
      `INSERT INTO swarms (info_hash, name, peers, seen_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(info_hash) DO UPDATE SET name = COALESCE(excluded.name, swarms.name),
         peers = CASE WHEN ? THEN excluded.peers ELSE swarms.peers END, seen_at = excluded.seen_at`,
      infoHash,
      report.name?.slice(0, 1024) ?? null,
      report.peers ?? 0,
      Date.now(),
      report.peers !== undefined ? 1 : 0,
    );
    if (known) return;
    this.count++;
    if (this.count > MAX_LISTED_SWARMS) {
      sql.exec('DELETE FROM swarms WHERE info_hash IN (SELECT info_hash FROM swarms ORDER BY seen_at ASC LIMIT ?)', this.count - MAX_LISTED_SWARMS);
      this.count = MAX_LISTED_SWARMS;
    }
  }

  /** The `limit` busiest swarms (by their last reported peers, then most recently seen), and how many are listed. */
  async busiest(limit: number): Promise<{ total: number; entries: DirectoryEntry[] }> {
    const rows = this.ctx.storage.sql
      .exec<{ info_hash: string; name: string | null; peers: number; seen_at: number }>(
        'SELECT info_hash, name, peers, seen_at FROM swarms ORDER BY peers DESC, seen_at DESC LIMIT ?',
        Math.max(0, Math.floor(limit)),
      )
      .toArray();
    return { total: this.count, entries: rows.map(toEntry) };
  }

  /** One swarm's entry, if listed. */
  async entry(infoHash: string): Promise<DirectoryEntry | undefined> {
    const row = this.ctx.storage.sql
      .exec<{ info_hash: string; name: string | null; peers: number; seen_at: number }>('SELECT info_hash, name, peers, seen_at FROM swarms WHERE info_hash = ?', infoHash)
      .toArray()[0];
    return row ? toEntry(row) : undefined;
  }
}

function toEntry(r: { info_hash: string; name: string | null; peers: number; seen_at: number }): DirectoryEntry {
  return { infoHash: r.info_hash, ...(r.name !== null ? { name: r.name } : {}), peers: r.peers, seenAt: r.seen_at };
}

/** The one directory object. */
export function swarmDirectory(env: Env) {
  return env.SWARM_DIRECTORY.get(env.SWARM_DIRECTORY.idFromName('directory'));
}
