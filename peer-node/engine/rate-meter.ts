/**
 * Bytes per second over a sliding window of one-second buckets (default 5 s, as clients show
 * rates): smooth enough to size request pipelines and rank peers, quick enough to follow change.
 */
export class RateMeter {
  private buckets: Float64Array;
  private head = 0;
  private headSecond: number;
  total = 0;

  constructor(
    private readonly windowSeconds = 5,
    private readonly now: () => number = Date.now,
  ) {
    this.buckets = new Float64Array(windowSeconds);
    this.headSecond = Math.floor(now() / 1000);
  }

  add(bytes: number): void {
    this.advance();
    this.buckets[this.head]! += bytes;
    this.total += bytes;
  }

  /** Bytes per second over the window. */
  get rate(): number {
    this.advance();
    let sum = 0;
    for (const b of this.buckets) sum += b;
    return sum / this.windowSeconds;
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
