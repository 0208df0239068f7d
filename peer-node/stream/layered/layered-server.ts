import http from 'node:http';
import { layersPlayed } from '../../../shared/layers/layer-info.js';
import type { LayeredPlayer, PlayedSegment } from './layered-player.js';
import { closeLocal, listenLocal } from '../local-http.js';

/** Segment requests waiting for their segment to play, at most (a media player asks for one or two). */
const MAX_WAITING = 32;

/**
 * Plays a layered asset out over localhost HTTP, in order, as the player plays it:
 * - `GET /index.m3u8`: an HLS VOD playlist of every segment (`/segments/N.ts`), for players that
 *   take one (the media example's layers are MPEG-TS renditions);
 * - `GET /segments/N[.ts]`: waits until segment N plays, then sends what it played (cumulative:
 *   layers 0..L of that segment, back to back; simulcast: rendition L), with `X-Layer: L`;
 * - `GET /status`: JSON of the play-out so far (layer per segment, stalls, switches, estimate).
 * A segment number outside the asset is a 404; a player that goes away stops waiting.
 */
export class LayeredServer {
  private server?: http.Server;
  private active = 0;
  private waiting = 0;
  private lastRequestAt = Date.now();

  constructor(
    private readonly player: LayeredPlayer,
    private readonly options: { host?: string; port?: number } = {},
  ) {}

  /** Starts listening; resolves with the playlist URL. */
  async listen(): Promise<string> {
    const { server, origin } = await listenLocal((req, res) => {
      // Counted for idle(): a player still reading is not cut off when the asset ends.
      this.active++;
      this.lastRequestAt = Date.now();
      res.once('close', () => {
        this.active--;
        this.lastRequestAt = Date.now();
      });
      return this.handle(req, res);
    }, this.options);
    this.server = server;
    return `${origin}/index.m3u8`;
  }

  /**
   * Resolves once no response is being sent and no request came for `quietMs`: a player still
   * reading the last segments after they played is not cut off.
   */
  async idle(quietMs = 2000, maxMs = 30_000): Promise<void> {
    const end = Date.now() + maxMs;
    while (Date.now() < end && (this.active > 0 || Date.now() - this.lastRequestAt < quietMs)) await new Promise((r) => setTimeout(r, 100));
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await closeLocal(server);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end('only GET and HEAD\n');
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (pathname === '/index.m3u8') return this.playlist(req, res);
    if (pathname === '/status') return this.status(req, res);
    const m = /^\/segments\/(\d{1,6})(\.ts)?$/.exec(pathname);
    const n = m ? Number(m[1]) : NaN;
    if (!m || n >= this.player.info.segmentCount) return void res.writeHead(404, { 'content-type': 'text/plain' }).end(`no such segment: ${pathname}\n`);
    if (!this.player.played[n] && this.waiting >= MAX_WAITING) return void res.writeHead(503, { 'retry-after': '1', 'content-type': 'text/plain' }).end('too many segment requests waiting\n');
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    this.waiting++;
    const played = await this.whenPlayed(n, abort.signal).finally(() => this.waiting--);
    if (!played) {
      // The player stopped before this segment played (the client may have gone already).
      if (!res.headersSent && !res.destroyed) res.writeHead(503, { 'content-type': 'text/plain' }).end('playback stopped before this segment\n');
      return;
    }
    const body = await this.segmentBytes(played);
    res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': body.length, 'x-layer': String(played.layer), 'x-layers': layersPlayed(this.player.info, played.layer).join(',') });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private playlist(req: http.IncomingMessage, res: http.ServerResponse): void {
    const info = this.player.info;
    const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${Math.ceil(info.segmentDuration)}`, '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:VOD'];
    // Each segment may come from another layer (a simulcast rendition: another encode), so each
    // is marked a discontinuity: the player resets its decoder state instead of splicing.
    for (let s = 0; s < info.segmentCount; s++) {
      if (s > 0) lines.push('#EXT-X-DISCONTINUITY');
      lines.push(`#EXTINF:${info.segmentDuration.toFixed(3)},`, `segments/${s}.ts`);
    }
    lines.push('#EXT-X-ENDLIST', '');
    const body = lines.join('\n');
    res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private status(req: http.IncomingMessage, res: http.ServerResponse): void {
    const p = this.player;
    const body = JSON.stringify({
      layer: p.layer,
      estimateBitsPerSecond: p.estimator.estimate ?? null,
      played: p.played,
      stalls: p.stalls,
      stalledMs: p.stalledMs,
      switches: p.switches,
      done: p.done,
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private whenPlayed(n: number, signal: AbortSignal): Promise<PlayedSegment | undefined> {
    const found = this.player.played[n];
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const onSegment = (s: PlayedSegment) => {
        if (s.segment !== n) return;
        cleanup();
        resolve(s);
      };
      const onAbort = () => {
        cleanup();
        resolve(undefined);
      };
      const cleanup = () => {
        this.player.off('segment', onSegment);
        this.player.off('aborted', onAbort);
        signal.removeEventListener('abort', onAbort);
      };
      this.player.on('segment', onSegment);
      this.player.once('aborted', onAbort);
      signal.addEventListener('abort', onAbort);
    });
  }

  private async segmentBytes(played: PlayedSegment): Promise<Uint8Array> {
    const p = this.player;
    const parts: Uint8Array[] = [];
    for (const k of layersPlayed(p.info, played.layer)) {
      const [start, length] = p.map.ranges[k]![played.segment]!;
      parts.push(await readRange(p, start, length));
    }
    return Buffer.concat(parts);
  }
}

/** Bytes [start, start + length) of the torrent, piece by piece from verified data. */
async function readRange(p: LayeredPlayer, start: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  const pl = p.torrent.geometry.pieceLength;
  for (let at = start; at < start + length; ) {
    const index = Math.floor(at / pl);
    const begin = at - index * pl;
    const n = Math.min(pl - begin, start + length - at);
    const bytes = await p.torrent.readPiece(index, begin, n);
    if (!bytes) throw new Error(`piece ${index} is no longer readable`);
    out.set(bytes, at - start);
    at += n;
  }
  return out;
}
