/**
 * Publishing through the API and serving from R2 on Miniflare: BEP 19 ranges, BEP 17 pieces,
 * verification before anything is served, resumable publication, bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { publishPath, PublishRequestError } from '../../peer-node/publish/publish-client.js';
import { parseTorrent } from '../../shared/metainfo/index.js';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';
import { escapeBytes } from '../helpers/tracker-client.js';
import { fromHex } from '../../shared/bytes.js';

/** A GET whose path is sent as written (fetch would resolve the dots before sending). */
async function rawGet(base: URL, rawPath: string): Promise<Response> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, path: rawPath, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0 })));
    });
    req.on('error', reject);
    req.end();
  });
}

async function album(): Promise<{ dir: string; root: string; files: Record<string, Buffer>; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'publish-'));
  const root = path.join(dir, 'album');
  await mkdir(path.join(root, 'disc 1'), { recursive: true });
  const files: Record<string, Buffer> = {
    'disc 1/track 1.flac': randomBytes(9 * 1024 * 1024 + 12345), // more than one 8 MiB part
    'disc 1/notes.txt': Buffer.from('liner notes'),
    'empty.txt': Buffer.alloc(0),
    'z cover.jpg': randomBytes(70_000),
  };
  for (const [name, bytes] of Object.entries(files)) await writeFile(path.join(root, name), bytes);
  return { dir, root, files, remove: () => rm(dir, { recursive: true, force: true }) };
}

test('publish a folder, then fetch it back over BEP 19 (ranges, HEAD, whole files) and BEP 17', async () => {
  const a = await album();
  try {
    await withEdge({}, async (edge) => {
      const result = await publishPath({ path: a.root, edge: edge.url, token: TEST_SECRETS.PUBLISH_TOKEN, pieceLength: 32768 });
      const t = await parseTorrent(result.torrent);
      assert.equal(t.infoHashHex, result.infoHash);
      assert.equal(t.announce, `${edge.url.origin}/announce`);
      assert.deepEqual(t.urlList, [`${edge.url.origin}/seed/${result.infoHash}/`]);
      assert.deepEqual(t.httpSeeds, [`${edge.url.origin}/seed17`]);

      const seedUrl = (file: string) => new URL(`/seed/${result.infoHash}/album/${file.split('/').map(encodeURIComponent).join('/')}`, edge.url);
      const big = a.files['disc 1/track 1.flac']!;
      const ranged = await fetch(seedUrl('disc 1/track 1.flac'), { headers: { range: 'bytes=8388600-8388615' } });
      assert.equal(ranged.status, 206);
      assert.equal(ranged.headers.get('content-range'), `bytes 8388600-8388615/${big.length}`);
      assert.equal(ranged.headers.get('content-length'), '16');
      assert.equal(ranged.headers.get('accept-ranges'), 'bytes');
      assert.ok(ranged.headers.get('etag'));
      assert.ok(ranged.headers.get('last-modified'));
      assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), big.subarray(8388600, 8388616));
      // Inside one storage chunk (the one-buffer path), three times: the later reads come from memory.
      for (let i = 0; i < 3; i++) {
        const inside = await fetch(seedUrl('disc 1/track 1.flac'), { headers: { range: 'bytes=16384-32767' } });
        assert.equal(inside.status, 206);
        assert.deepEqual(Buffer.from(await inside.arrayBuffer()), big.subarray(16384, 32768));
      }
      // If-Range (RFC 9110 13.1.5): our validator keeps the range; another one gets the whole file.
      const etagOfCover = (await fetch(seedUrl('z cover.jpg'), { method: 'HEAD' })).headers.get('etag')!;
      const kept = await fetch(seedUrl('z cover.jpg'), { headers: { range: 'bytes=0-9', 'if-range': etagOfCover } });
      assert.equal(kept.status, 206);
      assert.equal((await kept.arrayBuffer()).byteLength, 10);
      const stale = await fetch(seedUrl('z cover.jpg'), { headers: { range: 'bytes=0-9', 'if-range': '"some-other-version"' } });
      assert.equal(stale.status, 200);
      assert.equal((await stale.arrayBuffer()).byteLength, 70000);
      const suffix = await fetch(seedUrl('z cover.jpg'), { headers: { range: 'bytes=-100' } });
      assert.deepEqual(Buffer.from(await suffix.arrayBuffer()), a.files['z cover.jpg']!.subarray(-100));
      const open = await fetch(seedUrl('z cover.jpg'), { headers: { range: 'bytes=69990-' } });
      assert.equal(open.headers.get('content-range'), 'bytes 69990-69999/70000');
      const whole = await fetch(seedUrl('disc 1/track 1.flac'));
      assert.equal(whole.status, 200);
      assert.equal(createHash('sha1').update(Buffer.from(await whole.arrayBuffer())).digest('hex'), createHash('sha1').update(big).digest('hex'));
      const head = await fetch(seedUrl('disc 1/notes.txt'), { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), '11');
      const empty = await fetch(seedUrl('empty.txt'));
      assert.equal(empty.status, 200);
      assert.equal((await empty.arrayBuffer()).byteLength, 0);

      // BEP 17: piece 288 straddles the end of the big file and the start of the cover image.
      const all = Buffer.concat([a.files['disc 1/notes.txt']!, big, a.files['empty.txt']!, a.files['z cover.jpg']!]);
      const pieceLength = 32768;
      const piece = Math.floor((11 + big.length) / pieceLength);
      const hashParam = escapeBytes(fromHex(result.infoHash)!);
      const bep17 = await fetch(new URL(`/seed17?info_hash=${hashParam}&piece=${piece}&ranges=0-99,30000-32767`, edge.url));
      assert.equal(bep17.status, 200);
      const expected = Buffer.concat([all.subarray(piece * pieceLength, piece * pieceLength + 100), all.subarray(piece * pieceLength + 30000, piece * pieceLength + 32768)]);
      assert.deepEqual(Buffer.from(await bep17.arrayBuffer()), expected);
      const wholePiece = await fetch(new URL(`/seed17?info_hash=${hashParam}&piece=1`, edge.url));
      assert.deepEqual(Buffer.from(await wholePiece.arrayBuffer()), all.subarray(pieceLength, 2 * pieceLength));
    });
  } finally {
    await a.remove();
  }
});

