import { Hono } from 'hono';
import type { Env } from '../env.js';
import { fromHex } from '../../shared/bytes.js';
import { requirePublisher } from '../access/bearer.js';
import { passkeyFor, USER_PATTERN } from '../access/passkeys.js';
import { registerTorrent, torrentRegistration } from '../tracker/tracker-service.js';
import { seededTorrent } from '../seed/catalog.js';
import { PublishError, torrentFor } from '../publish/publish-service.js';

/** The publisher API: registering torrents with the tracker and handing out passkeys. */
export const api = new Hono<{ Bindings: Env }>();

api.use('*', requirePublisher);

function infoHashParam(text: string): Uint8Array | undefined {
  return /^[0-9a-fA-F]{40}$/.test(text) ? fromHex(text) : undefined;
}

/** `PUT /api/torrents/:infoHash` `{ "private": bool }`: track this torrent (BEP 27 when private). */
api.put('/torrents/:infoHash', async (c) => {
  const infoHash = infoHashParam(c.req.param('infoHash'));
  if (!infoHash) return c.json({ error: 'info-hash must be 40 hex characters' }, 400);
  let body: unknown = {};
  if ((c.req.header('content-length') ?? '0') !== '0') {
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: 'body must be JSON like {"private": true}' }, 400);
    }
  }
  const priv = (body as { private?: unknown }).private;
  if (priv !== undefined && typeof priv !== 'boolean') return c.json({ error: '"private" must be true or false' }, 400);
  await registerTorrent(c.env, infoHash, { private: priv === true });
  return c.json({ infoHash: c.req.param('infoHash').toLowerCase(), registered: true, private: priv === true });
});

api.get('/torrents/:infoHash', async (c) => {
  const infoHash = infoHashParam(c.req.param('infoHash'));
  if (!infoHash) return c.json({ error: 'info-hash must be 40 hex characters' }, 400);
  return c.json({ infoHash: c.req.param('infoHash').toLowerCase(), ...(await torrentRegistration(c.env, infoHash)) });
});

/** `GET /api/torrents/:infoHash/torrent?user=alice`: a published torrent, with alice's passkey if private. */
api.get('/torrents/:infoHash/torrent', async (c) => {
  const hex = c.req.param('infoHash').toLowerCase();
  if (!/^[0-9a-f]{40}$/.test(hex)) return c.json({ error: 'info-hash must be 40 hex characters' }, 400);
  const user = c.req.query('user') ?? 'publisher';
  if (!USER_PATTERN.test(user)) return c.json({ error: 'user must be 1-32 of a-z, 0-9, _ and -' }, 400);
  const torrent = await seededTorrent(c.env, hex);
  if (!torrent) return c.json({ error: 'no published torrent with this info-hash' }, 404);
  try {
    const bytes = await torrentFor(c.env, torrent.metainfo.infoBytes, torrent.metainfo.info, hex, new URL(c.req.url).origin, user);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/x-bittorrent' });
  } catch (err) {
    if (err instanceof PublishError) return c.json({ error: err.message }, err.status);
    throw err;
  }
});

/** `POST /api/passkeys` `{ "user": "alice" }`: the user's passkey and private announce URL. */
api.post('/passkeys', async (c) => {
  const secret = c.env.PASSKEY_SECRET;
  if (!secret) return c.json({ error: 'private torrents are disabled: set the PASSKEY_SECRET secret' }, 503);
  let user: unknown;
  try {
    user = ((await c.req.json()) as { user?: unknown }).user;
  } catch {
    return c.json({ error: 'body must be JSON like {"user": "alice"}' }, 400);
  }
  if (typeof user !== 'string' || !USER_PATTERN.test(user)) {
    return c.json({ error: 'user must be 1-32 of a-z, 0-9, _ and -, starting with a letter or digit' }, 400);
  }
  const passkey = await passkeyFor(secret, user);
  const origin = new URL(c.req.url).origin;
  return c.json({ user, passkey, announce: `${origin}/p/${passkey}/announce` });
});
