/**
 * scripts/make-layered-media.ts with the real ffmpeg: three simulcast renditions of one clip,
 * and every sampled segment, cut out of its layer file by the byte range layers.json gives,
 * decodes on its own with ffprobe, starts on a keyframe and has its layer's picture size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { readLayeredAsset } from '../../peer-node/layers/layered-asset.js';
import { runProcess } from '../helpers/local-process.js';
import { missingTools } from '../helpers/real-tools.js';

const run = promisify(execFile);
const SCRIPT = path.join(import.meta.dirname, '..', '..', 'scripts', 'make-layered-media.ts');
const SIZES = [
  [320, 180],
  [640, 360],
  [1280, 720],
];

async function readRange(file: string, offset: number, length: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    assert.equal(bytesRead, length);
    return buffer;
  } finally {
    await handle.close();
  }
}

test('every layer of the media example: segments cut by byte range decode standalone at the layer size', { skip: missingTools(['ffmpeg', 'ffprobe'], false), timeout: 180_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'layered-media-'));
  try {
    const dir = path.join(root, 'asset');
    const made = await runProcess(process.execPath, ['--import', 'tsx', SCRIPT, dir, '--duration', '12', '--segment-duration', '2'], 150_000);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /3 simulcast renditions, 6 segments of 2 s/);
    const asset = await readLayeredAsset(dir);
    const { manifest } = asset;
    assert.equal(manifest.mode, 'simulcast');
    assert.equal(manifest.segmentCount, 6);
    assert.equal(manifest.layers.length, 3);
    const bitrates = manifest.layers.map((l) => l.bitrate);
    assert.ok(bitrates[0]! < bitrates[1]! && bitrates[1]! < bitrates[2]!, `bitrates rise with the layer: ${bitrates}`);
    for (const [k, layer] of manifest.layers.entries()) {
      // Measured from the bytes: the layer's file over its seconds.
      const fromBytes = (asset.lengths[k]! * 8) / (manifest.segmentCount * manifest.segmentDuration);
      assert.ok(Math.abs(layer.bitrate / fromBytes - 1) < 0.02, `layer ${k}: ${layer.bitrate} bit/s vs ${fromBytes} from the bytes`);
      const [width, height] = SIZES[k]!;
      for (const s of [0, 2, manifest.segmentCount - 1] as number[]) {
        const [offset, length] = layer.segments[s]!;
        const segment = path.join(root, `layer${k}-segment${s}.ts`);
        await writeFile(segment, await readRange(asset.files[k]!, offset, length));
        const probed = await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', segment]);
        const stream = (JSON.parse(probed.stdout) as { streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[] }).streams[0]!;
        const where: string = `layer ${k} segment ${s}`;
        assert.equal(stream.codec_name, 'h264', where);
        assert.deepEqual([stream.width, stream.height], [width, height], where);
        // 2 s at 25 fps; every frame decoded from this segment alone.
        assert.equal(Number(stream.nb_read_frames), 50, where);
        const frames = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=key_frame', '-of', 'json', segment], { maxBuffer: 16 << 20 });
        const keys = (JSON.parse(frames.stdout) as { frames: { key_frame: number }[] }).frames.map((f) => f.key_frame);
        assert.equal(keys[0], 1, `${where} starts on a keyframe`);
        assert.equal(keys.filter((key) => key === 1).length, 1, `${where}: one keyframe, at its start`);
        // A full decode reports no error.
        const decoded = await run('ffmpeg', ['-hide_banner', '-v', 'error', '-nostdin', '-i', segment, '-f', 'null', '-']);
        assert.equal(decoded.stderr.trim(), '', where);
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
