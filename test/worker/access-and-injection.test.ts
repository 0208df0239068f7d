/**
 * Secrets and access on the edge (issue 11, point 5), on one edge run in its own process so that
 * everything it logs can be read:
 * - every route that needs the publish token or the gateway secret refuses a missing, malformed
 *   or wrong one (401/403); private announces and the passkey seed routes (`/p/:passkey/seed/...`,
 *   `/p/:passkey/seed17`) refuse a forged passkey, the seed routes with a 4xx and no byte;
 * - path traversal (`..`, `%2e%2e`, `%2f`, `..%5c`, double encoding, NUL, overlong UTF-8 and
 *   paths, absolute-form targets) on every route of worker/index.ts is refused with a 4xx (a
 *   bencoded failure on tracker routes), never a 500, never bytes outside a published torrent;
 * - header injection (CR/LF in reflected query values, seed file names, Range, If-Range, the
 *   dashboard's ?swarm=, Host; raw CR, LF, NUL, folded lines and CR/LF in the request line on
 *   every route) never puts request text into a response header;
 * - no response body or header and no line the edge logs holds PUBLISH_TOKEN, GATEWAY_SECRET or
 *   PASSKEY_SECRET.
 * Requests with raw bytes go over a plain socket: Node's fetch refuses CR/LF itself.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { publishPath } from '../../peer-node/publish/publish-client.js';
import { escapeBytes } from '../../shared/tracker/http-query.js';
import { decode, isDict } from '../../shared/bencode/index.js';
import { fromHex } from '../../shared/bytes.js';
import { encodeUdpRequest } from '../../shared/tracker/udp-packets.js';
import { encodeGatewayBatch } from '../../shared/tracker/gateway.js';

const SECRETS = { PUBLISH_TOKEN: 'pt-4d1f-SECRET-9a0c77e2b1', GATEWAY_SECRET: 'gw-b2e8-SECRET-31f6c0d94a', PASSKEY_SECRET: 'pk-77c1-SECRET-e5a9b03d28' };
/** An info-hash whose stored .torrent is broken: its request takes an error path that logs. */
const CORRUPT = 'ee'.repeat(20);
/** Bytes only in a publication that never completed: no route may ever answer them. */
const PENDING_MARKER = 'PENDING-UNPUBLISHED-MARKER-0f3e';

let edge: ChildProcess;
let base: URL;
let log = '';
/** Every status line, header and body the edge answered, for the secrets check at the end. */
const answered: string[] = [];
const content = { dir: '', a: 'inside-file-a: hello\n', b: Buffer.alloc(5000, 0x42) };
let h1 = '';
/** The private publication (BEP 27): `closed/c.txt`, whose bytes are PRIVATE_TEXT. */
let h2 = '';
const PRIVATE_TEXT = 'PRIVATE-BYTES-7c1e9';
let privateAnnounce = '';

before(async () => {
  edge = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '..', 'helpers', 'edge-process.ts')], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, EDGE_BINDINGS: JSON.stringify(SECRETS), EDGE_CORRUPT_TORRENT: CORRUPT },
  });
  edge.stdout!.on('data', (d) => (log += d));
  edge.stderr!.on('data', (d) => (log += d));
  for (let i = 0; i < 600 && !/EDGE_URL (\S+)/.test(log); i++) await new Promise((r) => setTimeout(r, 100));
  base = new URL(/EDGE_URL (\S+)/.exec(log)![1]!);

  content.dir = await mkdtemp(path.join(tmpdir(), 'access-'));
  const pub = path.join(content.dir, 'pub');
  await mkdir(path.join(pub, 'sub'), { recursive: true });
  await writeFile(path.join(pub, 'a.txt'), content.a);
  await writeFile(path.join(pub, 'sub', 'b.bin'), content.b);
  h1 = (await publishPath({ path: pub, edge: base, token: SECRETS.PUBLISH_TOKEN, pieceLength: 16384 })).infoHash;
  const closed = path.join(content.dir, 'closed');
  await mkdir(closed);
  await writeFile(path.join(closed, 'c.txt'), PRIVATE_TEXT);
  h2 = (await publishPath({ path: closed, edge: base, token: SECRETS.PUBLISH_TOKEN, private: true, pieceLength: 16384 })).infoHash;
  const passkey = await call('POST', '/api/passkeys', { authorization: `Bearer ${SECRETS.PUBLISH_TOKEN}`, 'content-type': 'application/json' }, JSON.stringify({ user: 'alice' }));
  privateAnnounce = (JSON.parse(passkey.text) as { announce: string }).announce;
  // A publication stopped before `complete`: its part is in R2, but nothing may serve it.
  const pending = path.join(content.dir, 'pending');
  await mkdir(pending);
  await writeFile(path.join(pending, 'p.txt'), PENDING_MARKER);
  await assert.rejects(
    publishPath({
      path: pending,
      edge: base,
      token: SECRETS.PUBLISH_TOKEN,
      onProgress: (phase) => {
        if (phase === 'verifying') throw new Error('stopped before complete');
      },
    }),
    /stopped before complete/,
  );
});

