/**
 * A real HTTP server (node:http on 127.0.0.1) serving a folder as a BEP 19 web seed: GET with
 * one byte range, 206/416 as a server should. `misbehave` lets a test turn any request into a
 * failure (a status, wrong bytes, a hang, a redirect) to see the peer cope.
 */
import { open, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface SeenRequest {
  path: string;
  range?: string;
  at: number;
}

/** What to do with a request instead of serving it; undefined serves it. */
export type Misbehaviour = { status: number; headers?: Record<string, string>; body?: string } | { corrupt: true } | { hang: true } | undefined;

export interface WebSeedServer {
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

export async function startWebSeedServer(root: string, misbehave: (r: SeenRequest, n: number) => Misbehaviour = () => undefined, host = '127.0.0.1'): Promise<WebSeedServer> {
  const requests: SeenRequest[] = [];
  const hung = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    void (async () => {
      const seen: SeenRequest = { path: decodeURIComponent(new URL(req.url!, 'http://x').pathname), at: Date.now(), ...(req.headers.range ? { range: req.headers.range } : {}) };
      requests.push(seen);
      const action = misbehave(seen, requests.length);
      if (action && 'hang' in action) {
        hung.add(res);
        return;
      }
      if (action && 'status' in action) {
        res.writeHead(action.status, action.headers ?? {}).end(action.body ?? '');
        return;
      }
      const file = path.join(root, seen.path);
      if (!file.startsWith(root)) return void res.writeHead(400).end();
      let size: number;
      try {
        size = (await stat(file)).size;
      } catch {
        return void res.writeHead(404).end('no such file');
      }
      const m = /^bytes=(\d+)-(\d+)$/.exec(seen.range ?? '');
      const [start, end] = m ? [Number(m[1]), Math.min(Number(m[2]), size - 1)] : [0, size - 1];
      if (m && start >= size) return void res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      const body = Buffer.alloc(end - start + 1);
      const fh = await open(file);
      try {
        await fh.read(body, 0, body.length, start);
      } finally {
        await fh.close();
      }
      if (action && 'corrupt' in action) body.fill(0x5a);
      res.writeHead(m ? 206 : 200, { 'content-length': String(body.length), ...(m ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}) }).end(body);
    })();
  });
  server.listen(0, host);
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}/`,
    requests,
    close: async () => {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
