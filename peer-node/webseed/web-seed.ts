import type { RateLimiter } from '../engine/rate-limiter.js';
import { type Dispatcher, request } from 'undici';
import { escapeBytes } from '../../shared/tracker/http-query.js';
import type { InfoDict } from '../../shared/metainfo/info-dict.js';
import type { TorrentGeometry } from '../../shared/metainfo/geometry.js';

/** BEP 19 (`url-list`, GetRight style) or BEP 17 (`httpseeds`, Hoffman style). */
export type WebSeedKind = 'url-list' | 'httpseeds';

export interface WebSeedOptions {
  /** A request with no progress for this long is abandoned (default 20 s). */
  timeoutMs?: number;
  /** Wait after the first error in a row; doubles with each further one (default 5 s). */
  backoffMs?: number;
  /** Longest wait between tries (default 5 minutes). */
  maxBackoffMs?: number;
  /** Follow redirects to another host (default false: same host only; BEP 19 names one server). */
  crossHostRedirects?: boolean;
  /** The client's download cap, shared with its peer connections. */
  downloadLimiter?: RateLimiter;
}

/** A web seed request that failed; `retryAfterMs` when the server said how long to wait. */
export class WebSeedError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'WebSeedError';
  }
}

const MAX_REDIRECTS = 3;
/** A 503's wait is taken at its word between these (BEP 17 servers send seconds in the body). */
const MIN_RETRY_AFTER_MS = 1000;
const MAX_RETRY_AFTER_MS = 60 * 60_000;
/** A piece must arrive at least this fast, or its request is abandoned (a trickling server). */
const MIN_PIECE_RATE = 32 * 1024;

/**
 * One HTTP seed of one torrent. `fetchPiece` returns a whole piece's bytes: for BEP 19 one
 * ranged GET per file the piece covers (under the file's URL, `url/NAME/PATH` for a multi-file
 * torrent), for BEP 17 `url?info_hash=&piece=`. BEP 47 padding reads as zeros without a request.
 * Errors put the seed off for a while (backoff, or the server's 503 wait); a seed whose bytes
 * fail the hash check is dropped for good by its torrent (`drop`).
 */
export class WebSeed {
  /** Requests out, and pieces received whose hash is being checked (both hold a slot). */
  inFlight = 0;
  checking = 0;
  /** Bytes this seed delivered, and requests that failed in a row. */
  bytes = 0;
  failures = 0;
  /** Not used again before this time (ms). */
  retryAt = 0;
  /** Why the torrent stopped using this seed, once it has. */
  dropped?: string;
  lastError?: string;
  private readonly options: Required<Omit<WebSeedOptions, 'downloadLimiter'>> & Pick<WebSeedOptions, 'downloadLimiter'>;

  constructor(
    readonly url: string,
    readonly kind: WebSeedKind,
    private readonly info: InfoDict,
    private readonly infoHash: Uint8Array,
    private readonly geometry: TorrentGeometry,
    private readonly dispatcher: Dispatcher,
    options: WebSeedOptions = {},
  ) {
    this.options = { timeoutMs: 20_000, backoffMs: 5_000, maxBackoffMs: 5 * 60_000, crossHostRedirects: false, ...options };
  }

  usable(now: number): boolean {
    return !this.dropped && now >= this.retryAt;
  }

  drop(reason: string): void {
    this.dropped = reason;
  }

  /** The URL of file `index` under a BEP 19 seed. */
  fileUrl(index: number): string {
    const enc = (s: string) => encodeURIComponent(s);
    if (!this.info.multiFile) return this.url.endsWith('/') ? this.url + enc(this.info.name) : this.url;
    const base = this.url.endsWith('/') ? this.url : `${this.url}/`;
    return `${base}${enc(this.info.name)}/${this.info.files[index]!.path.map(enc).join('/')}`;
  }

  /** Fetches piece `index`; throws WebSeedError (and backs off) on any failure. */
  async fetchPiece(index: number, caller?: AbortSignal): Promise<Uint8Array> {
    this.inFlight++;
    // Besides undici's timeouts (no progress for timeoutMs), a deadline for the whole piece, so
    // a server sending a byte every few seconds cannot hold the piece forever.
    // Under our own download cap the piece shares the link with everything else in flight: the
    // deadline allows the cap's share too, or a slow link would time out every edge fetch.
    const cap = this.options.downloadLimiter?.bytesPerSecond;
    const rate = cap === undefined ? MIN_PIECE_RATE : Math.min(MIN_PIECE_RATE, cap / 8);
    const limit = Math.ceil(this.options.timeoutMs + (this.geometry.pieceSize(index) / rate) * 1000);
    const signal = caller ? AbortSignal.any([caller, AbortSignal.timeout(limit)]) : AbortSignal.timeout(limit);
    try {
      const piece = this.kind === 'httpseeds' ? await this.fetchBep17(index, signal) : await this.fetchBep19(index, signal);
      this.failures = 0;
      this.lastError = undefined;
      this.bytes += piece.length;
      return piece;
    } catch (err) {
      const timedOut = signal.aborted && !caller?.aborted;
      const e = err instanceof WebSeedError ? err : new WebSeedError(caller?.aborted ? 'aborted' : timedOut ? `timeout: no whole piece within ${Math.round(limit / 1000)} s` : (err as Error).message);
      if (!caller?.aborted) {
        this.failures++;
        this.lastError = e.message;
        const backoff = Math.min(this.options.backoffMs * 2 ** (this.failures - 1), this.options.maxBackoffMs);
        // A server's own wait is honoured, but never below a second: "retry at once" would loop.
        const wait = e.retryAfterMs !== undefined ? Math.max(e.retryAfterMs, MIN_RETRY_AFTER_MS) : backoff;
        this.retryAt = Date.now() + wait;
      }
      throw e;
    } finally {
      this.inFlight--;
    }
  }