after(async () => {
  if (edge.exitCode === null) {
    edge.stdin!.end();
    await new Promise((r) => edge.once('exit', r));
  }
  await rm(content.dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: [string, string][];
  body: Buffer;
  text: string;
}

function remember(a: Answer): Answer {
  answered.push(`${a.status}\n${a.headers.map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${a.body.toString('latin1')}`);
  return a;
}

async function call(method: string, pathAndQuery: string, headers: Record<string, string> = {}, body?: string | Uint8Array): Promise<Answer> {
  const response = await fetch(new URL(pathAndQuery, base), { method, headers, ...(body !== undefined ? { body } : {}) });
  const bytes = Buffer.from(await response.arrayBuffer());
  return remember({ status: response.status, headers: [...response.headers], body: bytes, text: bytes.toString('utf8') });
}

/**
 * One HTTP/1.1 exchange with the bytes exactly as given, read until the answer is complete (the
 * edge keeps connections open whatever `Connection: close` says); status 0 when the edge closed
 * the connection without answering.
 */
async function raw(request: string): Promise<Answer> {
  const head = request.startsWith('HEAD ');
  const socket = connect(Number(base.port), base.hostname);
  let all = Buffer.alloc(0);
  const complete = (): boolean => {
    const split = all.indexOf('\r\n\r\n');
    if (split < 0) return false;
    const headerText = all.subarray(0, split).toString('latin1');
    const status = Number(headerText.split(' ')[1]);
    if (head || status === 204 || status === 304) return true;
    const length = /\r\ncontent-length: *(\d+)/i.exec(headerText);
    if (length) return all.length - split - 4 >= Number(length[1]);
    if (/\r\ntransfer-encoding: *chunked/i.test(headerText)) return all.includes('\r\n0\r\n\r\n', split);
    return false;
  };
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, 10_000);
    socket.on('data', (c: Buffer) => {
      all = Buffer.concat([all, c]);
      if (complete()) done();
    });
    socket.on('close', done);
    socket.on('error', () => undefined);
    socket.write(Buffer.from(request, 'latin1'));
  });
  const split = all.indexOf('\r\n\r\n');
  if (split < 0) return remember({ status: 0, headers: [], body: all, text: all.toString('latin1') });
  const [statusLine, ...lines] = all.subarray(0, split).toString('latin1').split('\r\n');
  const headers = lines.map((l): [string, string] => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]);
  let body = all.subarray(split + 4);
  if (headers.some(([k, v]) => k === 'transfer-encoding' && /chunked/i.test(v))) {
    const out: Buffer[] = [];
    for (let at = 0; at < body.length; ) {
      const eol = body.indexOf('\r\n', at);
      const size = parseInt(body.subarray(at, eol).toString('latin1'), 16);
      if (!(size > 0)) break;
      out.push(body.subarray(eol + 2, eol + 2 + size));
      at = eol + 4 + size;
    }
    body = Buffer.concat(out);
  }
  return remember({ status: Number(statusLine!.split(' ')[1]), headers, body, text: body.toString('latin1') });
}

const host = () => `${base.hostname}:${base.port}`;
const get = (target: string, extra = '', method = 'GET') => raw(`${method} ${target} HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n${extra}\r\n`);

/** Nothing the request said may come back as a response header, and no header may set cookies or redirect. */
function cleanHeaders(a: Answer, what: string): void {
  for (const [name, value] of a.headers) {
    assert.ok(!/injected/i.test(name) && !/injected/i.test(value), `${what}: request text in a response header: ${name}: ${value}`);
    assert.ok(!['set-cookie', 'location', 'refresh'].includes(name), `${what}: unexpected ${name} header`);
  }
}

/** No answer may hold bytes of the publication that never completed. */
function nothingUnpublished(a: Answer, what: string): void {
  assert.ok(!a.body.includes(PENDING_MARKER), `${what}: bytes of an unpublished upload`);
}

/** The edge still answers a plain request right. */
async function stillServes(): Promise<void> {
  const ok = await call('GET', `/seed/${h1}/pub/a.txt`);
  assert.equal(ok.status, 200);
  assert.equal(ok.text, content.a);
}