test('the seed refuses bad requests with the right status and a reason', async () => {
  const a = await album();
  try {
    await withEdge({}, async (edge) => {
      const { infoHash } = await publishPath({ path: a.root, edge: edge.url, token: TEST_SECRETS.PUBLISH_TOKEN, pieceLength: 32768 });
      const get = (p: string, headers: Record<string, string> = {}) => fetch(new URL(p, edge.url), { headers });
      const cover = `/seed/${infoHash}/album/z%20cover.jpg`;
      const cases: [Promise<Response>, number, RegExp][] = [
        [get(cover, { range: 'bytes=70000-70010' }), 416, /starts at 70000/],
        [get(cover, { range: 'bytes=5-2' }), 400, /ends .* before it starts/],
        [get(cover, { range: 'items=1-2' }), 400, /expected bytes=START-END/],
        [get(cover, { range: 'bytes=0-1,5-6' }), 400, /one range per request/],
        [rawGet(edge.url, `/seed/${infoHash}/album/disc%201/..%2f..%2fz%20cover.jpg`), 404, /no file/],
        [get(`/seed/${infoHash}/album/%2e%2e%2fz%20cover.jpg`), 404, /no file/],
        [get(`/seed/${infoHash}/album/%E0%A4%A`), 404, /no file/], // a bare '%' is taken as sent
        [get(`/seed/${'0'.repeat(40)}/album/z%20cover.jpg`), 404, /no published torrent/],
        [get('/seed/xyz/album'), 400, /40 hex/],
        [get(`/seed17?info_hash=${'a'.repeat(20)}&piece=0`), 404, /no published torrent/],
        [get(`/seed17?info_hash=${escapeBytes(fromHex(infoHash)!)}&piece=99999`), 400, /piece must be/],
        [get(`/seed17?info_hash=${escapeBytes(fromHex(infoHash)!)}&piece=0&ranges=0-40000`), 416, /outside piece 0/],
        [get(`/seed17?info_hash=${escapeBytes(fromHex(infoHash)!)}&piece=0&ranges=x`), 400, /START-END/],
        [get('/seed17?info_hash=short&piece=0'), 400, /20 bytes/],
      ];
      for (const [pending, status, reason] of cases) {
        const response = await pending;
        const text = await response.text();
        assert.equal(response.status, status, `${response.url} ${text}`);
        assert.match(text, reason, response.url);
      }
      // Dots sent as written are resolved by the runtime before routing: never a file outside.
      const traversal = await rawGet(edge.url, `/seed/${infoHash}/album/../../etc/passwd`);
      assert.ok(traversal.status === 400 || traversal.status === 404, `traversal answered ${traversal.status}`);
      const unsatisfiable = await get(cover, { range: 'bytes=70000-' });
      assert.equal(unsatisfiable.headers.get('content-range'), 'bytes */70000');
    });
  } finally {
    await a.remove();
  }
});

