import type { MiddlewareHandler } from 'hono';
import type { Env } from '../env.js';
import { secretsEqual } from './secrets.js';

/** Publisher routes: `Authorization: Bearer PUBLISH_TOKEN`. */
export const requirePublisher: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const token = c.env.PUBLISH_TOKEN;
  if (!token) return c.json({ error: 'the publisher API is disabled: set the PUBLISH_TOKEN secret' }, 503);
  const header = c.req.header('authorization') ?? '';
  const given = /^Bearer (.+)$/.exec(header)?.[1];
  if (given === undefined) return c.json({ error: 'missing Authorization: Bearer <publish token>' }, 401);
  if (!(await secretsEqual(given, token))) return c.json({ error: 'wrong publish token' }, 403);
  await next();
  return undefined;
};