test('every route behind the publish token refuses a missing (401), malformed (401) or wrong (403) token', async () => {
  const hex = 'ab'.repeat(20);
  const routes: [string, string, string?][] = [
    ['POST', '/api/publish', '{"info":"ZGU="}'],
    ['PUT', `/api/publish/${hex}/files/0?part=1`, 'x'],
    ['POST', `/api/publish/${hex}/complete`],
    ['PUT', `/api/torrents/${hex}`, '{"private":true}'],
    ['GET', `/api/torrents/${hex}`],
    ['GET', `/api/torrents/${h1}/torrent?user=alice`],
    ['POST', '/api/passkeys', '{"user":"mallory"}'],
    ['GET', '/api/no-such-route'],
    ['PUT', `/layers/${hex}`, '{}'],
    ['GET', '/stats'],
    ['GET', `/stats/${h1}`],
  ];
  const token = SECRETS.PUBLISH_TOKEN;
  const attempts: [Record<string, string>, number][] = [
    [{}, 401],
    [{ authorization: '' }, 401],
    [{ authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` }, 401],
    [{ authorization: `bearer ${token}` }, 401],
    [{ authorization: `Bearer` }, 401],
    [{ authorization: 'Bearer wrong' }, 403],
    [{ authorization: `Bearer ${token.slice(0, -1)}` }, 403],
    [{ authorization: `Bearer ${token}x` }, 403],
    [{ authorization: `Bearer ${token.toUpperCase()}` }, 403],
    [{ authorization: `Bearer  ${token}` }, 403],
    [{ authorization: `Bearer ${SECRETS.GATEWAY_SECRET}` }, 403],
    [{ authorization: `Bearer ${SECRETS.PASSKEY_SECRET}` }, 403],
  ];
  for (const [method, route, body] of routes) {
    // /stats without Authorization is the public view, not a refusal.
    for (const [headers, status] of attempts) {
      // (An empty header is no header: HTTP drops it on the way.)
      if (route.startsWith('/stats') && !headers.authorization) continue;
      const a = await call(method, route, { ...headers, 'content-type': 'application/json' }, body);
      assert.equal(a.status, status, `${method} ${route} with ${JSON.stringify(headers).slice(0, 60)}: ${a.text}`);
    }
    const allowed = await call(method, route, { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body);
    assert.ok(allowed.status !== 401 && allowed.status !== 403 && allowed.status < 500, `${method} ${route} with the token: ${allowed.status} ${allowed.text}`);
  }
});

test('the UDP relay refuses a missing or wrong gateway secret (403); private announces refuse a forged passkey', async () => {
  const packet = encodeUdpRequest({ action: 'connect', transactionId: 1 });
  const batch = encodeGatewayBatch([{ client: '10.0.0.1:6881', packet }]);
  for (const [route, body] of [['/udp', packet], ['/udp/batch', batch]] as const) {
    for (const secret of [undefined, '', 'wrong', SECRETS.GATEWAY_SECRET.slice(0, -1), `${SECRETS.GATEWAY_SECRET}x`, `x${SECRETS.GATEWAY_SECRET}`, SECRETS.PUBLISH_TOKEN]) {
      const headers: Record<string, string> = { 'x-gateway-client': '10.0.0.1:6881' };
      if (secret !== undefined) headers['x-gateway-secret'] = secret;
      const a = await call('POST', route, headers, body);
      assert.equal(a.status, 403, `${route} with secret ${JSON.stringify(secret)}`);
    }
    const ok = await call('POST', route, { 'x-gateway-client': '10.0.0.1:6881', 'x-gateway-secret': SECRETS.GATEWAY_SECRET }, body);
    assert.equal(ok.status, 200);
  }
  const passkey = /\/p\/([^/]+)\/announce/.exec(privateAnnounce)![1]!;
  const forged = [`alice.${'A'.repeat(24)}`, `bob.${passkey.split('.')[1]}`, `${passkey.slice(0, -1)}${passkey.endsWith('A') ? 'B' : 'A'}`, 'alice', passkey.toUpperCase()];
  const query = `info_hash=${escapeBytes(fromHex(h1)!)}&peer_id=-XX0001-abcdefghijkl&port=6881&left=0`;
  for (const key of forged) {
    for (const route of ['announce', 'scrape', 'peers']) {
      const a = await call('GET', `/p/${encodeURIComponent(key)}/${route}?${query}`);
      assert.equal(a.status, 200);
      assert.match(a.text, /^d14:failure reason\d+:unknown passkey/, `${route} with ${key}`);
    }
  }
  const real = await call('GET', `/p/${passkey}/announce?${query}`);
  assert.doesNotMatch(real.text, /unknown passkey/);

  // The private torrent's bytes under a forged passkey: BEP 17 and BEP 19 seed routes refuse with
  // a 4xx and send no byte of it (its first bytes are "PRIV", which no error message holds).
  const ih2 = escapeBytes(fromHex(h2)!);
  for (const key of forged) {
    const k = encodeURIComponent(key);
    for (const route of [`/p/${k}/seed17?info_hash=${ih2}&piece=0`, `/p/${k}/seed17?info_hash=${ih2}&piece=0&ranges=0-3`, `/p/${k}/seed/${h2}/closed/c.txt`]) {
      const a = await call('GET', route);
      assert.ok(a.status >= 400 && a.status < 500, `${route}: ${a.status} ${a.text}`);
      assert.ok(!a.body.includes('PRIV'), `${route}: bytes of the private torrent`);
      assert.ok(!a.headers.some(([name, value]) => name === 'content-type' && value.includes('octet-stream')), `${route}: not a body of bytes`);
    }
  }
  // A member's own passkey is served on the same routes (else the refusals prove nothing).
  const member = await call('GET', `/p/${passkey}/seed17?info_hash=${ih2}&piece=0`);
  assert.equal(member.status, 200);
  assert.equal(member.text, PRIVATE_TEXT);
  const memberFile = await call('GET', `/p/${passkey}/seed/${h2}/closed/c.txt`);
  assert.equal(memberFile.text, PRIVATE_TEXT);
  // A forged passkey is refused on the seed's /p/ routes for a public torrent too, as on the
  // tracker's: a key that is not ours never reads as accepted. Public bytes stay public at /seed.
  const ih1 = escapeBytes(fromHex(h1)!);
  for (const route of [`/p/alice.${'A'.repeat(24)}/seed/${h1}/pub/sub/b.bin`, `/p/alice.${'A'.repeat(24)}/seed17?info_hash=${ih1}&piece=0`]) {
    const a = await call('GET', route);
    assert.equal(a.status, 403, `${route}: ${a.text}`);
    assert.match(a.text, /unknown passkey/);
  }
  assert.equal((await call('GET', `/p/${passkey}/seed/${h1}/pub/sub/b.bin`)).status, 200, 'a member may read public bytes under its passkey');
  assert.equal((await call('GET', `/seed/${h1}/pub/sub/b.bin`)).status, 200);
});

/** Traversal payloads for one slot of a route: `normalizes` when the URL parser itself resolves it as a dot segment. */
const TRAVERSAL: { payload: string; normalizes?: true }[] = [
  { payload: '..', normalizes: true },
  { payload: '%2e%2e', normalizes: true },
  { payload: '.%2E', normalizes: true },
  { payload: '..%2f..%2f..%2fetc%2fpasswd' },
  { payload: '%2e%2e%2f%2e%2e%2fmeta.torrent' },
  { payload: '..%5c..%5cwindows%5cwin.ini' },
  { payload: '..\\..\\meta.torrent' },
  { payload: '%252e%252e%252fpending.json' },
  { payload: '%c0%ae%c0%ae%c0%af' },
  { payload: 'a.txt%00.torrent' },
  { payload: '%00' },
  { payload: '%' },
  { payload: 'x%0d%0aSet-Cookie:%20injected=1' },
  { payload: `${'A'.repeat(7000)}` },
  { payload: `${'..%2f'.repeat(900)}` },
];

/** Whether a target is a seed route (BEP 19 or BEP 17, with or without a passkey): its 2xx bodies are file bytes. */
function isSeedRoute(target: string): boolean {
  return /^(\/p\/[^/]*)?\/seed/.test(target);
}

/**
 * Every route of worker/index.ts, each path parameter and query value in turn marked X:
 * [method, target with X, extra headers, tracker route, X is in the path, a value for X that
 * makes the request well formed]. Built after `before` (it needs the published hashes).
 */
function everyRoute(): [string, string, string, boolean, boolean, string][] {
  const auth = `Authorization: Bearer ${SECRETS.PUBLISH_TOKEN}\r\n`;
  const gateway = `X-Gateway-Secret: ${SECRETS.GATEWAY_SECRET}\r\nX-Gateway-Client: 10.0.0.1:1\r\nContent-Length: 0\r\n`;
  const ih = escapeBytes(fromHex(h1)!);
  const ih2 = escapeBytes(fromHex(h2)!);
  const announce = `info_hash=${ih}&peer_id=-XX0001-abcdefghijkl&port=6881`;
  const passkey = passkeyOf();
  const other = 'cd'.repeat(20);
  return [
    ['GET', `/seed/${h1}/X`, '', false, true, 'pub/a.txt'],
    ['GET', `/seed/${h1}/pub/X`, '', false, true, 'a.txt'],
    ['GET', `/seed/${h1}/pub/sub/X`, 'Range: bytes=0-9\r\n', false, true, 'b.bin'],
    ['HEAD', `/seed/${h1}/pub/X`, '', false, true, 'a.txt'],
    ['GET', `/seed/X/pub/a.txt`, '', false, true, h1],
    ['GET', `/seed17?info_hash=X&piece=0`, '', false, false, ih],
    ['GET', `/seed17?info_hash=${ih}&piece=X`, '', false, false, '0'],
    ['GET', `/seed17?info_hash=${ih}&piece=0&ranges=X`, '', false, false, '0-3'],
    // The private torrent's seed routes, under a member's passkey (or X in its place).
    ['GET', `/p/${passkey}/seed/${h2}/X`, '', false, true, 'closed/c.txt'],
    ['GET', `/p/${passkey}/seed/${h2}/closed/X`, 'Range: bytes=0-3\r\n', false, true, 'c.txt'],
    ['HEAD', `/p/${passkey}/seed/${h2}/closed/X`, '', false, true, 'c.txt'],
    ['GET', `/p/${passkey}/seed/X/closed/c.txt`, '', false, true, h2],
    ['GET', `/p/X/seed/${h2}/closed/c.txt`, '', false, true, passkey],
    ['GET', `/p/${passkey}/seed17?info_hash=X&piece=0`, '', false, false, ih2],
    ['GET', `/p/${passkey}/seed17?info_hash=${ih2}&piece=X`, '', false, false, '0'],
    ['GET', `/p/${passkey}/seed17?info_hash=${ih2}&piece=0&ranges=X`, '', false, false, '0-3'],
    ['GET', `/p/X/seed17?info_hash=${ih2}&piece=0`, '', false, true, passkey],
    ['GET', `/t/X`, '', false, true, `${h1}.torrent`],
    ['GET', `/t/X.torrent`, '', false, true, h1],
    ['GET', `/layers/X`, '', false, true, h1],
    ['GET', `/layers/X/active`, '', false, true, h1],
    ['PUT', `/layers/X`, `${auth}Content-Length: 2\r\n`, false, true, other],
    ['GET', `/stats/X`, '', false, true, h1],
    ['GET', `/stats?limit=X`, '', false, false, '5'],
    ['GET', `/dashboard?swarm=X`, '', false, false, h1],
    ['GET', `/health/X`, '', false, true, 'storage'],
    ['GET', `/announce?info_hash=X&peer_id=-XX0001-abcdefghijkl&port=6881`, '', true, false, ih],
    ['GET', `/announce?${announce}&event=X`, '', true, false, 'started'],
    ['GET', `/scrape?info_hash=X`, '', true, false, ih],
    ['GET', `/peers?info_hash=X`, '', true, false, ih],
    ['GET', `/p/X/announce?${announce}`, '', true, true, passkey],
    ['GET', `/p/X/scrape?info_hash=${ih}`, '', true, true, passkey],
    ['GET', `/p/${passkey}/peers?info_hash=X`, '', true, false, ih],
    ['GET', `/api/torrents/X`, auth, false, true, h1],
    ['PUT', `/api/torrents/X`, `${auth}Content-Length: 0\r\n`, false, true, other],
    ['GET', `/api/torrents/X/torrent`, auth, false, true, h1],
    ['GET', `/api/torrents/${h1}/torrent?user=X`, auth, false, false, 'alice'],
    ['POST', `/api/publish/X/complete`, `${auth}Content-Length: 0\r\n`, false, true, other],
    ['PUT', `/api/publish/X/files/0?part=1`, `${auth}Content-Length: 0\r\n`, false, true, other],
    ['PUT', `/api/publish/${h1}/files/X?part=1`, `${auth}Content-Length: 0\r\n`, false, true, '0'],
    ['POST', `/udp/X`, gateway, false, true, 'batch'],
  ];
}

/** alice's passkey (from her private announce URL). */
function passkeyOf(): string {
  return /\/p\/([^/]+)\/announce/.exec(privateAnnounce)![1]!;
}

test('path traversal on every route is refused with a 4xx (a bencoded failure on tracker routes), never a 500 or bytes outside a torrent', async () => {
  // A BEP 17 piece spans files: the torrent's bytes in file order count as published too.
  const files = [Buffer.concat([Buffer.from(content.a), content.b]), Buffer.from(PRIVATE_TEXT)];
  let requests = 0;
  const statuses = new Map<number, number>();
  for (const [method, template, extra, tracker, inPath] of everyRoute()) {
    for (const { payload, normalizes } of TRAVERSAL) {
      const target = template.replace('X', payload);
      const what = `${method} ${target.slice(0, 120)}`;
      const body = method === 'PUT' && template.startsWith('/layers/') ? '{}' : '';
      const a = await raw(`${method} ${target} HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n${extra}\r\n${body}`);
      requests++;
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      assert.ok(a.status < 500, `${what}: ${a.status} ${a.text.slice(0, 200)}`);
      cleanHeaders(a, what);
      nothingUnpublished(a, what);
      if (a.status >= 200 && a.status < 300 && isSeedRoute(target)) {
        // A seed answer is a published file (or part of one), whatever the URL parser made of the dots.
        assert.ok(method === 'HEAD' || files.some((f) => f.includes(a.body)), `${what}: bytes that are no published file`);
      }
      if (normalizes && inPath) continue; // the URL parser resolved the dots: the request names another route, which answered
      if (tracker) {
        assert.equal(a.status, 200, what);
        assert.match(a.text, /^d14:failure reason/, `${what}: ${a.text.slice(0, 100)}`);
      } else {
        // 0: the edge's HTTP parser closed the connection on a request it cannot read.
        assert.ok(a.status === 0 || (a.status >= 400 && a.status < 500), `${what}: ${a.status} ${a.text.slice(0, 200)}`);
      }
    }
    await stillServes();
  }
  assert.ok(requests >= 400);
  // Every one of these is a well-formed HTTP request: each got an answer (none cut off).
  assert.equal(statuses.get(0), undefined, 'a request without an answer');
  console.log(`traversal: ${requests} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([x], [y]) => x - y)))}`);
});

test('header injection: CR/LF and NUL in reflected values, file names, Range, If-Range, ?swarm= and Host never reach a response header', async () => {
  const seedFile = `/seed/${h1}/pub/a.txt`;
  const cases: [string, string, (a: Answer) => void][] = [
    // Reflected query values, escaped in the URL: refused, and the text stays in the body.
    [`GET /dashboard?swarm=%0d%0aSet-Cookie:%20injected=1 HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`, 'dashboard ?swarm= CRLF', (a) => {
      assert.equal(a.status, 400);
      assert.doesNotMatch(a.text, /<script>alert/);
    }],
    [`GET /dashboard?swarm=%3Cscript%3Ealert(1)%3C/script%3E HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`, 'dashboard ?swarm= markup', (a) => {
      assert.equal(a.status, 400);
      assert.doesNotMatch(a.text, /<script>alert\(1\)/, 'the message is HTML-escaped');
    }],
    [`GET /seed/${h1}/pub/a.txt%0d%0aInjected:%201 HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`, 'seed file name CRLF', (a) => assert.equal(a.status, 404)],
    [`GET /seed/${h1}/pub/%0aInjected:%201 HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`, 'seed file name LF', (a) => assert.equal(a.status, 404)],
    [`GET /announce?info_hash=%0d%0aInjected:1&peer_id=x&port=1 HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`, 'announce CRLF', (a) => assert.match(a.text, /^d14:failure reason/)],
    [`GET /api/torrents/${h1}/torrent?user=a%0d%0aInjected:1 HTTP/1.1\r\nHost: ${host()}\r\nAuthorization: Bearer ${SECRETS.PUBLISH_TOKEN}\r\nConnection: close\r\n\r\n`, 'user CRLF', (a) => assert.equal(a.status, 400)],
    [`GET /stats?limit=1%0d%0aInjected:1 HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`, 'stats limit CRLF', (a) => assert.equal(a.status, 400)],
    // Raw bytes: a bare CR or LF, or NUL, inside a header value or the request line.
    [`GET ${seedFile} HTTP/1.1\r\nHost: ${host()}\r\nRange: bytes=0-1\rInjected: 1\r\nConnection: close\r\n\r\n`, 'Range bare CR', (a) => assert.ok(a.status === 0 || (a.status >= 400 && a.status < 500) || a.status === 206)],
    [`GET ${seedFile} HTTP/1.1\r\nHost: ${host()}\r\nRange: bytes=0-1\nInjected: 1\r\nConnection: close\r\n\r\n`, 'Range bare LF', (a) => assert.ok(a.status === 0 || (a.status >= 200 && a.status < 500))],
    [`GET ${seedFile} HTTP/1.1\r\nHost: ${host()}\r\nRange: bytes=0-1\r\n Injected: folded\r\nConnection: close\r\n\r\n`, 'Range folded line', (a) => assert.ok(a.status === 0 || (a.status >= 400 && a.status < 500))],
    [`GET ${seedFile} HTTP/1.1\r\nHost: ${host()}\r\nRange: bytes=0-1\u0000Injected\r\nConnection: close\r\n\r\n`, 'Range NUL', (a) => assert.ok(a.status === 0 || (a.status >= 400 && a.status < 500))],
    [`GET ${seedFile} HTTP/1.1\r\nHost: ${host()}\r\nRange: bytes=0-1, Injected=2\r\nConnection: close\r\n\r\n`, 'Range junk', (a) => assert.equal(a.status, 400)],
    [`GET ${seedFile} HTTP/1.1\r\nHost: ${host()}\r\nRange: bytes=0-1\r\nIf-Range: "x"\rInjected: 1\r\nConnection: close\r\n\r\n`, 'If-Range bare CR', (a) => assert.ok(a.status === 0 || (a.status >= 200 && a.status < 500))],
    [`GET ${seedFile} HTTP/1.1\r\nHost: ${host()}\r\nRange: bytes=0-1\r\nIf-Range: Injected, 01 Jan 2000 00:00:00 GMT\r\nConnection: close\r\n\r\n`, 'If-Range other validator', (a) => {
      assert.equal(a.status, 200, 'an If-Range naming another version gets the whole file');
      assert.equal(a.text, content.a);
    }],
    [`GET ${seedFile}\r\nInjected: 1 HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`, 'request line CRLF', (a) => assert.ok(a.status === 0 || (a.status >= 400 && a.status < 500))],
    [`GET /seed/${h1}/pub/a.txt\u0000 HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`, 'request line NUL', (a) => assert.ok(a.status === 0 || (a.status >= 400 && a.status < 500))],
    [`GET /dashboard?swarm=\r\nInjected: 1 HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`, 'query raw CRLF', (a) => assert.ok(a.status === 0 || (a.status >= 400 && a.status < 500))],
    // Host: the origin of the .torrent's URLs comes from it; it is never a header of the answer.
    [`GET /t/${h1}.torrent HTTP/1.1\r\nHost: injected.example\r\nConnection: close\r\n\r\n`, 'Host', (a) => assert.ok(a.status === 200 || (a.status >= 400 && a.status < 500))],
    // The local runtime (workerd) takes a bare CR inside a header value; the URL parser drops it.
    [`GET /t/${h1}.torrent HTTP/1.1\r\nHost: ${host()}\rInjected: 1\r\nConnection: close\r\n\r\n`, 'Host bare CR', (a) => {
      assert.ok(a.status === 0 || a.status === 200 || (a.status >= 400 && a.status < 500));
      if (a.status === 200) assert.doesNotMatch(a.text, /[\r\n]/, 'no CR/LF in the .torrent');
    }],
    // Absolute-form targets and a path that is a URL.
    // Known, outside the Worker: the local runtime (workerd) answers an absolute-form target whose
    // authority is not the Host with its own 500 ("invalid URL") before the Worker runs. On
    // Cloudflare the front end parses requests. The Worker's own 500 would be JSON.
    [`GET http://injected.example/seed/${h1}/pub/a.txt HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`, 'absolute-form target', (a) => {
      assert.ok(a.status === 0 || a.status === 200 || (a.status >= 400 && a.status < 500) || (a.status === 500 && !a.text.includes('internal error')), `${a.status} ${a.text}`);
    }],
    [`GET /seed/${h1}/http://injected.example/a.txt HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`, 'URL in the path', (a) => assert.equal(a.status, 404)],
    [`GET //injected.example/seed/${h1}/pub/a.txt HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`, 'scheme-relative path', (a) => assert.ok(a.status === 0 || (a.status >= 400 && a.status < 500))],
  ];
  for (const [request, what, check] of cases) {
    const a = await raw(request);
    console.log(`injection ${what}: ${a.status}`);
    assert.ok(a.status < 500 || what === 'absolute-form target', `${what}: ${a.status} ${a.text.slice(0, 200)}`);
    cleanHeaders(a, what);
    nothingUnpublished(a, what);
    if (a.status >= 200 && a.status < 300 && request.includes('/seed/')) assert.ok([content.a, content.a.slice(0, 2)].includes(a.text), `${what}: ${a.text.slice(0, 80)}`);
    check(a);
  }
  await stillServes();
});

