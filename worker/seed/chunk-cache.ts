/**
 * Hot content in isolate memory, as a CDN edge keeps it: whole storage chunks (8 MiB), least
 * recently used out first, within a byte budget. Admission is frequency-based (a TinyLFU-like
 * rule): a chunk comes in once it has been asked for twice and, when the cache is full, only if
 * it is asked for more often than the chunk it would push out, so that scans and uniformly
 * random reads do not churn the cache. Plain data, shared by the requests of one isolate.
 */
export class ChunkCache {
  private readonly entries = new Map<string, Uint8Array>();
  private readonly frequency = new Map<string, number>();
  private bytes = 0;
  private touches = 0;
  /** Chunks some request is loading right now: others read ranges meanwhile (a promise cannot be shared across requests in Workers). */
  private readonly loading = new Set<string>();

  constructor(readonly budget: number) {}

  get size(): number {
    return this.bytes;
  }

  /** The cached chunk, marking it recently used; undefined when absent. */
  get(key: string): Uint8Array | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  /** Counts a request for `key`; true when a miss on it should bring the whole chunk in. */
  touch(key: string, chunkBytes: number): boolean {
    const count = (this.frequency.get(key) ?? 0) + 1;
    this.frequency.set(key, count);
    // Halve every count now and then, so that old popularity fades.
    if (++this.touches >= 10_000) {
      this.touches = 0;
      for (const [k, v] of this.frequency) {
        if (v <= 1) this.frequency.delete(k);
        else this.frequency.set(k, v >> 1);
      }
    }
    if (this.entries.has(key) || this.loading.has(key) || count < 2 || chunkBytes > this.budget) return false;
    let admit = this.bytes + chunkBytes <= this.budget;
    if (!admit) {
      // Twice as popular as the chunk it would push out: uniform or shifting access does not churn.
      const victim = this.entries.keys().next().value;
      admit = victim !== undefined && count > 2 * (this.frequency.get(victim) ?? 0);
    }
    if (admit) this.loading.add(key);
    return admit;
  }

  /** A load that `touch` allowed ended (with or without a chunk). */
  loaded(key: string): void {
    this.loading.delete(key);
  }

  put(key: string, chunk: Uint8Array): void {
    if (this.entries.has(key) || chunk.length > this.budget) return;
    while (this.bytes + chunk.length > this.budget) {
      const [victim, bytes] = this.entries.entries().next().value!;
      this.entries.delete(victim);
      this.bytes -= bytes.length;
    }
    this.entries.set(key, chunk);
    this.bytes += chunk.length;
  }
}
