import { Hono, type Context } from 'hono';
import type { Env } from '../env.js';
import { requirePublisher } from '../access/bearer.js';
import { USER_PATTERN } from '../access/passkeys.js';
import { beginPublish, completePublish, PART_SIZE, PublishError, uploadPart } from '../publish/publish-service.js';

/**
 * The publisher API (bearer token): begin with the info dictionary, upload each file in parts,
 * complete. The edge checks every piece before it serves or tracks anything; a publication
 * that stops halfway leaves nothing published, and calling the same steps again finishes it.
 */
export const publish = new Hono<{ Bindings: Env }>();

publish.use('*', requirePublisher);

function answerError(c: Context, err: unknown): Response {
  if (err instanceof PublishError) return c.json({ error: err.message }, err.status);
  throw err;
}

const HEX40 = /^[0-9a-f]{40}$/;

/** `POST /api/publish` `{ "info": base64 of the bencoded info dictionary, "user"?: passkey owner }` */
publish.post('/', async (c) => {
  let body: { info?: unknown; user?: unknown };
  try {
    body = await c.req.json();
  } catch {
    return c.json({ error: 'body must be JSON: {"info": "<base64 of the bencoded info dictionary>"}' }, 400);
  }
  if (typeof body !== 'object' || body === null) return c.json({ error: 'body must be a JSON object' }, 400);
  if (typeof body.info !== 'string') return c.json({ error: '"info" must be the base64 of the bencoded info dictionary' }, 400);
  const user = body.user ?? 'publisher';
  if (typeof user !== 'string' || !USER_PATTERN.test(user)) return c.json({ error: '"user" must be 1-32 of a-z, 0-9, _ and -' }, 400);
  let info: Uint8Array;
  try {
    info = Uint8Array.from(atob(body.info), (ch) => ch.charCodeAt(0));
  } catch {
    return c.json({ error: '"info" is not valid base64' }, 400);
  }
  try {
    return c.json(await beginPublish(c.env, info, user));
  } catch (err) {
    return answerError(c, err);
  }
});

/** `PUT /api/publish/:infoHash/files/:index?part=N`: the bytes of one part (1-based). */
publish.put('/:infoHash/files/:index', async (c) => {
  const hex = c.req.param('infoHash');
  const index = Number(c.req.param('index'));
  const part = Number(c.req.query('part') ?? '1');
  if (!HEX40.test(hex)) return c.json({ error: 'info-hash must be 40 lower-case hex characters' }, 400);
  if (!Number.isInteger(index) || index < 0) return c.json({ error: 'file index must be a whole number' }, 400);
  if (Number(c.req.header('content-length') ?? 0) > PART_SIZE) return c.json({ error: `a part is at most ${PART_SIZE} bytes` }, 413);
  const body = new Uint8Array(await c.req.arrayBuffer());
  if (body.length > PART_SIZE) return c.json({ error: `a part is at most ${PART_SIZE} bytes` }, 413);
  try {
    return c.json(await uploadPart(c.env, hex, index, part, body));
  } catch (err) {
    return answerError(c, err);
  }
});

/** `POST /api/publish/:infoHash/complete`: verify, publish, and answer with the .torrent. */
publish.post('/:infoHash/complete', async (c) => {
  const hex = c.req.param('infoHash');
  if (!HEX40.test(hex)) return c.json({ error: 'info-hash must be 40 lower-case hex characters' }, 400);
  try {
    const torrent = await completePublish(c.env, hex, new URL(c.req.url).origin);
    return c.body(torrent as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/x-bittorrent', 'x-info-hash': hex });
  } catch (err) {
    return answerError(c, err);
  }
});
