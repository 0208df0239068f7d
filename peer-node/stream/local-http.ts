import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

/**
 * A localhost HTTP server for a media player (127.0.0.1 unless `host` says otherwise). A handler
 * that throws ends only its own response: a 500 if nothing was sent yet, else a cut connection.
 * Resolves with the server and its origin (`http://HOST:PORT`).
 */
export async function listenLocal(handle: Handler, options: { host?: string; port?: number } = {}): Promise<{ server: http.Server; origin: string }> {
  const host = options.host ?? '127.0.0.1';
  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  return { server, origin: `http://${host}:${(server.address() as AddressInfo).port}` };
}

/** Closes the server and every connection on it (players waiting on a piece included). */
export async function closeLocal(server: http.Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}
