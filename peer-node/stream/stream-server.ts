import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseRange } from '../../shared/http/range.js';
import type { Torrent } from '../engine/torrent.js';
import { contentType } from './content-type.js';

export interface StreamServerOptions {
  host?: string;
  port?: number;
  /** The rate the media plays at, bytes a second: sets piece deadlines (default 256 KiB/s). */
  bytesPerSecond?: number;
}

/**
 * Plays one file of a torrent while it downloads: a localhost HTTP server that a media player
 * opens. GET and HEAD with single byte ranges (206, 416 with `bytes * /SIZE` out of range), the
 * Content-Type from the file name. Each request moves the torrent's playback position to where
 * it reads (a seek is a new range), so the pieces ahead of it are fetched first, in order, with
 * deadlines, and from the edge when a deadline is at risk. The response waits for each piece to
 * be verified and keeps serving as they arrive; it never sends unverified bytes.
 */
export class StreamServer {
  private server?: http.Server;
  private readonly file;
  private readonly rate: number;
  /** Bytes sent to players, and how long they waited on pieces (stalls). */
  served = 0;
  stalls = 0;
  stalledMs = 0;

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
    const server = http.createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return `http://${this.options.host ?? '127.0.0.1'}:${port}/${encodeURIComponent(this.name)}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const size = this.file.length;
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end('only GET and HEAD\n');
    if (pathname !== '/' && decodeURIComponent(pathname.slice(1)) !== this.name) return void res.writeHead(404).end(`this server plays ${this.name} only\n`);
    const range = parseRange(req.headers.range, size);
    if (range.kind === 'malformed') return void res.writeHead(400).end(`${range.reason}\n`);
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
    let closed = false;
    res.on('close', () => (closed = true));
    try {
      await this.send(res, start, end, () => closed);
    } catch {
      // The torrent stopped or the disk failed: the player sees the response cut short.
    }
    if (!res.writableEnded) res.destroy();
  }

  /** Writes file bytes [start, end] piece by piece as they are verified. */
  private async send(res: http.ServerResponse, start: number, end: number, closed: () => boolean): Promise<void> {
    const t = this.torrent;
    const pieceLength = t.geometry.pieceLength;
    let at = this.file.offset + start;
    const stop = this.file.offset + end + 1;
    t.setPlayback(at, this.rate);
    while (at < stop && !closed()) {
      const index = Math.floor(at / pieceLength);
      if (!t.have.has(index)) {
        // Playback is here now: deadlines count from this moment.
        t.setPlayback(at, this.rate);
        const waited = performance.now();
        this.stalls++;
        await t.whenHave(index);
        this.stalledMs += performance.now() - waited;
      }
      const begin = at - index * pieceLength;
      const length = Math.min(t.geometry.pieceSize(index) - begin, stop - at);
      const bytes = await t.readPiece(index, begin, length);
      if (!bytes) throw new Error(`piece ${index} is not readable`);
      this.served += bytes.length;
      at += bytes.length;
      if (!res.write(bytes)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
      // The player took these bytes: the playback position (for the focus) follows it.
      if (index !== Math.floor(at / pieceLength)) t.setPlayback(at, this.rate);
    }
    res.end();
  }
}
