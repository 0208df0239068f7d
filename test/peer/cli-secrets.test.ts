/**
 * The peer's CLI never prints a secret it was given (issue 11, point 5): `peer-node publish
 * --token` and `peer-node udp-gateway --secret` pointed at a wrong edge, one that echoes the
 * request's headers in its error answers (a proxy's error page, another server), or at nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, PEER_NODE_BIN } from '../helpers/local-process.js';
import { encodeUdpRequest } from '../../shared/tracker/udp-packets.js';

const TOKEN = 'cli-publish-token-5b0e2d';
const SECRET = 'cli-gateway-secret-91ac44';

/** A server that is not the edge: /health is fine, everything else is refused with the request's headers echoed. */
async function echoingServer(status: number, json: boolean | 'nested'): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/health') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        return;
      }
      const echoed = `you sent ${req.method} ${req.url} authorization=${req.headers.authorization ?? ''} x-gateway-secret=${req.headers['x-gateway-secret'] ?? ''}`;
      // 'nested': `error` is an object, not a string (it once crashed the client's redaction).
      const body = json === 'nested' ? JSON.stringify({ error: { detail: echoed } }) : json ? JSON.stringify({ error: echoed }) : echoed;
      res.writeHead(status, { 'content-type': json ? 'application/json' : 'text/plain' }).end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${address.port}` };
}

function run(args: string[], vars: Record<string, string> = {}): { child: ReturnType<typeof spawn>; output: () => string; exited: Promise<number | null> } {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PEER_NODE_') && !['EDGE_URL', 'PUBLISH_TOKEN', 'GATEWAY_SECRET'].includes(key)));
  const child = spawn(process.execPath, [PEER_NODE_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, ...vars, EDGE_STATE_DIR: path.join(tmpdir(), 'no-such-edge-state') } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const exited = once(child, 'exit').then(([code]) => {
    clearTimeout(timer);
    return code as number | null;
  });
  return { child, output: () => out, exited };
}

test('peer-node publish: a wrong edge that echoes the Authorization header never gets the token printed', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cli-secrets-'));
  const servers: Server[] = [];
  try {
    const file = path.join(dir, 'clip.bin');
    await writeFile(file, Buffer.alloc(50_000, 7));
    for (const [status, json] of [[401, true], [403, false], [500, false], [502, true], [400, 'nested']] as const) {
      const { server, url } = await echoingServer(status, json);
      servers.push(server);
      for (const how of ['flag', 'env'] as const) {
        const args = ['publish', file, '--edge', url, '--out', path.join(dir, 'clip.torrent'), '--quiet', ...(how === 'flag' ? ['--token', TOKEN] : [])];
        const p = run(args, how === 'env' ? { PUBLISH_TOKEN: TOKEN } : {});
        assert.equal(await p.exited, 1);
        const output = p.output();
        assert.match(output, new RegExp(`the edge answered ${status}: .*authorization=Bearer <token>`), output);
        assert.ok(!output.includes(TOKEN), `the token was printed: ${output}`);
      }
    }
    // Nothing listening there: the error names the edge, not the token.
    const closed = await freePort();
    const p = run(['publish', file, '--edge', `http://127.0.0.1:${closed}`, '--token', TOKEN]);
    assert.equal(await p.exited, 1);
    assert.match(p.output(), /cannot reach the edge/);
    assert.ok(!p.output().includes(TOKEN));
  } finally {
    for (const s of servers) s.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('peer-node udp-gateway: a wrong edge that echoes the secret header never gets the secret printed', { timeout: 120_000 }, async () => {
  const { server, url } = await echoingServer(403, true);
  const port = await freePort();
  const gateway = run(['udp-gateway', '--listen', `127.0.0.1:${port}`, '--edge', url, '--secret', SECRET]);
  const socket = createSocket('udp4');
  try {
    for (let i = 0; i < 100 && !gateway.output().includes('udp-gateway: udp://'); i++) await new Promise((r) => setTimeout(r, 100));
    // Datagrams until the edge's refusal has been reported (the first may come before the socket is ready).
    for (let i = 0; i < 100 && !/edge answered 403/.test(gateway.output()); i++) {
      socket.send(encodeUdpRequest({ action: 'connect', transactionId: i }), port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 100));
    }
    const output = gateway.output();
    assert.match(output, /udp-gateway: edge answered 403: .*x-gateway-secret=<secret>/, output);
    assert.ok(!output.includes(SECRET), `the secret was printed: ${output}`);
  } finally {
    socket.close();
    gateway.child.kill('SIGINT');
    await gateway.exited;
    server.close();
  }
});
