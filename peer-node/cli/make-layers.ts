import { readdir } from 'node:fs/promises';
import { MAX_LAYERS } from '../../shared/layers/layer-info.js';
import { writeSyntheticLayeredAsset } from '../layers/synthetic-asset.js';
import { parseBitrate, UsageError } from './args.js';
import { envHelp, parseCommandLine } from './env-config.js';

/** The options `peer-node make-layers` accepts. */
export const MAKE_LAYERS_OPTIONS = {
  bitrates: { type: 'string' },
  'segment-duration': { type: 'string' },
  duration: { type: 'string' },
  mode: { type: 'string' },
  seed: { type: 'string' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export const MAKE_LAYERS_HELP = `peer-node make-layers DIR --bitrates LIST [options]

Writes a synthetic layered asset into DIR for tests and experiments: one file per layer
(layer0.bin, layer1.bin, ...) of pseudo-random bytes cut into segments of about
bitrate * segment-duration / 8 bytes (each off by up to 10%, as encoders' segments are),
and the manifest DIR/layers.json. The bytes are not playable media; see docs/LAYERED.md for
real renditions made with ffmpeg. Publish the asset with: peer-node publish --layers DIR

Options:
  --bitrates LIST          bits a second of each layer, base layer first, comma-separated;
                           k = 1000 and M = 1000000 (bits, decimal), e.g. 300k,600k,1.2M
  --segment-duration S     seconds per segment (default 1)
  --duration S             seconds of media; rounded up to whole segments (default 30)
  --mode MODE              cumulative (each layer adds to the ones below; default) or
                           simulcast (each layer stands alone)
  --seed N                 same seed, same bytes (default 1)
  --force                  write into DIR even if it is not empty
  --json                   print the manifest as JSON

${envHelp('make-layers')}

Examples:
  peer-node make-layers ./asset --bitrates 300k,600k,1.2M --segment-duration 1 --duration 30
  peer-node make-layers ./talk --bitrates 500k,1M --mode simulcast --duration 8 --force --json`;

/** A number-of-seconds flag: above 0, at most an hour. */
function parseSeconds(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 3600 * 24) throw new UsageError(`${flag} must be a number of seconds above 0, got ${JSON.stringify(text)}`);
  return n;
}

export async function makeLayersCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('make-layers', args, MAKE_LAYERS_OPTIONS);
  if (positionals.length !== 1) throw new UsageError('make-layers takes exactly one DIR');
  const dir = positionals[0]!;
  if (values.bitrates === undefined) throw new UsageError('--bitrates is required, e.g. --bitrates 300k,600k,1.2M');
  const bitrates = values.bitrates.split(',').map((b) => parseBitrate(b, '--bitrates'));
  if (bitrates.length > MAX_LAYERS) throw new UsageError(`--bitrates: at most ${MAX_LAYERS} layers`);
  const segmentDuration = parseSeconds(values['segment-duration'], '--segment-duration', 1);
  const duration = parseSeconds(values.duration, '--duration', 30);
  // A hair of tolerance so that 3 / 0.1 is 30 segments, not 31.
  const segmentCount = Math.ceil(duration / segmentDuration - 1e-9);
  const mode = values.mode ?? 'cumulative';
  if (mode !== 'cumulative' && mode !== 'simulcast') throw new UsageError(`--mode must be cumulative or simulcast, got ${JSON.stringify(mode)}`);
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new UsageError(`--seed must be a whole number >= 0, got ${JSON.stringify(values.seed)}`);
  if (!values.force) {
    const existing = await readdir(dir).catch(() => []);
    if (existing.length > 0) throw new UsageError(`${dir} is not empty (pass --force to write into it anyway)`);
  }
  const manifest = await writeSyntheticLayeredAsset(dir, { bitrates, segmentDuration, segmentCount, mode, seed });
  if (values.json) {
    console.log(JSON.stringify(manifest));
    return 0;
  }
  console.log(`wrote ${dir}: ${manifest.layers.length} layers (${mode}), ${segmentCount} segments of ${segmentDuration} s`);
  for (const layer of manifest.layers) {
    const [offset, length] = layer.segments[layer.segments.length - 1]!;
    console.log(`  ${layer.path.padEnd(12)} ${String(layer.bitrate).padStart(10)} bit/s  ${offset + length} bytes`);
  }
  return 0;
}
