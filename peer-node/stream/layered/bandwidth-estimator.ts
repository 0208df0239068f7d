/**
 * How fast this peer can download, for the layer controller. Samples are the bytes that arrived
 * (from peers and the edge) over an interval in which we were busy: asking for more than had
 * arrived, so that the sample measures the path and not our own demand. Idle intervals say
 * nothing and are skipped (a peer at the base layer with a full buffer is not a slow peer).
 *
 * Two exponentially weighted averages, a fast one (follows drops within a couple of samples)
 * and a slow one (ignores bursts); the estimate is the lower of the two, the cautious choice
 * streaming players make.
 */
export class BandwidthEstimator {
  private fast?: number;
  private slow?: number;
  samples = 0;

  constructor(
    private readonly fastWeight = 0.5,
    private readonly slowWeight = 0.15,
  ) {}

  /** `bytes` arrived in `ms` while busy. */
  sample(bytes: number, ms: number): void {
    if (!(ms > 0)) return;
    const bitsPerSecond = (bytes * 8 * 1000) / ms;
    this.fast = this.fast === undefined ? bitsPerSecond : this.fast + this.fastWeight * (bitsPerSecond - this.fast);
    this.slow = this.slow === undefined ? bitsPerSecond : this.slow + this.slowWeight * (bitsPerSecond - this.slow);
    this.samples++;
  }

  /** Bits a second; undefined before any sample. */
  get estimate(): number | undefined {
    if (this.fast === undefined || this.slow === undefined) return undefined;
    return Math.min(this.fast, this.slow);
  }
}
