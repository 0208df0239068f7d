import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env.js';
import { bumpProbe, ensureProbeTable } from '../storage-probe.js';

/**
 * One shard of BEP 15 connection ids, chosen by hashing the client address, SQLite-backed.
 * The tracker issue adds issuing and checking ids; today it answers the storage probe.
 */
export class ConnectionIds extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ensureProbeTable(ctx.storage.sql);
  }

  /** Bumps and returns this shard's stored probe count. */
  async probe(): Promise<number> {
    return bumpProbe(this.ctx.storage.sql);
  }
}