/**
 * Raw injection shapes, each tried on every route: a bare CR, a bare LF and a NUL inside a
 * header value, a folded (obsolete line-folding) header, and CR/LF inside the request line.
 */
const RAW_INJECTIONS: { what: string; request: (method: string, target: string, headers: string) => string }[] = [
  { what: 'bare CR in a header', request: (m, t, h) => `${m} ${t} HTTP/1.1\r\nHost: ${host()}\r\nX-Probe: a\rInjected: 1\r\n${h}Connection: close\r\n\r\n` },
  { what: 'bare LF in a header', request: (m, t, h) => `${m} ${t} HTTP/1.1\r\nHost: ${host()}\r\nX-Probe: a\nInjected: 1\r\n${h}Connection: close\r\n\r\n` },
  { what: 'NUL in a header', request: (m, t, h) => `${m} ${t} HTTP/1.1\r\nHost: ${host()}\r\nX-Probe: a\u0000Injected: 1\r\n${h}Connection: close\r\n\r\n` },
  { what: 'folded header', request: (m, t, h) => `${m} ${t} HTTP/1.1\r\nHost: ${host()}\r\nX-Probe: a\r\n Injected: folded\r\n${h}Connection: close\r\n\r\n` },
  { what: 'CR/LF in the request line', request: (m, t, h) => `${m} ${t}\r\nInjected: 1 HTTP/1.1\r\nHost: ${host()}\r\n${h}Connection: close\r\n\r\n` },
];

