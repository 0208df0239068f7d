import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env.js';
import { bumpProbe, ensureProbeTable } from '../storage-probe.js';

/**
 * One swarm: one object per info-hash (`idFromName(hex)`), SQLite-backed.
 * The tracker issue adds the swarm rules; today it answers the storage probe of `/health/storage`.
 */
export class Swarm extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ensureProbeTable(ctx.storage.sql);
  }

  /** Bumps and returns this object's stored probe count. */
  async probe(): Promise<number> {
    return bumpProbe(this.ctx.storage.sql);
  }
}
