/**
 * The demo's sample asset, made on this machine so that nothing is downloaded: a layered clip
 * of real H.264 renditions when ffmpeg is on the PATH (so the stream URL plays in any media
 * player), otherwise a synthetic layered asset of the same shape (the swarm and the layer
 * choices are the same; the bytes are not playable). Made once in the state folder and reused.
 */
import { execFileSync } from 'node:child_process';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { LAYERS_MANIFEST } from '../../peer-node/layers/layered-asset.js';
import { writeSyntheticLayeredAsset } from '../../peer-node/layers/synthetic-asset.js';
import { makeLayeredMedia } from '../make-layered-media.js';

export type AssetKind = 'media' | 'synthetic';

export interface DemoAsset {
  dir: string;
  kind: AssetKind;
  /** False when an earlier start made it. */
  made: boolean;
}

/** Seconds of clip, two-second segments. */
export const DEMO_SEGMENT_S = 2;

function hasFfmpeg(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v ffmpeg && command -v ffprobe'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const exists = (file: string) => access(file).then(() => true, () => false);

/**
 * The asset in `<demoDir>/asset-<kind>-<seconds>s`: a different kind or length is a different
 * folder, so a changed setting never reuses a stale asset.
 */
export async function ensureDemoAsset(demoDir: string, options: { kind?: AssetKind; seconds: number }): Promise<DemoAsset> {
  const kind = options.kind ?? (hasFfmpeg() ? 'media' : 'synthetic');
  const seconds = Math.max(DEMO_SEGMENT_S, Math.round(options.seconds / DEMO_SEGMENT_S) * DEMO_SEGMENT_S);
  const dir = path.join(demoDir, `asset-${kind}-${seconds}s`);
  // The manifest is written last by both makers: with it, the asset is whole.
  if (await exists(path.join(dir, LAYERS_MANIFEST))) return { dir, kind, made: false };
  if (kind === 'media') await makeLayeredMedia(dir, { duration: seconds, segmentDuration: DEMO_SEGMENT_S });
  else await writeSyntheticLayeredAsset(dir, { bitrates: [300_000, 700_000, 1_600_000], segmentDuration: DEMO_SEGMENT_S, segmentCount: seconds / DEMO_SEGMENT_S, mode: 'simulcast' });
  return { dir, kind, made: true };
}