test('raw CR/LF, NUL and folded-header injection on every route never reaches a response header, never a 500', async () => {
  const auth = `Authorization: Bearer ${SECRETS.PUBLISH_TOKEN}\r\n`;
  const gateway = `X-Gateway-Secret: ${SECRETS.GATEWAY_SECRET}\r\nX-Gateway-Client: 10.0.0.1:1\r\n`;
  // Every route with a well-formed value for X, and the routes that take no parameter.
  const routes: [string, string, string][] = [
    ...everyRoute().map(([method, template, extra, , , fill]): [string, string, string] => [method, template.replace('X', fill), extra]),
    ['POST', '/udp', `${gateway}Content-Length: 0\r\n`],
    ['POST', '/udp/batch', `${gateway}Content-Length: 0\r\n`],
    ['POST', '/api/publish', `${auth}Content-Length: 2\r\n`],
    ['POST', '/api/passkeys', `${auth}Content-Length: 2\r\n`],
    ['GET', '/api/torrents', auth],
    ['GET', '/health', ''],
    ['GET', '/stats', ''],
    ['GET', '/dashboard', ''],
  ];
  // A BEP 17 piece spans files: the torrent's bytes in file order count as published too.
  const files = [Buffer.concat([Buffer.from(content.a), content.b]), Buffer.from(PRIVATE_TEXT)];
  const statuses = new Map<string, number>();
  for (const [method, target, extra] of routes) {
    // A body only where the route reads one; `{}` changes nothing anywhere.
    const body = /Content-Length: 2/.test(extra) ? '{}' : '';
    for (const { what, request } of RAW_INJECTIONS) {
      const label = `${what}: ${method} ${target.slice(0, 100)}`;
      const a = await raw(request(method, target, extra) + body);
      const key = `${what} ${a.status}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      assert.ok(a.status < 500, `${label}: ${a.status} ${a.text.slice(0, 200)}`);
      cleanHeaders(a, label);
      nothingUnpublished(a, label);
      if (a.status >= 200 && a.status < 300 && isSeedRoute(target)) {
        assert.ok(method === 'HEAD' || files.some((f) => f.includes(a.body)), `${label}: bytes that are no published file`);
      }
      // Nothing of the injected text comes back at all, body included (only the tracker's
      // failure reasons and 4xx messages could echo a value, and none of these puts it in one).
      assert.ok(!/Injected/.test(a.text), `${label}: the injected text came back: ${a.text.slice(0, 200)}`);
    }
  }
  console.log(`raw injection: ${routes.length} routes x ${RAW_INJECTIONS.length} shapes, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
  await stillServes();
});

test('no response and no log line holds PUBLISH_TOKEN, GATEWAY_SECRET or PASSKEY_SECRET', async () => {
  // Good and bad requests on every route family, error paths included.
  const hex = 'cd'.repeat(20);
  const ih = escapeBytes(fromHex(h1)!);
  const token = { authorization: `Bearer ${SECRETS.PUBLISH_TOKEN}`, 'content-type': 'application/json' };
  await call('GET', '/health');
  await call('GET', '/health/storage');
  await call('GET', `/announce?info_hash=${ih}&peer_id=-XX0001-abcdefghijkl&port=6881&left=0`);
  await call('GET', `/announce?info_hash=${ih}`);
  await call('GET', `/scrape?info_hash=${ih}`);
  await call('GET', `/peers?info_hash=${ih}`);
  await call('GET', privateAnnounce.replace(base.origin, '') + `?info_hash=${ih}&peer_id=-XX0001-abcdefghijkl&port=6881`);
  await call('POST', '/api/passkeys', token, '{"user":"bob"}');
  await call('POST', '/api/passkeys', token, '{"user":"../bob"}');
  await call('POST', '/api/passkeys', token, 'not json');
  await call('PUT', `/api/torrents/${hex}`, token, '{"private":true}');
  await call('GET', `/api/torrents/${h1}/torrent?user=carol`, token);
  await call('POST', '/api/publish', token, '{"info":"!!"}');
  await call('POST', '/api/publish', token, JSON.stringify({ info: Buffer.from('d4:name1:xe').toString('base64') }));
  await call('POST', `/api/publish/${hex}/complete`, token);
  await call('PUT', `/layers/${h1}`, token, '{"version":2}');
  await call('PUT', `/layers/${h1}`, token, JSON.stringify({ version: 1, mode: 'cumulative', segmentDuration: 2, segmentCount: 1, layers: [{ index: 0, bitrate: 1, file: 0, segments: [[0, 5]] }] }));
  await call('GET', `/layers/${h1}`);
  await call('GET', `/layers/${h1}/active`);
  await call('GET', '/stats', token);
  await call('GET', `/stats/${h1}`, token);
  await call('GET', '/stats', { authorization: 'Bearer nope' });
  await call('GET', `/dashboard?swarm=${h1}`);
  await call('GET', '/dashboard?swarm=zz');
  await call('GET', `/t/${h1}.torrent`);
  await call('GET', `/seed/${h1}/pub/sub/b.bin`, { range: 'bytes=10-20' });
  await call('GET', `/seed/${h1}/pub/sub/b.bin`, { range: 'bytes=99999-' });
  await call('GET', `/seed17?info_hash=${ih}&piece=0&ranges=0-3`);
  // The passkey seed routes of the private torrent: a member, a forged key, no key.
  const ih2 = escapeBytes(fromHex(h2)!);
  const passkey = passkeyOf();
  await call('GET', `/p/${passkey}/seed/${h2}/closed/c.txt`);
  await call('GET', `/p/${passkey}/seed/${h2}/closed/c.txt`, { range: 'bytes=2-5' });
  await call('HEAD', `/p/${passkey}/seed/${h2}/closed/c.txt`);
  await call('GET', `/p/${passkey}/seed/${h2}/closed/nothing.txt`);
  await call('GET', `/p/${passkey}/seed17?info_hash=${ih2}&piece=0&ranges=0-3`);
  await call('GET', `/p/${passkey}/seed17?info_hash=${ih2}&piece=9`);
  await call('GET', `/p/alice.${'A'.repeat(43)}/seed17?info_hash=${ih2}&piece=0`);
  await call('GET', `/p/alice.${'A'.repeat(43)}/seed/${h2}/closed/c.txt`);
  await call('GET', `/seed/${h2}/closed/c.txt`);
  await call('GET', `/seed17?info_hash=${ih2}&piece=0`);
  await call('GET', `/p/${passkey}/seed/${CORRUPT}/x`);
  await call('POST', '/udp', { 'x-gateway-secret': SECRETS.GATEWAY_SECRET, 'x-gateway-client': 'bad' }, encodeUdpRequest({ action: 'connect', transactionId: 3 }));
  await call('POST', '/udp/batch', { 'x-gateway-secret': SECRETS.GATEWAY_SECRET }, Uint8Array.of(9, 1));
  // An error path that logs: a stored .torrent that does not parse (storage, not client input).
  const broken = await call('GET', `/seed/${CORRUPT}/x`);
  assert.ok(broken.status >= 500, 'the broken stored torrent is the edge\'s error');
  assert.doesNotMatch(broken.text, /metainfo|stack|at \w+ \(/, 'an internal error is not described to the client');

  // Stop the edge so that everything it wrote is in `log`.
  edge.stdin!.end();
  await new Promise((r) => edge.once('exit', r));
  assert.match(log, /unhandled|storage unavailable/, 'the capture holds what the Worker logged (else this check proves nothing)');
  assert.ok(answered.length > 600, `${answered.length} answers checked`);
  console.log(`secrets: ${answered.length} answers and ${log.length} bytes of the edge's output checked`);
  for (const [name, secret] of Object.entries(SECRETS)) {
    for (const form of [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')]) {
      assert.ok(!log.includes(form), `${name} in the edge's log`);
      const leak = answered.find((a) => a.includes(form));
      assert.equal(leak, undefined, `${name} in an answer: ${leak?.slice(0, 300)}`);
    }
  }
  // Passkeys are handed out on purpose (they are HMACs of the secret, not the secret).
  assert.ok(answered.some((a) => /"passkey":"bob\./.test(a)));
  // A parsed answer of the tracker is still bencode, not an error page.
  const last = answered.find((a) => a.startsWith('200') && a.includes('d8:complete'));
  assert.ok(last === undefined || isDict(decode(Buffer.from(last.slice(last.indexOf('\n\n') + 2), 'latin1'))));
});
