/**
 * `peer-node stream --layered` as a viewer uses it, against our edge on Miniflare: a real
 * layered asset (three simulcast H.264 renditions of one clip, cut into MPEG-TS segments by
 * ffmpeg) is published with `publish --layers`; the stream takes its layer info from the
 * tracker (GET-LAYER), prints an HLS playlist URL first, and ffprobe decodes the whole stream
 * from that URL while it plays: every frame of every segment, each at the layer the player
 * chose, which stdout names segment by segment. Bad layer choices are refused before anything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';
import { PEER_NODE_BIN, runProcess } from '../helpers/local-process.js';
import { missingTools } from '../helpers/real-tools.js';

const skip = missingTools(['ffmpeg', 'ffprobe'], false);

test('stream --layered: GET-LAYER from the tracker, an HLS URL first, ffprobe decodes every segment as played', { skip, timeout: 180_000 }, () =>
  withEdge({}, async (edge) => {
    const root = await mkdtemp(path.join(tmpdir(), 'stream-layered-'));
    let streamer: ReturnType<typeof spawn> | undefined;
    try {
      const media = path.join(root, 'clip');
      const made = await runProcess(process.execPath, ['--import', 'tsx', 'scripts/make-layered-media.ts', media, '--duration', '8', '--segment-duration', '2'], 120_000);
      assert.equal(made.code, 0, made.stderr);
      const torrentPath = path.join(root, 'clip.torrent');
      const published = await runProcess(process.execPath, [PEER_NODE_BIN, 'publish', '--layers', media, '--edge', edge.url.href, '--token', TEST_SECRETS.PUBLISH_TOKEN, '--out', torrentPath]);
      assert.equal(published.code, 0, published.stderr);

      const refused = await runProcess(process.execPath, [PEER_NODE_BIN, 'stream', '--layered', torrentPath, '--layer', '7', '--no-dht', '--out', path.join(root, 'x')]);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /--layer 7: the asset has layers 0-2/);

      streamer = spawn(process.execPath, [PEER_NODE_BIN, 'stream', '--layered', torrentPath, '--no-dht', '--host', '127.0.0.1', '--out', path.join(root, 'out')], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      streamer.stdout!.on('data', (d) => (out += d));
      streamer.stderr!.on('data', (d) => (err += d));
      while (!out.includes('\n')) await once(streamer.stdout!, 'data');
      const url = out.split('\n')[0]!;
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/index\.m3u8$/);
      const playlist = await (await fetch(url)).text();
      assert.equal(playlist.match(/^segments\/\d+\.ts$/gm)?.length, 4);

      // ffprobe plays the playlist: each segment comes when the player plays it.
      const probe = await runProcess('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', url], 120_000);
      assert.equal(probe.code, 0, probe.stderr);
      assert.equal(Number(probe.stdout.trim().split('\n')[0]), 200, 'every frame of 8 s at 25 fps, whatever the layer of each segment');
      const [code] = (await once(streamer, 'exit')) as [number];
      assert.equal(code, 0, err);
      const lines = out.split('\n');
      for (let s = 0; s < 4; s++) assert.ok(lines.some((l) => new RegExp(`^segment ${s} layer [0-2]`).test(l)), `segment ${s} reported with its layer:\n${out}`);
      assert.match(out, /^played 4\/4 segments, mean layer [\d.]+, 0 stalls/m);
    } finally {
      if (streamer && streamer.exitCode === null) {
        streamer.kill('SIGINT');
        await once(streamer, 'exit');
      }
      await rm(root, { recursive: true, force: true });
    }
  }),
);
