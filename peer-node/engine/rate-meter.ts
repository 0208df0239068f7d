/**
 * Bytes per second over a sliding window of one-second buckets (default 5 s, as clients show
 * rates): smooth enough to size request pipelines and rank peers, quick enough to follow change.
 */
export class RateMeter {
  private buckets: Float64Array;
  private head = 0;
  private headSecond: number;
  private readonly createdAt: number;
  total = 0;

  constructor(
    private readonly windowSeconds = 5,
    private readonly now: () => number = Date.now,
  ) {
    this.buckets = new Float64Array(windowSeconds);
    this.createdAt = now();
    this.headSecond = Math.floor(this.createdAt / 1000);
  }

  add(bytes: number): void {
    this.advance();
    this.buckets[this.head]! += bytes;
    this.total += bytes;
  }

  /**
   * Bytes per second over the window, or over the meter's life while that is shorter (at least
   * a second): a newcomer that got 1 MiB in its first second is at 1 MiB/s, not a fifth of it.
   */
  get rate(): number {
    this.advance();
    let sum = 0;
    for (const b of this.buckets) sum += b;
    const age = (this.now() - this.createdAt) / 1000;
    return sum / Math.min(this.windowSeconds, Math.max(1, age));
  }

  private advance(): void {
    const second = Math.floor(this.now() / 1000);
    const steps = Math.min(second - this.headSecond, this.windowSeconds);
    for (let i = 0; i < steps; i++) {
      this.head = (this.head + 1) % this.windowSeconds;
      this.buckets[this.head] = 0;
    }
    if (second > this.headSecond) this.headSecond = second;
  }
}
