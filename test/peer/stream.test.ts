/**
 * `peer-node stream` as a viewer uses it: a real MP4 made by ffmpeg (index at the end, so the
 * player must seek), seeded by one of our peers on a capped link so that it arrives while it
 * plays; ffprobe decodes the whole stream from the printed URL and counts the same frames as in
 * the source. Also the HTTP side: Content-Type, ranges, 416 out of range, 404 elsewhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '../../peer-node/client.js';
import { readFile } from 'node:fs/promises';
import { parseTorrent } from '../../shared/metainfo/index.js';
import { missingTools } from '../helpers/real-tools.js';
import { PEER_NODE_BIN, runProcess } from '../helpers/local-process.js';

const BIN = PEER_NODE_BIN;
const run = (cmd: string, args: string[]) => runProcess(cmd, args);

async function frames(input: string): Promise<number> {
  const r = await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', input]);
  assert.equal(r.code, 0, `ffprobe ${input}: ${r.stderr}`);
  return Number(r.stdout.trim());
}

const skip = missingTools(['ffmpeg', 'ffprobe'], false);

test('a real MP4 plays from the stream URL while it downloads: ffprobe decodes every frame', { skip, timeout: 120_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'stream-'));
  const seedClient = new Client({ port: 0, host: '127.0.0.1', dht: false, uploadRateLimit: 32 * 1024 });
  let streamer: ReturnType<typeof spawn> | undefined;
  try {
    const media = path.join(root, 'media');
    await mkdir(media);
    const clip = path.join(media, 'clip.mp4');
    // 10 s of 640x360 test pattern at 25 fps; the MP4 index (moov) at the end, as cameras write it.
    const made = await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=10:size=640x360:rate=25', '-c:v', 'mpeg4', '-q:v', '4', '-y', clip]);
    assert.equal(made.code, 0, made.stderr);
    const sourceFrames = await frames(clip);
    assert.equal(sourceFrames, 250);

    const torrentPath = path.join(root, 'clip.torrent');
    const created = await run(process.execPath, [BIN, 'create', clip, '--piece-length', '32768', '--out', torrentPath]);
    assert.equal(created.code, 0, created.stderr);
    const torrent = await parseTorrent(await readFile(torrentPath));
    await seedClient.listen();
    await seedClient.add(torrent, { dir: media, trackers: false });

    streamer = spawn(process.execPath, [BIN, 'stream', torrentPath, '--peer', `127.0.0.1:${seedClient.port}`, '--no-dht', '--host', '127.0.0.1', '--out', path.join(root, 'out'), '--bitrate', '32k'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    streamer.stdout!.on('data', (d) => (out += d));
    streamer.stderr!.resume();
    while (!out.includes('\n')) await once(streamer.stdout!, 'data');
    const url = out.split('\n')[0]!;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/clip\.mp4$/);

    // Played while it downloads: the seed's capped link (32 KiB/s) takes 12 s for the file,
    // and the player's first bytes jump the queue of pieces the streamer had asked for before
    // the player came: little more than their piece is sent first (4 pieces allow 2 s of lag on a
    // loaded machine; without the jump it is the 16-block queue and then the piece, 9 pieces).
    const seedStats = () => seedClient.torrents.get(torrent.infoHashHex)!.statsSnapshot().uploaded;
    // The player comes a second and a half after the stream started (by then the streamer has
    // queued requests for pieces of its own choosing at the seed).
    await new Promise((r) => setTimeout(r, 1500));
    const before = seedStats();
    const first = await fetch(url, { headers: { range: 'bytes=0-999' } });
    assert.equal(first.status, 206);
    assert.equal((await first.arrayBuffer()).byteLength, 1000);
    const uploaded = seedStats();
    assert.ok(uploaded < torrent.info.length, `the first bytes played only when the seed had sent all ${torrent.info.length}`);
    assert.ok(uploaded - before <= 4 * 32768, `the seed sent ${uploaded - before} bytes between the player's request and its first bytes`);
    const head = await fetch(url, { method: 'HEAD' });
    assert.equal(head.headers.get('content-type'), 'video/mp4');
    assert.equal(head.headers.get('accept-ranges'), 'bytes');
    assert.equal(Number(head.headers.get('content-length')), torrent.info.length);
    assert.equal(await frames(url), sourceFrames, 'every frame decoded from the stream');

    const tail = await fetch(url, { headers: { range: 'bytes=-100' } });
    assert.equal(tail.status, 206);
    assert.equal(tail.headers.get('content-range'), `bytes ${torrent.info.length - 100}-${torrent.info.length - 1}/${torrent.info.length}`);
    assert.equal((await tail.arrayBuffer()).byteLength, 100);
    const past = await fetch(url, { headers: { range: `bytes=${torrent.info.length}-` } });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get('content-range'), `bytes */${torrent.info.length}`);
    assert.equal((await fetch(new URL('/other.mp4', url))).status, 404);
    assert.equal((await fetch(new URL('/%ZZ', url))).status, 400, 'a bad escape is the client\'s mistake, not a crash');
    const several = await fetch(url, { headers: { range: 'bytes=0-1,5-9' } });
    assert.equal(several.status, 200, 'several ranges are not served: the Range is ignored (RFC 9110)');
    assert.equal((await several.arrayBuffer()).byteLength, torrent.info.length);
    assert.equal((await fetch(url, { method: 'HEAD' })).status, 200, 'still serving');
  } finally {
    if (streamer && streamer.exitCode === null) {
      streamer.kill('SIGINT');
      await once(streamer, 'exit');
    }
    await seedClient.close();
    await rm(root, { recursive: true, force: true });
  }
});
