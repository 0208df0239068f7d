import { Hono, type Context } from 'hono';
import type { Env } from '../env.js';
import { parseRange } from '../../shared/http/range.js';
import { Bep17Error, bep17Ranges, parseBep17Query, type Bep17Ranges } from '../../shared/http/bep17-query.js';
import { toHex } from '../../shared/bytes.js';
import { ContentMissingError, readChunkSlice, readFileRange } from '../seed/file-reader.js';
import { seededTorrent } from '../seed/catalog.js';
import { torrentFor } from '../publish/publish-service.js';
import { admit, busyResponse, clientAddress } from '../seed/seed-gate.js';
import { connectingIp } from '../client-ip.js';
import { countEdgeBytes } from '../stats/edge-bytes.js';
import { passkeyUserOf } from '../access/passkeys.js';
import { STORAGE_RETRY_SECONDS, StorageUnavailableError } from '../faults.js';

/**
 * The HTTP seed, reading from R2: BEP 19 (GetRight-style) `GET|HEAD /seed/:infoHash/NAME[/PATH]`
 * with single byte ranges, and BEP 17 (Hoffman-style) `GET /seed17?info_hash=&piece=&ranges=`.
 * Bytes are streamed from R2, never held whole. A private torrent (BEP 27) is seeded only under
 * a member's passkey, `/p/PASSKEY/seed/...` and `/p/PASSKEY/seed17`, the URLs its .torrent
 * carries: its bytes are for its members, as its swarm is.
 */
export const seed = new Hono<{ Bindings: Env }>();

const HEX40 = /^[0-9a-f]{40}$/i;

function problem(c: Context, status: 400 | 403 | 404 | 416, reason: string, headers: Record<string, string> = {}): Response {
  return c.text(`${reason}\n`, status, headers);
}

/**
 * R2 failed for this request: 503 with Retry-After, the body the seconds to wait (what BEP 17
 * clients read; BEP 19 clients honour Retry-After), so that the client retries this piece soon.
 */
function storageBusy(err: StorageUnavailableError): Response {
  console.error('seed read failed', err);
  return busyResponse({ ok: false, retryAfter: STORAGE_RETRY_SECONDS, reason: 'storage unavailable: try again' });
}

/** seededTorrent, with an R2 failure answered as storageBusy. */
async function published(env: Env, hex: string): Promise<Awaited<ReturnType<typeof seededTorrent>> | Response> {
  try {
    return await seededTorrent(env, hex);
  } catch (err) {
    if (err instanceof StorageUnavailableError) return storageBusy(err);
    throw err;
  }
}

/**
 * A private torrent's bytes go only to a member: the request must come under a valid passkey.
 * A public torrent is served without one; under a passkey that is not ours it is refused like
 * any /p/ route (the tracker's refuse a forged passkey whatever the torrent), so that a forged
 * key never reads as accepted. Undefined when allowed, else the refusal.
 */
async function membersOnly(c: Context<{ Bindings: Env }>, isPrivate: boolean): Promise<Response | undefined> {
  const user = await passkeyUserOf(c.env.PASSKEY_SECRET, c.req.param('passkey'));
  if (user === false) return problem(c, 403, 'unknown passkey: get your .torrent from the publisher');
  if (isPrivate && user === undefined) return problem(c, 403, 'a private torrent is seeded to its members only: use the web seed URLs of your own .torrent (/p/PASSKEY/seed/...)');
  return undefined;
}

