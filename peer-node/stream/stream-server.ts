import http from 'node:http';
import { parseRange } from '../../shared/http/range.js';
import type { Torrent } from '../engine/torrent.js';
import { contentType } from './content-type.js';
import { closeLocal, listenLocal } from './local-http.js';

export interface StreamServerOptions {
  host?: string;
  port?: number;
  /** The rate the media plays at, bytes a second: sets piece deadlines (default 256 KiB/s). */
  bytesPerSecond?: number;
}

/**
 * Plays one file of a torrent while it downloads: a localhost HTTP server that a media player
 * opens. GET and HEAD with single byte ranges (206, 416 with `bytes * /SIZE` out of range; a
 * Range we do not serve, such as several ranges, is ignored: the whole file, 200, as RFC 9110
 * allows), the Content-Type from the file name. Each request sets the torrent's playback
 * position to where it starts reading (a seek is a new range); from there playback is assumed
 * to move at the media's rate, so the pieces ahead get deadlines, are fetched first, in order,
 * and from the edge when a deadline is at risk. When the last player goes away the deadlines
 * stop. The response waits for each piece to be verified; it never sends unverified bytes.
 */
export class StreamServer {
  private server?: http.Server;
  private readonly file;
  private readonly rate: number;
  /** Responses being sent now. */
  private active = 0;
  /** Bytes sent to players. */
  served = 0;

  constructor(
    private readonly torrent: Torrent,
    readonly fileIndex: number,
    private readonly options: StreamServerOptions = {},
  ) {
    const file = torrent.metainfo.info.files[fileIndex];
    if (!file || file.padding) throw new RangeError(`the torrent has no file ${fileIndex}`);
    this.file = file;
    this.rate = options.bytesPerSecond ?? 256 * 1024;
  }

  get name(): string {
    return this.file.path[this.file.path.length - 1]!;
  }

  /** Starts listening; resolves with the URL to open. */
  async listen(): Promise<string> {
    const { server, origin } = await listenLocal((req, res) => this.handle(req, res), this.options);
    this.server = server;
    return `${origin}/${encodeURIComponent(this.name)}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await closeLocal(server);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const size = this.file.length;
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end('only GET and HEAD\n');
    let name: string;
    try {
      name = decodeURIComponent(pathname.slice(1));
    } catch {
      return void res.writeHead(400).end('the path is not valid percent-encoding\n');
    }
    if (pathname !== '/' && name !== this.name) return void res.writeHead(404).end(`this server plays ${this.name} only\n`);
    const parsed = parseRange(req.headers.range, size);
    const range = parsed.kind === 'malformed' ? ({ kind: 'none' } as const) : parsed;
    if (range.kind === 'unsatisfiable') return void res.writeHead(416, { 'content-range': `bytes */${size}` }).end(`${range.reason}\n`);
    const [start, end] = range.kind === 'range' ? [range.range.start, range.range.end] : [0, size - 1];
    const headers: Record<string, string> = {
      'accept-ranges': 'bytes',
      'content-type': contentType(this.name),
      'content-length': String(Math.max(0, end - start + 1)),
      'cache-control': 'no-store',
    };
    if (range.kind === 'range') headers['content-range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(range.kind === 'range' ? 206 : 200, headers);
    if (req.method === 'HEAD' || size === 0) return void res.end();
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    this.active++;
    try {
      await this.send(res, start, end, gone.signal);
    } catch {
      // The player left, the torrent stopped or the disk failed: the response is cut short.
    } finally {
      if (--this.active === 0) this.torrent.clearPlayback();
    }
    if (!res.writableEnded) res.destroy();
  }

  /** Writes file bytes [start, end] piece by piece as they are verified, until the player leaves. */
  private async send(res: http.ServerResponse, start: number, end: number, gone: AbortSignal): Promise<void> {
    const t = this.torrent;
    const pieceLength = t.geometry.pieceLength;
    let at = this.file.offset + start;
    const stop = this.file.offset + end + 1;
    // Playback starts (or, after a seek, resumes) here, and moves on at the media's rate.
    t.setPlayback(at, this.rate);
    while (at < stop) {
      const index = Math.floor(at / pieceLength);
      if (!t.have.has(index)) await t.whenHave(index, gone);
      const begin = at - index * pieceLength;
      const length = Math.min(t.geometry.pieceSize(index) - begin, stop - at);
      const bytes = await t.readPiece(index, begin, length);
      if (gone.aborted || res.destroyed) return;
      if (!bytes) throw new Error(`piece ${index} is not readable`);
      this.served += bytes.length;
      at += bytes.length;
      if (!res.write(bytes)) {
        await new Promise<void>((resolve) => {
          if (gone.aborted) return resolve();
          const done = () => {
            res.off('drain', done);
            gone.removeEventListener('abort', done);
            resolve();
          };
          res.once('drain', done);
          gone.addEventListener('abort', done, { once: true });
        });
        if (gone.aborted) return;
      }
    }
    res.end();
  }
}