test('publishing needs the token; a publication that stops halfway serves nothing, and a retry completes it', async () => {
  const a = await album();
  try {
    await withEdge({}, async (edge) => {
      await assert.rejects(publishPath({ path: a.root, edge: edge.url, token: 'wrong' }), (e: unknown) => e instanceof PublishRequestError && /403: wrong publish token/.test(e.message));
      const none = await fetch(new URL('/api/publish', edge.url), { method: 'POST', body: '{}' });
      assert.equal(none.status, 401);
      // Stop after the first uploaded part: the edge has part of the content, nothing published.
      let parts = 0;
      await assert.rejects(
        publishPath({
          path: a.root,
          edge: edge.url,
          token: TEST_SECRETS.PUBLISH_TOKEN,
          pieceLength: 32768,
          onProgress: (phase) => {
            if (phase === 'uploading' && ++parts === 2) throw new Error('network went away');
          },
        }),
        /network went away/,
      );
      const infoHash = (await publishPath({ path: a.root, edge: edge.url, token: TEST_SECRETS.PUBLISH_TOKEN, pieceLength: 32768, onProgress: () => {} }).catch((e) => e)) as { infoHash?: string };
      assert.ok(infoHash.infoHash, 'the retry completed the publication');
      const served = await fetch(new URL(`/seed/${infoHash.infoHash}/album/z%20cover.jpg`, edge.url));
      assert.equal(served.status, 200);
    });
  } finally {
    await a.remove();
  }
});

test('content that does not match its piece hashes is refused and never served', async () => {
  const a = await album();
  try {
    await withEdge({}, async (edge) => {
      const auth = { authorization: `Bearer ${TEST_SECRETS.PUBLISH_TOKEN}` };
      // An info dictionary for one 40,000-byte file, then other bytes uploaded.
      const { buildTorrent, hashPieces } = await import('../../shared/metainfo/index.js');
      const real = randomBytes(40_000);
      const built = await buildTorrent({ name: 'x.bin', pieceLength: 16384, pieces: await hashPieces(real, 16384), length: real.length });
      const begin = await fetch(new URL('/api/publish', edge.url), { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ info: Buffer.from(built.torrent.infoBytes).toString('base64') }) });
      const { infoHash } = (await begin.json()) as { infoHash: string };
      const forged = Buffer.from(real);
      forged[20_000] = forged[20_000]! ^ 1;
      assert.equal((await fetch(new URL(`/api/publish/${infoHash}/files/0?part=1`, edge.url), { method: 'PUT', headers: auth, body: forged })).status, 200);
      const complete = await fetch(new URL(`/api/publish/${infoHash}/complete`, edge.url), { method: 'POST', headers: auth });
      assert.equal(complete.status, 422);
      assert.match(((await complete.json()) as { error: string }).error, /piece 1 does not match/);
      assert.equal((await fetch(new URL(`/seed/${infoHash}/x.bin`, edge.url))).status, 404, 'nothing is served');
      // Wrong sizes and unknown parts are refused with reasons.
      const short = await fetch(new URL(`/api/publish/${infoHash}/files/0?part=1`, edge.url), { method: 'PUT', headers: auth, body: real.subarray(1) });
      assert.equal(short.status, 400);
      assert.match(((await short.json()) as { error: string }).error, /must be 40000 bytes/);
      assert.equal((await fetch(new URL(`/api/publish/${infoHash}/files/7?part=1`, edge.url), { method: 'PUT', headers: auth, body: real })).status, 404);
      assert.equal((await fetch(new URL('/api/publish', edge.url), { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ info: btoa('d4:name1:xe') }) })).status, 400);
      // The real bytes complete it.
      await fetch(new URL(`/api/publish/${infoHash}/files/0?part=1`, edge.url), { method: 'PUT', headers: auth, body: real });
      assert.equal((await fetch(new URL(`/api/publish/${infoHash}/complete`, edge.url), { method: 'POST', headers: auth })).status, 200);
      assert.deepEqual(Buffer.from(await (await fetch(new URL(`/seed/${infoHash}/x.bin`, edge.url))).arrayBuffer()), real);
    });
  } finally {
    await a.remove();
  }
});