  private async fetchBep19(index: number, signal?: AbortSignal): Promise<Uint8Array> {
    const piece = new Uint8Array(this.geometry.pieceSize(index));
    let at = 0;
    for (const span of this.geometry.pieceRangeToFiles(index, 0, piece.length)) {
      if (!this.info.files[span.fileIndex]!.padding) {
        const range = `bytes=${span.fileOffset}-${span.fileOffset + span.length - 1}`;
        await this.get(this.fileUrl(span.fileIndex), { range }, piece.subarray(at, at + span.length), signal, true);
      }
      at += span.length;
    }
    return piece;
  }

  private async fetchBep17(index: number, signal?: AbortSignal): Promise<Uint8Array> {
    const piece = new Uint8Array(this.geometry.pieceSize(index));
    const url = `${this.url}${this.url.includes('?') ? '&' : '?'}info_hash=${escapeBytes(this.infoHash)}&piece=${index}`;
    await this.get(url, {}, piece, signal, false);
    return piece;
  }

  /** GETs `url` into `into`, which the answer must fill exactly (a 206 for a ranged request). */
  private async get(url: string, headers: Record<string, string>, into: Uint8Array, signal: AbortSignal | undefined, ranged: boolean): Promise<void> {
    let target = url;
    for (let hop = 0; ; hop++) {
      const res = await request(target, {
        method: 'GET',
        headers,
        dispatcher: this.dispatcher,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
        ...(signal ? { signal } : {}),
      });
      const status = res.statusCode;
      if (status >= 300 && status < 400 && res.headers.location) {
        await res.body.dump();
        const next = new URL(String(res.headers.location), target);
        if (hop >= MAX_REDIRECTS) throw new WebSeedError(`more than ${MAX_REDIRECTS} redirects`);
        if (next.host !== new URL(target).host && !this.options.crossHostRedirects) throw new WebSeedError(`redirect to another host (${next.host}) refused`);
        if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new WebSeedError(`redirect to ${next.protocol} refused`);
        target = next.href;
        continue;
      }
      if (status === 503) {
        const text = (await readSome(res.body, 100)).trim();
        // BEP 17: the body is the seconds to wait; HTTP: Retry-After (seconds). Empty is no answer.
        const said = String(res.headers['retry-after'] ?? '').trim() || text;
        const seconds = /^\d+(\.\d+)?$/.test(said) ? Number(said) : NaN;
        throw new WebSeedError(`busy (503)`, Number.isFinite(seconds) ? Math.min(seconds * 1000, MAX_RETRY_AFTER_MS) : undefined);
      }
      if (ranged ? status !== 206 && status !== 200 : status !== 200) {
        await res.body.dump();
        throw new WebSeedError(`HTTP ${status} for ${target}`);
      }
      // A 200 to a ranged request is the whole file: usable only from its first byte.
      if (ranged && status === 200 && !/^bytes=0-/.test(headers.range!)) {
        await res.body.dump();
        throw new WebSeedError('the server ignores Range');
      }
      if (status === 206) {
        // The range must be the one we asked for, not another part of the file.
        const asked = /^bytes=(\d+)-/.exec(headers.range!)![1];
        const got = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''))?.[1];
        if (got !== asked) {
          await res.body.dump();
          throw new WebSeedError(`asked for ${headers.range}, got Content-Range ${String(res.headers['content-range'] ?? 'none')}`);
        }
      }
      await readExactly(res.body, into, status === 206 || !ranged, this.options.downloadLimiter);
      return;
    }
  }
}

/** The first `max` bytes of a body as text; the rest is not read (a huge error page costs nothing). */
async function readSome(body: Dispatcher.ResponseData['body'], max: number): Promise<string> {
  let text = '';
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    text += Buffer.from(chunk).toString('latin1');
    if (text.length >= max) {
      body.destroy();
      break;
    }
  }
  return text.slice(0, max);
}

/**
 * Reads the body into `into`. `exact`: the body must be exactly that long (a 206, or a BEP 17
 * piece); otherwise (a whole file answering a range from 0) the rest is cut off.
 */
async function readExactly(body: Dispatcher.ResponseData['body'], into: Uint8Array, exact: boolean, limiter?: RateLimiter): Promise<void> {
  let at = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    if (limiter) await limiter.take(chunk.length);
    const room = into.length - at;
    if (chunk.length > room) {
      into.set(chunk.subarray(0, room), at);
      at = into.length;
      body.destroy();
      if (exact) throw new WebSeedError('the answer is longer than asked for');
      return;
    }
    into.set(chunk, at);
    at += chunk.length;
  }
  if (at !== into.length) throw new WebSeedError(`the answer ended after ${at} of ${into.length} bytes`);
}
