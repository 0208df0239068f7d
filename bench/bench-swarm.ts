/** Shared shapes of the benchmark swarms: deterministic info-hashes and peer ids. */

export function benchInfoHash(swarm: number): Uint8Array {
  return Uint8Array.from({ length: 20 }, (_, i) => (swarm * 37 + i * 11 + 1) & 0xff);
}

export function benchPeerId(peer: number): Uint8Array {
  return new TextEncoder().encode(`-BN0001-${String(peer).padStart(12, '0')}`);
}

/** The p-quantile of sorted numbers, rounded to 0.01. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! * 100) / 100;
}