async function getOrHead(c: Context<{ Bindings: Env }>, head: boolean): Promise<Response> {
  const hex = c.req.param('infoHash')!.toLowerCase();
  if (!HEX40.test(hex)) return problem(c, 400, 'the seed URL is /seed/<40 hex info-hash>/<name>[/<path>]');
  const torrent = await published(c.env, hex);
  if (torrent instanceof Response) return torrent;
  if (!torrent) return problem(c, 404, 'no published torrent with this info-hash');
  const refused = await membersOnly(c, torrent.metainfo.info.private === true);
  if (refused) return refused;
  // The path after the info-hash (after /seed/HASH/, or /p/PASSKEY/seed/HASH/), decoded segment
  // by segment and matched against the torrent's own file list: nothing outside it can be
  // named, whatever the dots and slashes say.
  const segments = new URL(c.req.url).pathname.split('/');
  const raw = segments.slice(c.req.param('passkey') === undefined ? 3 : 5).join('/');
  let path: string;
  try {
    path = raw.split('/').map(decodeURIComponent).join('/');
  } catch {
    // Some clients send names with a bare '%' unescaped: then the path is the name as sent.
    path = raw;
  }
  const index = torrent.paths.get(path) ?? torrent.paths.get(raw);
  if (index === undefined) return problem(c, 404, `the torrent has no file ${JSON.stringify(path.slice(0, 200))}`);
  const size = torrent.metainfo.info.files[index]!.length;
  const etag = `"${hex}-${index}"`;
  const lastModified = torrent.publishedAt.toUTCString();
  // RFC 9110 13.1.5: a Range under an If-Range that names another version is ignored (whole file).
  const ifRange = c.req.header('if-range');
  const rangeHeader = ifRange === undefined || ifRange === etag || ifRange === lastModified ? c.req.header('range') : undefined;
  const range = parseRange(rangeHeader, size);
  if (range.kind === 'malformed') return problem(c, 400, range.reason);
  if (range.kind === 'unsatisfiable') return problem(c, 416, range.reason, { 'content-range': `bytes */${size}` });
  const [start, end] = range.kind === 'range' ? [range.range.start, range.range.end] : [0, size - 1];
  const length = end - start + 1;
  if (!head) {
    const decision = await admit(c.env, hex, clientAddress(connectingIp(c.req.raw)), length, (p) => c.executionCtx.waitUntil(p));
    if (!decision.ok) return busyResponse(decision);
  }
  const headers: Record<string, string> = {
    'accept-ranges': 'bytes',
    'content-type': 'application/octet-stream',
    // Published content never changes: the info-hash and file index identify the bytes.
    etag,
    'last-modified': lastModified,
    'cache-control': 'public, max-age=31536000, immutable',
    'content-length': String(Math.max(0, length)),
  };
  let body: BodyInit | null = null;
  if (!head && length > 0) {
    try {
      const slice = await readChunkSlice(c.env, hex, index, start, length, size);
      body = slice ?? fixedLength(c, readFileRange(c.env, hex, index, start, length, size), length);
    } catch (err) {
      if (err instanceof ContentMissingError) return c.text(`${err.message}; try again later\n`, 503, { 'retry-after': '60' });
      if (err instanceof StorageUnavailableError) return storageBusy(err);
      throw err;
    }
    // For the dashboard: the bytes this answer carries, batched in memory (no call per request).
    countEdgeBytes(c.env, hex, length, (p) => c.executionCtx.waitUntil(p));
  }
  if (range.kind === 'range') {
    headers['content-range'] = `bytes ${start}-${end}/${size}`;
    return new Response(body, { status: 206, headers });
  }
  return new Response(body, { status: 200, headers });
}

/**
 * A stream whose length the runtime knows, so that the response carries Content-Length (clients
 * check it against the range they asked for) rather than chunked encoding.
 */
function fixedLength(c: Context, stream: ReadableStream<Uint8Array>, length: number): ReadableStream<Uint8Array> {
  const { readable, writable } = new FixedLengthStream(length);
  c.executionCtx.waitUntil(stream.pipeTo(writable).catch(() => undefined));
  return readable as ReadableStream<Uint8Array>;
}

/**
 * `GET /t/<info-hash>.torrent`: a published public torrent for anyone (the `xs=` of the magnets
 * `peer-node publish` prints), so a magnet works before any peer is online. Private torrents
 * carry a user's passkey and come only from the publisher API.
 */
seed.get('/t/:file', async (c) => {
  const m = /^([0-9a-f]{40})\.torrent$/i.exec(c.req.param('file'));
  if (!m) return problem(c, 400, 'the torrent URL is /t/<40 hex info-hash>.torrent');
  const hex = m[1]!.toLowerCase();
  const torrent = await seededTorrent(c.env, hex);
  if (!torrent) return problem(c, 404, 'no published torrent with this info-hash');
  if (torrent.metainfo.info.private) return problem(c, 403, 'a private torrent comes from the publisher API, with your passkey');
  const bytes = await torrentFor(c.env, torrent.metainfo.infoBytes, torrent.metainfo.info, hex, new URL(c.req.url).origin, 'publisher');
  return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/x-bittorrent', 'cache-control': 'public, max-age=300' });
});