test('a private publication: each member gets the torrent with their own passkey, and only members announce', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'private-'));
  try {
    const file = path.join(dir, 'members.bin');
    await writeFile(file, randomBytes(50_000));
    await withEdge({}, async (edge) => {
      const published = await publishPath({ path: file, edge: edge.url, token: TEST_SECRETS.PUBLISH_TOKEN, private: true });
      const mine = await parseTorrent(published.torrent);
      assert.equal(mine.info.private, true);
      assert.match(mine.announce ?? '', /\/p\/publisher\.[A-Za-z0-9_-]{24}\/announce$/);
      const response = await fetch(new URL(`/api/torrents/${published.infoHash}/torrent?user=alice`, edge.url), { headers: { authorization: `Bearer ${TEST_SECRETS.PUBLISH_TOKEN}` } });
      assert.equal(response.status, 200);
      const alices = await parseTorrent(new Uint8Array(await response.arrayBuffer()));
      assert.equal(alices.infoHashHex, published.infoHash, 'the same swarm');
      assert.match(alices.announce ?? '', /\/p\/alice\./);
      const { announce } = await import('../helpers/tracker-client.js');
      const hash = fromHex(published.infoHash)!;
      const viaPasskey = await announce(new URL(alices.announce!), { hash, peer: 1, path: new URL(alices.announce!).pathname });
      assert.ok(!('failure' in viaPasskey));
      const anonymous = await announce(edge.url, { hash, peer: 2 });
      assert.ok('failure' in anonymous && /private torrent/.test(anonymous.failure));

      // The edge seeds a private torrent's bytes to members only, under the URLs their .torrent carries.
      const content = await readFile(file);
      const seedUrl = alices.urlList[0]!;
      assert.match(seedUrl, /\/p\/alice\.[A-Za-z0-9_-]{24}\/seed\/[0-9a-f]{40}\/members\.bin$/);
      const ranged = await fetch(seedUrl, { headers: { range: 'bytes=100-199' } });
      assert.equal(ranged.status, 206);
      assert.deepEqual(new Uint8Array(await ranged.arrayBuffer()), new Uint8Array(content.subarray(100, 200)));
      const piece0 = await fetch(`${alices.httpSeeds[0]!}?info_hash=${escapeBytes(hash)}&piece=0&ranges=0-99`);
      assert.equal(piece0.status, 200);
      assert.deepEqual(new Uint8Array(await piece0.arrayBuffer()), new Uint8Array(content.subarray(0, 100)));
      const open = await fetch(new URL(`/seed/${published.infoHash}/members.bin`, edge.url));
      assert.equal(open.status, 403);
      assert.match(await open.text(), /seeded to its members only/);
      const forged = await fetch(seedUrl.replace(/\/p\/alice\.[^/]+\//, '/p/alice.AAAAAAAAAAAAAAAAAAAAAAAA/'));
      assert.equal(forged.status, 403);
      assert.match(await forged.text(), /unknown passkey/);
      assert.equal((await fetch(new URL(`/seed17?info_hash=${escapeBytes(hash)}&piece=0`, edge.url))).status, 403);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('published content cannot change, parallel part uploads all count, and a single file is seeded at its own URL', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'parallel-'));
  try {
    await withEdge({}, async (edge) => {
      const auth = { authorization: `Bearer ${TEST_SECRETS.PUBLISH_TOKEN}` };
      const { buildTorrent, hashPieces } = await import('../../shared/metainfo/index.js');
      const content = randomBytes(3 * 8 * 1024 * 1024 + 1000); // four parts
      const built = await buildTorrent({ name: 'big %20 name.bin', pieceLength: 1 << 20, pieces: await hashPieces(content, 1 << 20), length: content.length });
      const begin = await fetch(new URL('/api/publish', edge.url), { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ info: Buffer.from(built.torrent.infoBytes).toString('base64') }) });
      const { infoHash } = (await begin.json()) as { infoHash: string };
      const part = (n: number) => content.subarray((n - 1) * 8 * 1024 * 1024, n * 8 * 1024 * 1024);
      // All four parts at once, last first: none may be lost.
      const answers = await Promise.all([4, 3, 2, 1].map((n) => fetch(new URL(`/api/publish/${infoHash}/files/0?part=${n}`, edge.url), { method: 'PUT', headers: auth, body: part(n) })));
      assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200]);
      const complete = await fetch(new URL(`/api/publish/${infoHash}/complete`, edge.url), { method: 'POST', headers: auth });
      assert.equal(complete.status, 200);
      const late = await fetch(new URL(`/api/publish/${infoHash}/files/0?part=1`, edge.url), { method: 'PUT', headers: auth, body: part(1) });
      assert.equal(late.status, 409);
      assert.match(((await late.json()) as { error: string }).error, /already published/);
      // BEP 19 for one file: the url-list names the file itself (webtorrent fetches it as it is).
      const t = await parseTorrent(new Uint8Array(await complete.arrayBuffer()));
      assert.deepEqual(t.urlList, [`${edge.url.origin}/seed/${infoHash}/big%20%2520%20name.bin`]);
      const r = await fetch(t.urlList[0]!, { headers: { range: 'bytes=25165820-25165829' } });
      assert.equal(r.status, 206);
      assert.deepEqual(Buffer.from(await r.arrayBuffer()), content.subarray(25165820, 25165830));
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
