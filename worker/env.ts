import type { Swarm } from './swarm/swarm-do.js';
import type { ConnectionIds } from './connection-ids/connection-ids-do.js';
import type { SwarmDirectory } from './swarm/swarm-directory-do.js';

/** Bindings declared in wrangler.toml; keep the two in step. */
export interface Env {
  /** One Swarm Durable Object per info-hash (`idFromName(hex)`). */
  SWARM: DurableObjectNamespace<Swarm>;
  /** BEP 15 connection-id shards, chosen by hashing the client address. */
  CONNECTION_IDS: DurableObjectNamespace<ConnectionIds>;
  /** The list of swarms for GET /stats and the dashboard: one object, `idFromName('directory')`. */
  SWARM_DIRECTORY: DurableObjectNamespace<SwarmDirectory>;
  /** Published content, read by the HTTP seed with ranged gets. */
  CONTENT: R2Bucket;
  /** Seconds between announces asked of clients (default 900). */
  ANNOUNCE_INTERVAL?: string;
  /** BEP 3 `min interval` in seconds (default 60). */
  MIN_ANNOUNCE_INTERVAL?: string;
  /** Seconds of silence after which a peer leaves its swarm (default 2 x interval + 60). */
  PEER_TTL?: string;
  /** Most peers kept per swarm (default 50,000). */
  MAX_PEERS_PER_SWARM?: string;
  /** `open` (any info-hash) or `registered` (only torrents registered through the API). */
  TRACKER_MODE?: string;
  /** Bearer token of the publisher API (a Worker secret). */
  PUBLISH_TOKEN?: string;
  /** Shared secret that lets the UDP gateway vouch for a datagram's source address. */
  GATEWAY_SECRET?: string;
  /** Secret from which per-user passkeys for private torrents are derived. */
  PASSKEY_SECRET?: string;
  /** Edge seed policy (see worker/seed/seed-throttle.ts): rates in bytes/s, times in seconds. */
  SEED_CLIENT_RATE?: string;
  SEED_TOTAL_RATE?: string;
  SEED_BURST_SECONDS?: string;
  SEED_BAN_STRIKES?: string;
  SEED_BAN_SECONDS?: string;
  SEED_THROTTLE_AT_SEEDS?: string;
  SEED_THROTTLE_FACTOR?: string;
  SEED_REFUSE_AT_SEEDS?: string;
  SEED_SWARM_RETRY_SECONDS?: string;
  /** Bytes of hot content chunks each isolate keeps in memory (default 32 MiB; 0 = none). */
  SEED_MEMORY_CACHE_BYTES?: string;
  /** Tests only, never in wrangler.toml: '1' lets a request ask for injected faults (worker/faults.ts). */
  FAULT_INJECTION?: string;
}
