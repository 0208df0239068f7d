import { Hono } from 'hono';
import type { Env } from '../env.js';
import { dashboardCsp, dashboardPage } from '../stats/dashboard-page.js';
import { base64url } from '../access/secrets.js';

/**
 * `GET /dashboard[?swarm=<info-hash>]`: the edge dashboard, one HTML page whose script reads
 * GET /stats. A malformed `swarm` is a 400 page and an unknown one a 404 page, each saying why
 * (the rest of the dashboard still works).
 */
export const dashboard = new Hono<{ Bindings: Env }>();

dashboard.get('/', async (c) => {
  const nonce = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const headers = {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': dashboardCsp(nonce),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
  const swarm = c.req.query('swarm');
  if (swarm !== undefined) {
    if (!/^[0-9a-fA-F]{40}$/.test(swarm)) {
      const shown = swarm.length > 80 ? `${swarm.slice(0, 80)}...` : swarm;
      return c.body(dashboardPage(nonce, `?swarm= must be a 40 hex character info-hash, not "${shown}"`), 400, headers);
    }
    const hex = swarm.toLowerCase();
    const stats = await c.env.SWARM.get(c.env.SWARM.idFromName(hex)).stats({ publisher: false, series: false });
    if (stats === undefined) {
      return c.body(dashboardPage(nonce, `no swarm with this info-hash on this edge: ${hex} was never announced, published or served here`), 404, headers);
    }
  }
  return c.body(dashboardPage(nonce), 200, headers);
});
