import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env.js';
import { bumpProbe, ensureProbeTable } from '../storage-probe.js';
import { toHex, fromHex } from '../../shared/bytes.js';

/** Keys rotate hourly; the previous key stays valid so ids issued just before a rotation still pass. */
export const KEY_ROTATION_MS = 60 * 60 * 1000;

/** The secrets of one shard, as handed to the Worker (which derives and checks ids itself). */
export interface ShardKeys {
  /** Newest first: [current, previous]. Raw 32-byte HMAC keys. */
  keys: Uint8Array[];
  /** Until when the Worker may cache these (the next rotation). */
  validUntil: number;
}

/**
 * One shard of BEP 15 connection-id state, chosen by hashing the client address. It keeps
 * rotating secret keys in SQLite (so ids stay valid across restarts) and rotates them in its
 * alarm; ids themselves are derived from the keys (connection-id.ts) and never stored.
 */
export class ConnectionIds extends DurableObject<Env> {
  private state: { keys: Uint8Array[]; rotatedAt: number } | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    ensureProbeTable(sql);
    sql.exec('CREATE TABLE IF NOT EXISTS keys (slot INTEGER PRIMARY KEY, key_hex TEXT NOT NULL, created_at INTEGER NOT NULL)');
    const rows = sql.exec<{ slot: number; key_hex: string; created_at: number }>('SELECT slot, key_hex, created_at FROM keys ORDER BY slot').toArray();
    if (rows.length > 0) {
      this.state = { keys: rows.map((r) => fromHex(r.key_hex)!), rotatedAt: rows[0]!.created_at };
    }
  }

  /** The current keys, creating or rotating them when due. */
  async keys(): Promise<ShardKeys> {
    const now = Date.now();
    if (!this.state || now - this.state.rotatedAt >= KEY_ROTATION_MS) await this.rotate(now);
    const state = this.state!;
    return { keys: state.keys, validUntil: state.rotatedAt + KEY_ROTATION_MS };
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    // keys() may have rotated already (on demand, while this alarm was on its way): rotating
    // again would drop a key that ids issued minutes ago still need.
    if (!this.state || now - this.state.rotatedAt >= KEY_ROTATION_MS - 1000) await this.rotate(now);
    else await this.ctx.storage.setAlarm(this.state.rotatedAt + KEY_ROTATION_MS);
  }

  async probe(): Promise<number> {
    return bumpProbe(this.ctx.storage.sql);
  }

  private async rotate(now: number): Promise<void> {
    const fresh = crypto.getRandomValues(new Uint8Array(32));
    const previous = this.state?.keys[0];
    this.state = { keys: previous ? [fresh, previous] : [fresh], rotatedAt: now };
    const sql = this.ctx.storage.sql;
    sql.exec('DELETE FROM keys');
    this.state.keys.forEach((key, slot) => sql.exec('INSERT INTO keys (slot, key_hex, created_at) VALUES (?, ?, ?)', slot, toHex(key), now));
    await this.ctx.storage.setAlarm(now + KEY_ROTATION_MS);
  }
}
