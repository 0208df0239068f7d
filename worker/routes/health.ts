import { Hono } from 'hono';
import type { Env } from '../env.js';

/** Liveness (`/health`, no I/O) and a storage check that touches both DO classes and R2. */
export const health = new Hono<{ Bindings: Env }>();

health.get('/', (c) => c.json({ status: 'ok' }));

health.get('/storage', async (c) => {
  const swarm = c.env.SWARM.get(c.env.SWARM.idFromName('health'));
  const shard = c.env.CONNECTION_IDS.get(c.env.CONNECTION_IDS.idFromName('health'));
  const [swarmProbes, connectionIdProbes, listing] = await Promise.all([
    swarm.probe(),
    shard.probe(),
    c.env.CONTENT.list({ limit: 1 }),
  ]);
  return c.json({ status: 'ok', swarmProbes, connectionIdProbes, contentObjects: listing.objects.length });
});
