/**
 * A swarm's recent history for the dashboard: one sample per 10 s bucket, at most 360 (an
 * hour), oldest dropped first. Pure: the Swarm object persists what `record` reports.
 */

/** Width of one sample's bucket (ms). */
export const SAMPLE_BUCKET_MS = 10_000;
/** Most samples kept (one hour of 10 s buckets). */
export const MAX_SAMPLES = 360;

/** The swarm at the end of one bucket. Byte counts are cumulative since the swarm began. */
export interface TrafficSample {
  /** Start of the bucket (ms since the epoch, a multiple of SAMPLE_BUCKET_MS). */
  t: number;
  seeds: number;
  leechers: number;
  /** Bytes the edge's HTTP seed sent for this torrent. */
  edgeBytes: number;
  /** Bytes peers reported uploading to each other (sum of `uploaded` increases). */
  peerBytes: number;
}

export class TrafficSeries {
  private readonly samples: TrafficSample[];

  constructor(loaded: TrafficSample[] = []) {
    this.samples = [...loaded].sort((a, b) => a.t - b.t).slice(-MAX_SAMPLES);
  }

  /**
   * Puts the swarm's figures at `now` into the current bucket: overwrites that bucket's sample,
   * or starts a new one. Returns the sample, and the oldest bucket still kept when one was
   * dropped (the persistence layer deletes rows before it).
   */
  record(now: number, figures: Omit<TrafficSample, 't'>): { sample: TrafficSample; keptFrom?: number } {
    const t = now - (now % SAMPLE_BUCKET_MS);
    const last = this.samples[this.samples.length - 1];
    // A clock that stepped back writes into the latest bucket rather than reorder the series.
    if (last && last.t >= t) {
      Object.assign(last, figures);
      return { sample: last };
    }
    const sample = { t, ...figures };
    this.samples.push(sample);
    if (this.samples.length <= MAX_SAMPLES) return { sample };
    this.samples.splice(0, this.samples.length - MAX_SAMPLES);
    return { sample, keptFrom: this.samples[0]!.t };
  }

  /** The samples, oldest first (copies). */
  toArray(): TrafficSample[] {
    return this.samples.map((s) => ({ ...s }));
  }

  /** The latest sample, if any. */
  get last(): TrafficSample | undefined {
    return this.samples[this.samples.length - 1];
  }

  get length(): number {
    return this.samples.length;
  }
}
