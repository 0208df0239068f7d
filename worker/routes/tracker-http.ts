import { Hono, type Context } from 'hono';
import type { Env } from '../env.js';
import { TrackerError } from '../../shared/errors.js';
import { encodeFailure, encodeScrapeResponse } from '../../shared/tracker/http-response.js';
import { parseAnnounceQuery, parseGetPeerQuery, parseScrapeQuery } from '../../shared/tracker/http-query.js';
import { connectingIp } from '../client-ip.js';
import { passkeyUserOf } from '../access/passkeys.js';
import { accessFor, announceHttp, getPeersHttp, OVERLOAD_RETRY_MINUTES, scrapeSwarms } from '../tracker/tracker-service.js';
import { answerFromView, rememberSnapshot, viewAnswerBody } from '../tracker/swarm-views.js';
import { toHex } from '../../shared/bytes.js';
import { countRefusal, getPeerRefusalOf, type GetPeerRefusal } from '../stats/refusal-counts.js';

/**
 * The HTTP tracker (BEP 3, 7, 21, 23, 24, 31, 48): `/announce` and `/scrape`, PPSP Get-Peer
 * at `/peers`, and the same under `/p/:passkey/` for private torrents. Every answer is bencoded with status 200, failures
 * included, as clients expect; nothing a client sends can produce a 500.
 */
export const trackerHttp = new Hono<{ Bindings: Env }>();

const BENCODE_TYPE = { 'content-type': 'text/plain; charset=binary', 'cache-control': 'no-store' };

function bencoded(c: Context, body: Uint8Array): Response {
  return c.body(body as Uint8Array<ArrayBuffer>, 200, BENCODE_TYPE);
}

function failure(c: Context, reason: string, retryIn?: number | 'never'): Response {
  return bencoded(c, encodeFailure({ failure: reason, ...(retryIn !== undefined ? { retryIn } : {}) }));
}

function rawQuery(c: Context): string {
  const url = c.req.url;
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
}

function passkeyUser(c: Context<{ Bindings: Env }>): Promise<string | undefined | false> {
  return passkeyUserOf(c.env.PASSKEY_SECRET, c.req.param('passkey'));
}

async function announce(c: Context<{ Bindings: Env }>): Promise<Response> {
  try {
    const user = await passkeyUser(c);
    // A bad passkey is refused here, before any swarm is touched.
    if (user === false) return failure(c, 'unknown passkey: get your announce URL from the publisher', 'never');
    const params = parseAnnounceQuery(rawQuery(c));
    const host = connectingIp(c.req.raw);
    if (host === undefined) return failure(c, 'cannot tell your address', OVERLOAD_RETRY_MINUTES);
    const hex = toHex(params.infoHash);
    // Plain re-announces are answered from this isolate's view of the swarm (tracker/swarm-views.ts).
    const fast = answerFromView(c.env, hex, params, { host }, accessFor(c.env, user), (p) => c.executionCtx.waitUntil(p));
    if (fast) return bencoded(c, viewAnswerBody(fast, host));
    const answer = await announceHttp(c.env, params, { host }, user, user === undefined);
    if (!answer.ok) return failure(c, answer.failure, answer.retryIn);
    if (answer.snapshot) rememberSnapshot(hex, answer.snapshot);
    return bencoded(c, answer.body);
  } catch (err) {
    if (err instanceof TrackerError) return failure(c, err.message, err.retryIn);
    throw err;
  }
}

/**
 * PPSP Get-Peer: peers of a swarm for a viewer that is only looking (it is not added, no count
 * moves); bounds, access and peer selection as for an announce. Every refusal is counted by its
 * reason (worker/stats/refusal-counts.ts; GET /stats, publisher view).
 */
async function getPeers(c: Context<{ Bindings: Env }>): Promise<Response> {
  const refuse = (reason: GetPeerRefusal, text: string, retryIn?: number | 'never'): Response => {
    countRefusal(c.env, 'getPeer', reason, (p) => c.executionCtx.waitUntil(p));
    return failure(c, text, retryIn);
  };
  try {
    const user = await passkeyUser(c);
    if (user === false) return refuse('unknown-passkey', 'unknown passkey: get your announce URL from the publisher', 'never');
    const params = parseGetPeerQuery(rawQuery(c));
    const host = connectingIp(c.req.raw);
    if (host === undefined) return refuse('no-address', 'cannot tell your address', OVERLOAD_RETRY_MINUTES);
    const answer = await getPeersHttp(c.env, params, { host }, user);
    // The swarm names the access rule that refused; a refusal without one is tracker-service's
    // answer for a swarm object that failed.
    if (!answer.ok) return refuse(answer.reason ?? 'busy', answer.failure, answer.retryIn);
    return bencoded(c, answer.body);
  } catch (err) {
    if (err instanceof TrackerError) return refuse(getPeerRefusalOf(err), err.message, err.retryIn);
    throw err;
  }
}

async function scrape(c: Context<{ Bindings: Env }>): Promise<Response> {
  try {
    const user = await passkeyUser(c);
    if (user === false) return failure(c, 'unknown passkey: get your announce URL from the publisher', 'never');
    const { infoHashes } = parseScrapeQuery(rawQuery(c));
    const files = await scrapeSwarms(c.env, infoHashes, user);
    return bencoded(c, encodeScrapeResponse(files));
  } catch (err) {
    if (err instanceof TrackerError) return failure(c, err.message, err.retryIn);
    console.error('scrape failed', err);
    return failure(c, 'tracker busy, try again shortly', OVERLOAD_RETRY_MINUTES);
  }
}

trackerHttp.get('/announce', announce);
trackerHttp.get('/scrape', scrape);
trackerHttp.get('/p/:passkey/announce', announce);
trackerHttp.get('/p/:passkey/scrape', scrape);
trackerHttp.get('/peers', getPeers);
trackerHttp.get('/p/:passkey/peers', getPeers);
