/**
 * A byte-rate cap shared by everything it is handed to (a client's uploads to all peers of all
 * torrents, as a home link's upstream is shared). A token bucket that may go into debt: `take`
 * charges the bytes at once and resolves when the debt is paid off, so a block larger than the
 * burst still goes out, just later. Takers queue in arrival order, so no peer is starved.
 */
export class RateLimiter {
  private tokens: number;
  private at: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly bytesPerSecond: number,
    private readonly burst = Math.max(16 * 1024, bytesPerSecond / 10),
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(bytesPerSecond > 0)) throw new RangeError('a rate limit must be above 0 bytes a second');
    this.tokens = burst;
    this.at = now();
  }

  take(bytes: number): Promise<void> {
    const turn = this.queue.then(() => this.charge(bytes));
    this.queue = turn;
    return turn;
  }

  private async charge(bytes: number): Promise<void> {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.bytesPerSecond);
    this.at = now;
    this.tokens -= bytes;
    if (this.tokens < 0) await new Promise((resolve) => setTimeout(resolve, (-this.tokens / this.bytesPerSecond) * 1000));
  }
}