// Hono answers HEAD with the GET route (and drops the body): the method tells them apart, so a
// HEAD is neither charged to the throttle nor read from R2 nor counted as edge bytes.
seed.get('/seed/:infoHash/*', (c) => getOrHead(c, c.req.method === 'HEAD'));
seed.get('/p/:passkey/seed/:infoHash/*', (c) => getOrHead(c, c.req.method === 'HEAD'));

/** BEP 17: `info_hash` (raw 20 bytes), `piece`, and optional `ranges=a-b,c-d` inside the piece. */
async function seed17(c: Context<{ Bindings: Env }>): Promise<Response> {
  const url = c.req.url;
  // The query is read before any lookup (400), the piece and ranges once the torrent is known.
  let torrent;
  let wanted: Bep17Ranges;
  try {
    const query = parseBep17Query(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
    torrent = await published(c.env, toHex(query.infoHash));
    if (torrent instanceof Response) return torrent;
    if (!torrent) return problem(c, 404, 'no published torrent with this info_hash');
    const refused = await membersOnly(c, torrent.metainfo.info.private === true);
    if (refused) return refused;
    wanted = bep17Ranges(query, torrent.geometry);
  } catch (err) {
    // The query's faults (400) and a piece or range outside the torrent (416).
    if (err instanceof Bep17Error) return problem(c, err.status, err.message);
    throw err;
  }
  const { piece, ranges } = wanted;
  // Each range may cross file boundaries: one ranged R2 read per file span, streamed in order.
  const spans = ranges.flatMap(([start, end]) => torrent.geometry.pieceRangeToFiles(piece, start, end - start + 1));
  const total = spans.reduce((n, s) => n + s.length, 0);
  const decision = await admit(c.env, torrent.hex, clientAddress(connectingIp(c.req.raw)), total, (p) => c.executionCtx.waitUntil(p));
  if (!decision.ok) return busyResponse(decision);
  const env = c.env;
  const hex = torrent.hex;
  const files = torrent.metainfo.info.files;
  let next = 0;
  let current: ReadableStreamDefaultReader<Uint8Array> | undefined;
  // The first chunk is read before answering, so that an R2 failure is still a 503 with
  // Retry-After rather than a 200 cut short (a whole aligned piece is one chunk).
  let first: Uint8Array | undefined;
  const opening = spans[0];
  if (opening && !files[opening.fileIndex]!.padding) {
    current = readFileRange(env, hex, opening.fileIndex, opening.fileOffset, opening.length, files[opening.fileIndex]!.length).getReader();
    next = 1;
    try {
      const r = await current.read();
      if (r.done) current = undefined;
      else first = r.value;
    } catch (err) {
      if (err instanceof StorageUnavailableError) return storageBusy(err);
      if (err instanceof ContentMissingError) return c.text(`${err.message}; try again later\n`, 503, { 'retry-after': '60' });
      throw err;
    }
  }
  countEdgeBytes(c.env, torrent.hex, total, (p) => c.executionCtx.waitUntil(p));
  // One chunk per pull: a client that stops reading holds at most one chunk here.
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (first) {
        controller.enqueue(first);
        first = undefined;
        return;
      }
      for (;;) {
        if (current) {
          const r = await current.read();
          if (!r.done) {
            controller.enqueue(r.value);
            return;
          }
          current = undefined;
        }
        const span = spans[next++];
        if (!span) {
          controller.close();
          return;
        }
        if (files[span.fileIndex]!.padding) {
          controller.enqueue(new Uint8Array(span.length)); // BEP 47: padding is zeros
          return;
        }
        current = readFileRange(env, hex, span.fileIndex, span.fileOffset, span.length, files[span.fileIndex]!.length).getReader();
      }
    },
  });
  return new Response(fixedLength(c, stream, total), { status: 200, headers: { 'content-type': 'application/octet-stream', 'content-length': String(total) } });
}

seed.get('/seed17', seed17);
seed.get('/p/:passkey/seed17', seed17);
