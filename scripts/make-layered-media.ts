/**
 * A real-media layered asset, made with ffmpeg and ffprobe: one synthetic test clip (lavfi
 * testsrc2 picture with a sine tone) encoded as three SIMULCAST renditions (independent H.264 +
 * AAC encodes at 320x180, 640x360 and 1280x720), not scalable video coding: no layer needs
 * another. Each rendition is cut into MPEG-TS segments that start on a keyframe (HLS muxer,
 * forced keyframes every segment), the segments are concatenated into one file per layer, and
 * layers.json records each segment's byte range and the bitrate measured from the bytes.
 *
 *   node --import tsx scripts/make-layered-media.ts OUT_DIR [--duration 16] [--segment-duration 2]
 *
 * Every segment, cut out by its byte range, decodes on its own (test/peer/layered-media.test.ts).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { LAYERS_MANIFEST, type LayerManifest, validateManifest } from '../peer-node/layers/layered-asset.js';
import { formatManifest } from '../peer-node/layers/synthetic-asset.js';

const run = promisify(execFile);

/** One rendition: picture size and target video bitrate (bits a second); audio is added. */
export interface Rendition {
  width: number;
  height: number;
  videoBitrate: number;
}

/** Low to high: layer 0 is the smallest. */
export const RENDITIONS: Rendition[] = [
  { width: 320, height: 180, videoBitrate: 200_000 },
  { width: 640, height: 360, videoBitrate: 600_000 },
  { width: 1280, height: 720, videoBitrate: 1_500_000 },
];

const FRAME_RATE = 25;
const AUDIO_BITRATE = 64_000;

/** The file of one rendition inside the asset folder. */
export const renditionFile = (k: number, r: Rendition) => `layer${k}-${r.width}x${r.height}.ts`;

export interface MediaOptions {
  /** Seconds of clip: a whole number of segments. */
  duration: number;
  /** Seconds per segment; every segment starts on a keyframe. */
  segmentDuration: number;
  renditions?: Rendition[];
}

async function ffmpeg(args: string[]): Promise<void> {
  try {
    await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args], { maxBuffer: 16 << 20 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`ffmpeg ${args.join(' ')} failed: ${stderr.trim() || (err as Error).message}`);
  }
}

/** Seconds of media in a file, as ffprobe reads it. */
async function probeDuration(file: string): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
  return Number(stdout.trim());
}

/** The segment files and their durations, in order, from an HLS media playlist. */
function readPlaylist(text: string): { file: string; duration: number }[] {
  const out: { file: string; duration: number }[] = [];
  let duration: number | undefined;
  for (const line of text.split(/\r?\n/)) {
    const extinf = /^#EXTINF:([\d.]+)/.exec(line);
    if (extinf) duration = Number(extinf[1]);
    else if (line !== '' && !line.startsWith('#')) {
      if (duration === undefined) throw new Error(`playlist: ${line} has no #EXTINF`);
      out.push({ file: line, duration });
      duration = undefined;
    }
  }
  return out;
}

/**
 * Makes the clip, its renditions and the asset in `dir` (which should be empty or missing):
 * one `.ts` file per rendition and layers.json. Returns the manifest.
 */
