import type { SourcePolicyOptions } from '../engine/source-policy.js';
import { parseRate, UsageError } from './args.js';

/**
 * The source policy's thresholds as flags (engine/source-policy.ts): when the edge (the torrent's
 * web seeds) helps the peers. Unset flags keep the policy's defaults.
 */
const GRACE_OPTION = { 'edge-grace': { type: 'string' } } as const;

export const EDGE_OPTIONS = {
  'edge-min-rate': { type: 'string' },
  ...GRACE_OPTION,
} as const;

/**
 * Streaming has the playback thresholds instead of a minimum rate: the playback rate is the rate
 * a stream needs.
 */
export const STREAM_EDGE_OPTIONS = {
  ...GRACE_OPTION,
  'edge-margin': { type: 'string' },
  'edge-rate-buffer': { type: 'string' },
} as const;

const GRACE_HELP = `  --edge-grace SECONDS  how long peers found at start get before the edge fetches pieces no
                       peer has, or tops up a slow swarm (default 2)`;

export const EDGE_HELP = `  --edge-min-rate RATE  the edge also tops up while peers deliver less than RATE bytes a
                       second (default: the edge sends only pieces no connected peer has)
${GRACE_HELP}`;

export const STREAM_EDGE_HELP = `${GRACE_HELP}
  --edge-margin SECONDS  a piece due sooner than this, not delivered by a peer, comes from
                       the edge (default 1.5)
  --edge-rate-buffer SECONDS  while less than this is buffered and peers deliver slower than
                       playback, the edge fetches ahead (default 1; layered, twice the margin)`;

/** At most ten minutes: a longer threshold is a typo, not a setting. */
const MAX_SECONDS = 600;

function seconds(text: string, flag: string): number {
  const n = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : NaN;
  if (!(n >= 0 && n <= MAX_SECONDS)) throw new UsageError(`${flag}: expected seconds from 0 to ${MAX_SECONDS} like 1.5, got ${JSON.stringify(text)}`);
  return Math.round(n * 1000);
}

type EdgeFlag = keyof typeof EDGE_OPTIONS | keyof typeof STREAM_EDGE_OPTIONS;
const EDGE_FLAGS = Object.keys({ ...EDGE_OPTIONS, ...STREAM_EDGE_OPTIONS }) as EdgeFlag[];

/** The flags given, as SourcePolicyOptions; a UsageError naming the flag for a bad value. */
export function sourcePolicyOf(flags: Partial<Record<EdgeFlag, string>> & { 'no-web-seeds'?: boolean }): SourcePolicyOptions {
  const given = EDGE_FLAGS.find((f) => flags[f] !== undefined);
  if (given && flags['no-web-seeds']) throw new UsageError(`--${given} does nothing with --no-web-seeds (the edge is the web seeds)`);
  const policy: SourcePolicyOptions = {};
  if (flags['edge-min-rate'] !== undefined) policy.neededRate = parseRate(flags['edge-min-rate'], '--edge-min-rate');
  if (flags['edge-grace'] !== undefined) policy.graceMs = seconds(flags['edge-grace'], '--edge-grace');
  if (flags['edge-margin'] !== undefined) policy.deadlineMarginMs = seconds(flags['edge-margin'], '--edge-margin');
  if (flags['edge-rate-buffer'] !== undefined) policy.rateBufferMs = seconds(flags['edge-rate-buffer'], '--edge-rate-buffer');
  return policy;
}
