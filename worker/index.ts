import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Env } from './env.js';
import { health } from './routes/health.js';
import { trackerHttp } from './routes/tracker-http.js';
import { udp } from './routes/udp.js';
import { api } from './routes/api.js';
import { publish } from './routes/publish.js';
import { seed } from './routes/seed.js';
import { layers } from './routes/layers.js';
import { stats } from './routes/stats.js';
import { dashboard } from './routes/dashboard.js';
import { envForRequest, isTransientStorageError, STORAGE_RETRY_SECONDS } from './faults.js';

export { Swarm } from './swarm/swarm-do.js';
export { ConnectionIds } from './connection-ids/connection-ids-do.js';
export { SwarmDirectory } from './swarm/swarm-directory-do.js';

/** The edge: tracker, HTTP seed, publisher API, layer info and dashboard, one Hono app. */
const app = new Hono<{ Bindings: Env }>();

// Test-only fault injection (worker/faults.ts): without the FAULT_INJECTION binding the env is
// left as it is.
app.use('*', async (c, next) => {
  c.env = envForRequest(c.env, c.req.raw);
  await next();
});

app.route('/health', health);
app.route('/', trackerHttp);
app.route('/udp', udp);
app.route('/api/publish', publish);
app.route('/api', api);
app.route('/layers', layers);
app.route('/stats', stats);
app.route('/dashboard', dashboard);
app.route('/', seed);

app.notFound((c) => c.json({ error: 'not found', path: new URL(c.req.url).pathname }, 404));

// One place maps errors to responses: a client's mistake is an HTTPException with a 4xx;
// a storage failure (R2 read error, Durable Object exception) fails this request alone and says
// when to retry (503, Retry-After); anything else is ours and becomes a 500 without internals.
app.onError((err, c) => {
  if (err instanceof HTTPException) return err.getResponse();
  if (isTransientStorageError(err)) {
    console.error('storage unavailable', err);
    return c.json({ error: 'storage temporarily unavailable: try again', retryAfter: STORAGE_RETRY_SECONDS }, 503, { 'retry-after': String(STORAGE_RETRY_SECONDS) });
  }
  console.error('unhandled', err);
  return c.json({ error: 'internal error' }, 500);
});

export default app;
