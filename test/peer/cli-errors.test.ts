/**
 * The CLI's bad-input cases as a user meets them (issue 10): an edge that does not answer, a
 * missing or unreadable torrent file, a wrong publish token. Each is one line on stderr (no
 * stack trace) that says what to do, with exit 1 (2 for usage mistakes); and --json output
 * stays pure JSON while progress goes to stderr.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeFileError } from '../../peer-node/cli/cli-errors.js';
import { MAX_TORRENT_BYTES } from '../../shared/metainfo/torrent-file.js';
import { makeContent } from '../helpers/content.js';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';
import { freePort, PEER_NODE_BIN } from '../helpers/local-process.js';

/**
 * Runs peer-node to its end with extra environment variables (and none of the caller's
 * PEER_NODE_*, EDGE_URL or PUBLISH_TOKEN); asynchronous, as the test edge lives in this process.
 */
async function cli(args: string[], vars: Record<string, string> = {}, as: { uid?: number; gid?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PEER_NODE_') && key !== 'EDGE_URL' && key !== 'PUBLISH_TOKEN'));
  const child = spawn(process.execPath, [PEER_NODE_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, ...vars }, ...as });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Exactly one line on stderr, matching `message`, and no stack trace. */
function oneLine(stderr: string, message: RegExp): void {
  assert.doesNotMatch(stderr, /^\s+at /m, `a stack trace: ${stderr}`);
  assert.equal(stderr.split('\n').filter(Boolean).length, 1, `more than one line: ${stderr}`);
  assert.match(stderr, message);
}

test('an edge that does not answer: publish, udp-gateway, download and stream --layered name the URL and say to start the edge', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cli-errors-'));
  try {
    const closed = await freePort(); // nothing listens there now
    const edge = `http://127.0.0.1:${closed}`;
    await writeFile(path.join(dir, 'talk.bin'), Buffer.alloc(40_000, 1));

    const published = await cli(['publish', path.join(dir, 'talk.bin'), '--edge', edge, '--token', 'x']);
    assert.equal(published.code, 1);
    oneLine(published.stderr, new RegExp(`^peer-node publish: cannot reach the edge at ${edge}/ \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${closed}\\): check that the edge is running \\(npm start\\) and that --edge or EDGE_URL points at it\\n$`));
    assert.equal(published.stdout, '');
    // The same from EDGE_URL, with no flag.
    const fromEnv = await cli(['publish', path.join(dir, 'talk.bin'), '--token', 'x'], { EDGE_URL: edge });
    assert.equal(fromEnv.code, 1);
    oneLine(fromEnv.stderr, new RegExp(`cannot reach the edge at ${edge}/ `));

    const gateway = await cli(['udp-gateway', '--listen', '127.0.0.1:0', '--edge', edge, '--secret', 'x']);
    assert.equal(gateway.code, 1);
    oneLine(gateway.stderr, new RegExp(`^peer-node udp-gateway: cannot reach the edge at ${edge}/ \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${closed}\\): check that the edge is running`));
    assert.equal(gateway.stdout, '', 'it never said it was listening');

    const url = `${edge}/t/${'ab'.repeat(20)}.torrent`;
    for (const args of [
      ['download', url, '--out', path.join(dir, 'out'), '--port', '0', '--host', '127.0.0.1', '--no-dht'],
      ['stream', '--layered', url, '--out', path.join(dir, 'out'), '--host', '127.0.0.1', '--no-dht'],
    ]) {
      const r = await cli(args);
      assert.equal(r.code, 1, `${args[0]}: ${r.stderr}`);
      oneLine(r.stderr, new RegExp(`^peer-node ${args[0]}: cannot fetch the torrent at ${url.replace(/\./g, '\\.')} \\(connect ECONNREFUSED [^)]*\\): check the URL, and that the server is running \\(the local edge: npm start\\)\\n$`));
    }

    // A torrent file whose tracker (the edge) is down: GET-LAYER cannot ask it.
    const content = await makeContent(path.join(dir, 'layered'), [20_000], { announceList: [[`${edge}/announce`]] });
    const layered = await cli(['stream', '--layered', content.torrentPath, '--out', path.join(dir, 'out2'), '--host', '127.0.0.1', '--no-dht']);
    assert.equal(layered.code, 1);
    oneLine(layered.stderr, new RegExp(`^peer-node stream: no layer info \\(GET-LAYER\\): ${edge}/layers/${content.built.torrent.infoHashHex}: .*ECONNREFUSED.*: check that the edge is running \\(npm start\\)`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a missing, folder or broken torrent file: one line naming it, exit 1', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cli-errors-'));
  try {
    const missing = path.join(dir, 'missing.torrent');
    const folder = path.join(dir, 'a-folder');
    await mkdir(folder);
    const garbage = path.join(dir, 'garbage.torrent');
    await writeFile(garbage, 'this is not bencode');
    const notTorrent = path.join(dir, 'not-a-torrent.torrent');
    await writeFile(notTorrent, 'd3:fooi1ee'); // bencode, but no info dictionary
    const cases: [string, RegExp][] = [
      [missing, /: no such torrent file .*missing\.torrent \(ENOENT\): check the path\n$/],
      [folder, /: .*a-folder is a folder, not a \.torrent file \(EISDIR\): to make a torrent of it, run peer-node create .*a-folder\n$/],
      [garbage, /: .*garbage\.torrent is not a valid \.torrent file: unexpected byte 0x74, expected a value at byte 0\n$/],
      [notTorrent, /: .*not-a-torrent\.torrent is not a valid \.torrent file: info is missing\n$/],
    ];
    for (const [file, message] of cases) {
      for (const args of [
        ['info', file],
        ['download', file, '--out', path.join(dir, 'out'), '--port', '0', '--host', '127.0.0.1', '--no-dht'],
        ['seed', file, '--dir', dir, '--port', '0', '--host', '127.0.0.1', '--no-dht'],
        ['stream', file, '--host', '127.0.0.1', '--no-dht', '--out', path.join(dir, 'out')],
      ]) {
        const r = await cli(args);
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
        oneLine(r.stderr, new RegExp(`^peer-node ${args[0]}${message.source}`));
        assert.equal(r.stdout, '');
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a torrent URL that answers 404, HTML or more than a .torrent may hold: one line naming the URL, exit 1', { timeout: 60_000 }, async () => {
  const server = createServer((req, res) => {
    if (req.url === '/missing.torrent') {
      res.statusCode = 404;
      return void res.end('not here');
    }
    if (req.url === '/page.torrent') {
      res.setHeader('content-type', 'text/html');
      return void res.end('<html>a login page</html>');
    }
    // One byte over the bound: the reader stops there rather than buffering it all.
    res.end(Buffer.alloc(MAX_TORRENT_BYTES + 1, 0x64));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = await mkdtemp(path.join(tmpdir(), 'cli-errors-'));
  try {
    const cases: [string, RegExp][] = [
      ['/missing.torrent', /answered HTTP 404: check the URL \(the edge serves published torrents at \/t\/INFO-HASH\.torrent\)\n$/],
      ['/page.torrent', /did not answer a valid \.torrent file: unexpected byte 0x3c, expected a value at byte 0\n$/],
      ['/huge.torrent', new RegExp(`is larger than ${MAX_TORRENT_BYTES} bytes\\n$`)],
    ];
    for (const [route, message] of cases) {
      const r = await cli(['download', `${base}${route}`, '--out', path.join(dir, 'out'), '--port', '0', '--host', '127.0.0.1', '--no-dht']);
      assert.equal(r.code, 1, `${route}: ${r.stderr}`);
      oneLine(r.stderr, new RegExp(`^peer-node download: .*${base.replace(/\./g, '\\.')}${route.replace(/\./g, '\\.')}.*${message.source}`));
      assert.equal(r.stdout, '');
    }
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('an unreadable torrent file: permission denied, naming it, exit 1', { timeout: 60_000 }, async (t) => {
  // As root every file is readable: the CLI then runs as nobody, which needs the checkout to be
  // readable by others (a checkout in a private folder skips this part; the message itself is
  // also checked without a process below).
  const asRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(path.join(tmpdir(), 'cli-errors-'));
  try {
    const file = path.join(dir, 'locked.torrent');
    await writeFile(file, 'd3:fooi1ee');
    await chmod(file, 0o000);
    await chmod(dir, 0o755);
    const fake = Object.assign(new Error('open failed'), { code: 'EACCES', path: file });
    assert.equal(describeFileError(fake, 'torrent file'), `permission denied on ${file} (EACCES): check its owner and mode`);
    if (asRoot && !(await readableByOthers(PEER_NODE_BIN))) return t.skip('the checkout is not readable by other users, so nobody cannot run the CLI');
    const r = await cli(['info', file], {}, asRoot ? { uid: 65534, gid: 65534 } : {});
    assert.equal(r.code, 1, r.stderr);
    oneLine(r.stderr, new RegExp(`^peer-node info: permission denied on ${file.replace(/\./g, '\\.')} \\(EACCES\\): check its owner and mode\n$`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** Whether every folder down to `file` lets others in, and `file` lets them read. */
async function readableByOthers(file: string): Promise<boolean> {
  let at = path.resolve(file);
  if (((await stat(at)).mode & 0o004) === 0) return false;
  while (at !== path.dirname(at)) {
    at = path.dirname(at);
    if (((await stat(at)).mode & 0o001) === 0) return false;
  }
  return true;
}

test('usage mistakes and bad environment values: exit 2 naming the option or variable', { timeout: 60_000 }, async () => {
  const badPort = await cli(['seed', 'x.torrent', '--dir', '.', '--port', '99999']);
  assert.equal(badPort.code, 2);
  oneLine(badPort.stderr, /^peer-node seed: --port must be 0-65535, got 99999 \(see peer-node seed --help\)\n$/);
  const badEnv = await cli(['seed', 'x.torrent', '--dir', '.'], { PEER_NODE_PORT: 'http' });
  assert.equal(badEnv.code, 2);
  oneLine(badEnv.stderr, /^peer-node seed: PEER_NODE_PORT must be 0-65535, got http \(see peer-node seed --help\)\n$/);
  const badEdge = await cli(['publish', 'x', '--token', 't'], { EDGE_URL: 'ftp://edge' });
  assert.equal(badEdge.code, 2);
  oneLine(badEdge.stderr, /^peer-node publish: EDGE_URL must be an http\(s\) URL, got "ftp:\/\/edge"/);
  const unknown = await cli(['stream', 'x.torrent', '--fast']);
  assert.equal(unknown.code, 2);
  oneLine(unknown.stderr, /^peer-node stream: unknown option --fast \(see peer-node stream --help\)\n$/);
  const noToken = await cli(['publish', 'x', '--edge', 'http://127.0.0.1:9'], { EDGE_STATE_DIR: path.join(tmpdir(), 'no-such-edge-state') });
  assert.equal(noToken.code, 2);
  oneLine(noToken.stderr, /^peer-node publish: no publish token: pass --token, set PUBLISH_TOKEN, or run npm start first/);
});

test('a wrong publish token: the edge\'s refusal in one line, exit 1; --json is pure JSON, progress on stderr', { timeout: 120_000 }, () =>
  withEdge({}, async (edge) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cli-errors-'));
    try {
      const file = path.join(dir, 'clip.bin');
      await writeFile(file, Buffer.alloc(100_000, 3));
      const wrong = await cli(['publish', file, '--edge', edge.url.href, '--token', 'not-the-token', '--out', path.join(dir, 'clip.torrent')]);
      assert.equal(wrong.code, 1);
      assert.equal(wrong.stdout, '');
      // Hashing progress came first (plain timestamped lines: stderr is a pipe), then the error.
      const lines = wrong.stderr.split('\n').filter(Boolean);
      assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ hashing /);
      assert.doesNotMatch(wrong.stderr, /^\s+at /m);
      assert.equal(lines.at(-1), 'peer-node publish: the edge answered 403: wrong publish token: check --token or PUBLISH_TOKEN (the local edge\'s is in .edge-state/secrets.json, written by npm start)');
      const quiet = await cli(['publish', file, '--edge', edge.url.href, '--out', path.join(dir, 'clip.torrent'), '--quiet'], { PUBLISH_TOKEN: 'not-the-token' });
      assert.equal(quiet.code, 1);
      oneLine(quiet.stderr, /^peer-node publish: the edge answered 403: wrong publish token: check --token or PUBLISH_TOKEN/);

      // The right token from PUBLISH_TOKEN; --json: one JSON object on stdout, nothing on stderr.
      const ok = await cli(['publish', file, '--edge', edge.url.href, '--out', path.join(dir, 'clip.torrent'), '--json'], { PUBLISH_TOKEN: TEST_SECRETS.PUBLISH_TOKEN });
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stderr, '');
      const result = JSON.parse(ok.stdout) as { infoHash: string; torrent: string; magnet: string; length: number };
      assert.equal(result.length, 100_000);
      assert.match(result.magnet, new RegExp(`^magnet:\\?xt=urn:btih:${result.infoHash}`));
      assert.equal(ok.stdout.trim().split('\n').length, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }),
);
