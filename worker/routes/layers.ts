import { Hono, type Context } from 'hono';
import type { Env } from '../env.js';
import { requirePublisher } from '../access/bearer.js';
import { readBoundedBody } from '../bounded-body.js';
import { seededTorrent } from '../seed/catalog.js';
import { LayerInfoError } from '../../shared/errors.js';
import { MAX_LAYER_INFO_BYTES, parseLayerInfo } from '../../shared/layers/layer-info.js';

/**
 * Layer info of layered assets (the PPSP survey's PUT-LAYER / GET-LAYER), kept by the swarm of
 * the asset's torrent, and the active layers its peers report (LAYER-CHANGE, `layer=` in
 * announces):
 * - `PUT /layers/:infoHash` (publisher token): store; answers `{ ok, infoHash, layers }`.
 * - `GET /layers/:infoHash`: the stored layer info.
 * - `GET /layers/:infoHash/active`: `{ peers, byLayer: { "<layer>": count } }`.
 */
export const layers = new Hono<{ Bindings: Env }>();

/** The lower-case hex info-hash of the path, or undefined when it is not 40 hex characters. */
function infoHashParam(c: Context): string | undefined {
  const text = c.req.param('infoHash') ?? '';
  return /^[0-9a-fA-F]{40}$/.test(text) ? text.toLowerCase() : undefined;
}

const BAD_HASH = { error: 'info-hash must be 40 hex characters' };

function swarm(env: Env, hex: string) {
  return env.SWARM.get(env.SWARM.idFromName(hex));
}

layers.put('/:infoHash', requirePublisher, async (c) => {
  const hex = infoHashParam(c);
  if (!hex) return c.json(BAD_HASH, 400);
  const body = await readBoundedBody(c.req.raw, MAX_LAYER_INFO_BYTES);
  if (body === 'too-large') return c.json({ error: `layer info is over ${MAX_LAYER_INFO_BYTES} bytes`, code: 'layers.too-large' }, 413);
  // When the torrent was published here, segments are checked against its real file lengths
  // (BEP 47 padding files included: layer `file` indices count them, as the torrent does).
  const torrent = await seededTorrent(c.env, hex);
  const fileLengths = torrent?.metainfo.info.files.map((f) => f.length);
  let info;
  try {
    info = parseLayerInfo(body, fileLengths);
  } catch (err) {
    if (err instanceof LayerInfoError) return c.json({ error: err.message, code: err.code }, 400);
    throw err;
  }
  await swarm(c.env, hex).putLayerInfo(JSON.stringify(info), { layers: info.layers.length, mode: info.mode });
  return c.json({ ok: true, infoHash: hex, layers: info.layers.length });
});

layers.get('/:infoHash', async (c) => {
  const hex = infoHashParam(c);
  if (!hex) return c.json(BAD_HASH, 400);
  const json = await swarm(c.env, hex).layerInfo();
  if (json === undefined) return c.json({ error: 'no layer info for this info-hash' }, 404);
  return c.body(json, 200, { 'content-type': 'application/json' });
});

layers.get('/:infoHash/active', async (c) => {
  const hex = infoHashParam(c);
  if (!hex) return c.json(BAD_HASH, 400);
  const active = await swarm(c.env, hex).activeLayers();
  if (!active.known) return c.json({ error: 'no swarm for this info-hash' }, 404);
  // BEP 27: who is in a private swarm is for its members, as its scrape counts are.
  if (active.private) return c.json({ error: 'private torrent: its swarm is for its members' }, 403);
  return c.json({ peers: active.peers, byLayer: active.byLayer });
});
