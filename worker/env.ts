import type { Swarm } from './swarm/swarm-do.js';
import type { ConnectionIds } from './connection-ids/connection-ids-do.js';

/** Bindings declared in wrangler.toml; keep the two in step. */
export interface Env {
  /** One Swarm Durable Object per info-hash (`idFromName(hex)`). */
  SWARM: DurableObjectNamespace<Swarm>;
  /** BEP 15 connection-id shards, chosen by hashing the client address. */
  CONNECTION_IDS: DurableObjectNamespace<ConnectionIds>;
  /** Published content, read by the HTTP seed with ranged gets. */
  CONTENT: R2Bucket;
}