export async function makeLayeredMedia(dir: string, options: MediaOptions): Promise<LayerManifest> {
  const { duration, segmentDuration } = options;
  const renditions = options.renditions ?? RENDITIONS;
  const segmentCount = Math.round(duration / segmentDuration);
  if (!(segmentCount >= 1) || Math.abs(segmentCount * segmentDuration - duration) > 1e-6) {
    throw new Error(`--duration (${duration}) must be a whole number of segments of ${segmentDuration} s`);
  }
  const gop = Math.round(FRAME_RATE * segmentDuration);
  if (Math.abs(gop - FRAME_RATE * segmentDuration) > 1e-6) throw new Error(`--segment-duration must be a whole number of frames at ${FRAME_RATE} fps`);
  const work = await mkdtemp(path.join(tmpdir(), 'layered-media-'));
  try {
    // The one clip every rendition is encoded from: near-lossless 720p with a tone.
    const source = path.join(work, 'source.mp4');
    await ffmpeg([
      '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=${FRAME_RATE}:duration=${duration}`,
      '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${duration}`,
      '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '16', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-b:a', '128k', '-shortest', source,
    ]);
    const sourceDuration = await probeDuration(source);
    if (Math.abs(sourceDuration - duration) > 0.1) throw new Error(`the source clip lasts ${sourceDuration} s, not ${duration} s`);

    await mkdir(dir, { recursive: true });
    const layers = [];
    for (const [k, r] of renditions.entries()) {
      const out = path.join(work, `r${k}`);
      await mkdir(out);
      // Keyframes exactly at every segment start and nowhere else (fixed GOP, no scene cuts),
      // so the HLS muxer cuts every segmentDuration seconds and each segment decodes alone.
      await ffmpeg([
        '-i', source,
        '-vf', `scale=${r.width}:${r.height}`,
        '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p',
        '-b:v', String(r.videoBitrate), '-maxrate', String(Math.round(r.videoBitrate * 1.2)), '-bufsize', String(r.videoBitrate * 2),
        '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0',
        '-force_key_frames', `expr:gte(t,n_forced*${segmentDuration})`,
        '-c:a', 'aac', '-b:a', String(AUDIO_BITRATE), '-ac', '1',
        '-f', 'hls', '-hls_time', String(segmentDuration), '-hls_segment_type', 'mpegts',
        '-hls_list_size', '0', '-hls_playlist_type', 'vod',
        '-hls_segment_filename', path.join(out, 'seg%04d.ts'), path.join(out, 'index.m3u8'),
      ]);
      const playlist = readPlaylist(await readFile(path.join(out, 'index.m3u8'), 'utf8'));
      if (playlist.length !== segmentCount) {
        throw new Error(`rendition ${r.width}x${r.height}: ${playlist.length} segments, expected ${segmentCount} (${playlist.map((s) => s.duration).join(', ')} s)`);
      }
      const parts: Uint8Array[] = [];
      const segments: [number, number][] = [];
      let offset = 0;
      for (const s of playlist) {
        const bytes = await readFile(path.join(out, s.file));
        segments.push([offset, bytes.length]);
        parts.push(bytes);
        offset += bytes.length;
      }
      const file = renditionFile(k, r);
      await writeFile(path.join(dir, file), Buffer.concat(parts));
      // Measured: all bytes of the layer (video, audio, TS overhead) over its seconds.
      const seconds = playlist.reduce((sum, s) => sum + s.duration, 0);
      layers.push({ index: k, bitrate: Math.round((offset * 8) / seconds), path: file, segments });
    }
    const manifest = validateManifest({ version: 1, mode: 'simulcast', segmentDuration, segmentCount, layers });
    await writeFile(path.join(dir, LAYERS_MANIFEST), formatManifest(manifest));
    return manifest;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { duration: { type: 'string' }, 'segment-duration': { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) {
    console.error('usage: node --import tsx scripts/make-layered-media.ts OUT_DIR [--duration 16] [--segment-duration 2]');
    return 2;
  }
  const dir = positionals[0]!;
  const existing = await readdir(dir).catch(() => []);
  if (existing.length > 0) {
    console.error(`make-layered-media: ${dir} is not empty`);
    return 2;
  }
  const manifest = await makeLayeredMedia(dir, { duration: Number(values.duration ?? 16), segmentDuration: Number(values['segment-duration'] ?? 2) });
  console.log(`wrote ${dir}: ${manifest.layers.length} simulcast renditions, ${manifest.segmentCount} segments of ${manifest.segmentDuration} s`);
  for (const l of manifest.layers) {
    const [offset, length] = l.segments[l.segments.length - 1]!;
    console.log(`  ${l.path.padEnd(22)} ${String(l.bitrate).padStart(8)} bit/s measured  ${offset + length} bytes`);
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: Error) => {
      console.error(`make-layered-media: ${err.message}`);
      process.exitCode = 1;
    },
  );
}
