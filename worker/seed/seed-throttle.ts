/**
 * The edge seed's protection (BEP 17 asks seeds to limit themselves and make clients wait):
 * token buckets per client address and overall, a longer wait (a ban) for clients that keep
 * coming back before they were told to, and a policy that leans on the swarm: with enough P2P
 * seeds the edge serves slower, and with plenty it refuses and sends clients to the swarm.
 * Plain logic with an injected clock; the Worker keeps one per isolate.
 */

export interface SeedPolicy {
  /** Average bytes per second one client address may take. */
  clientRate: number;
  /** Average bytes per second all clients together may take (per isolate). */
  totalRate: number;
  /** Seconds of rate a bucket may save up (burst). */
  burstSeconds: number;
  /** Early retries (before Retry-After) tolerated before a ban. */
  banStrikes: number;
  /** How long a ban lasts, seconds. */
  banSeconds: number;
  /** With at least this many P2P seeds, clients get `throttleFactor` of the client rate. */
  throttleAtSeeds: number;
  throttleFactor: number;
  /** With at least this many P2P seeds, the edge refuses and points at the swarm. */
  refuseAtSeeds: number;
  /** Seconds a refused client is told to wait when the swarm can serve it. */
  swarmRetrySeconds: number;
}

export type SeedDecision = { ok: true } | { ok: false; retryAfter: number; reason: string };

interface Bucket {
  tokens: number;
  at: number;
}

interface Penalty {
  notBefore: number;
  strikes: number;
  lastStrike: number;
  bannedUntil: number;
}

/**
 * Requests already on their way when a 503 went out are not retries: only one strike counts per
 * this long (libtorrent pipelines several web-seed requests; webtorrent fetches in parallel).
 */
const STRIKE_GRACE_MS = 1000;

/** Client addresses tracked at most (older entries are forgotten first). */
const MAX_CLIENTS = 50_000;

export class SeedThrottle {
  private readonly clients = new Map<string, Bucket>();
  private readonly penalties = new Map<string, Penalty>();
  private readonly total: Bucket;

  constructor(
    readonly policy: SeedPolicy,
    now: number,
  ) {
    this.total = { tokens: policy.totalRate * policy.burstSeconds, at: now };
  }

  /**
   * May `client` take `requested` bytes of `torrent` now? `p2pSeeds` is how many seeds other than
   * the edge the swarm has. Charges the buckets when it says yes. Waits and bans are per client
   * and torrent: a refusal on one torrent says nothing about the client's others.
   */
  decide(client: string, requested: number, p2pSeeds: number, now: number, torrent = ''): SeedDecision {
    const p = this.policy;
    const key = `${client}|${torrent}`;
    const penalty = this.penalties.get(key);
    if (penalty && now < penalty.bannedUntil) {
      return this.refuse(key, Math.ceil((penalty.bannedUntil - now) / 1000), 'too many early retries: banned for a while', now, false);
    }
    if (penalty && now < penalty.notBefore) {
      if (now - penalty.lastStrike >= STRIKE_GRACE_MS) {
        penalty.strikes++;
        penalty.lastStrike = now;
      }
      if (penalty.strikes >= p.banStrikes) {
        penalty.bannedUntil = now + p.banSeconds * 1000;
        return this.refuse(key, p.banSeconds, 'too many early retries: banned for a while', now, false);
      }
      return this.refuse(key, Math.ceil((penalty.notBefore - now) / 1000), 'retried before the time it was given', now, false);
    }
    if (p2pSeeds >= p.refuseAtSeeds) {
      // Not the client's fault: no wait is set, so no strike can follow from it.
      return this.refuse(key, p.swarmRetrySeconds, `the swarm has ${p2pSeeds} seeds: download from peers`, now, false);
    }
    const rate = p2pSeeds >= p.throttleAtSeeds ? p.clientRate * p.throttleFactor : p.clientRate;
    // A request larger than a full bucket (a whole-file GET) is let in once the bucket is full,
    // and charged in full: the bucket goes into debt, and the client waits until it is repaid,
    // so the average rate holds whatever the request sizes.
    const needed = Math.min(requested, rate * p.burstSeconds);
    const bucket = this.bucket(client, rate, now);
    this.refill(this.total, p.totalRate, now);
    if (needed > bucket.tokens) return this.refuse(key, Math.max(1, Math.ceil((needed - bucket.tokens) / rate)), 'per-client upload limit', now);
    const neededTotal = Math.min(requested, p.totalRate * p.burstSeconds);
    if (neededTotal > this.total.tokens) return this.refuse(key, Math.max(1, Math.ceil((neededTotal - this.total.tokens) / p.totalRate)), 'edge upload limit', now);
    bucket.tokens -= requested;
    this.total.tokens -= requested;
    if (penalty) penalty.strikes = 0;
    return { ok: true };
  }

  private refuse(key: string, seconds: number, reason: string, now: number, setWait = true): SeedDecision {
    if (setWait) {
      const penalty = this.penalties.get(key) ?? { notBefore: 0, strikes: 0, lastStrike: now, bannedUntil: 0 };
      penalty.notBefore = now + seconds * 1000;
      penalty.lastStrike = now;
      this.penalties.delete(key);
      this.penalties.set(key, penalty);
      if (this.penalties.size > MAX_CLIENTS) this.penalties.delete(this.penalties.keys().next().value!);
    }
    return { ok: false, retryAfter: seconds, reason };
  }

  private bucket(client: string, rate: number, now: number): Bucket {
    let bucket = this.clients.get(client);
    if (!bucket) {
      bucket = { tokens: rate * this.policy.burstSeconds, at: now };
      if (this.clients.size >= MAX_CLIENTS) this.clients.delete(this.clients.keys().next().value!);
      this.clients.set(client, bucket);
    }
    this.refill(bucket, rate, now);
    return bucket;
  }

  private refill(bucket: Bucket, rate: number, now: number): void {
    const capacity = rate * this.policy.burstSeconds;
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
  }
}

/** The policy from Worker vars (wrangler.toml [vars]), with defaults. */
export function seedPolicy(vars: Record<string, string | undefined>): SeedPolicy {
  const num = (name: string, fallback: number) => {
    const n = Number(vars[name]);
    return Number.isFinite(n) && n > 0 ? n : fallback;
  };
  return {
    clientRate: num('SEED_CLIENT_RATE', 8 * 1024 * 1024),
    totalRate: num('SEED_TOTAL_RATE', 200 * 1024 * 1024),
    burstSeconds: num('SEED_BURST_SECONDS', 4),
    banStrikes: num('SEED_BAN_STRIKES', 5),
    banSeconds: num('SEED_BAN_SECONDS', 600),
    throttleAtSeeds: num('SEED_THROTTLE_AT_SEEDS', 3),
    throttleFactor: Math.min(1, num('SEED_THROTTLE_FACTOR', 0.25)),
    refuseAtSeeds: num('SEED_REFUSE_AT_SEEDS', 10),
    swarmRetrySeconds: num('SEED_SWARM_RETRY_SECONDS', 60),
  };
}
