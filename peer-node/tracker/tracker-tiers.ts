/**
 * BEP 12 announce-list handling: tiers tried in order; the trackers inside each tier shuffled
 * once when the torrent is loaded; a tracker that answers moves to the front of its tier; on
 * failure the next tracker of the tier is tried, then the next tier. A torrent with only
 * `announce` is one tier of one. Private torrents (BEP 27) use exactly these trackers.
 * Also the waiting rules: the next regular announce after `interval`, never sooner than
 * `min interval`, and after a failure BEP 31 `retry in` minutes when given ('never' drops the
 * tracker), else a backoff that doubles from 15 s up to 30 minutes.
 */
export class TrackerTiers {
  readonly tiers: string[][];
  private failures = new Map<string, number>();
  private dropped = new Set<string>();

  constructor(announceList: readonly (readonly string[])[] | undefined, announce: string | undefined, random: () => number = Math.random) {
    const tiers = announceList && announceList.length > 0 ? announceList : announce ? [[announce]] : [];
    const seen = new Set<string>();
    this.tiers = tiers
      .map((tier) => tier.filter((url) => /^(https?|udp):\/\//i.test(url) && !seen.has(url) && seen.add(url)))
      .filter((tier) => tier.length > 0)
      .map((tier) => {
        const t = [...tier];
        for (let i = t.length - 1; i > 0; i--) {
          const j = Math.floor(random() * (i + 1));
          [t[i], t[j]] = [t[j]!, t[i]!];
        }
        return t;
      });
  }

  /** A tracker learned elsewhere (BEP 28) joins as a tier of its own, after the torrent's. */
  addTier(url: string): void {
    if (!this.tiers.some((t) => t.includes(url))) this.tiers.push([url]);
  }

  /** Trackers in the order to try them now. */
  order(): string[] {
    return this.tiers.flat().filter((url) => !this.dropped.has(url));
  }

  /** The tracker answered: it goes to the front of its tier. */
  succeeded(url: string): void {
    this.failures.delete(url);
    const tier = this.tiers.find((t) => t.includes(url));
    if (!tier) return;
    tier.splice(tier.indexOf(url), 1);
    tier.unshift(url);
  }

  /** The tracker failed; returns ms to wait before asking it again (undefined: dropped for good). */
  failed(url: string, retryIn?: number | 'never'): number | undefined {
    if (retryIn === 'never') {
      this.dropped.add(url);
      return undefined;
    }
    const n = (this.failures.get(url) ?? 0) + 1;
    this.failures.set(url, n);
    // Clamped: a tracker's odd `retry in` must neither spin us nor overflow a timer.
    if (retryIn !== undefined) return Math.min(Math.max(retryIn, 1), 24 * 60) * 60_000;
    return Math.min(15_000 * 2 ** (n - 1), 30 * 60_000);
  }
}

/** When to announce next after an answer: `interval`, but never sooner than `min interval`. */
export function nextAnnounceMs(interval: number, minInterval?: number): number {
  // Clamped to 30 s .. 1 day: 0 would hammer the tracker, and past 2^31 ms timers fire at once.
  const seconds = Math.min(Math.max(interval, minInterval ?? 0, 30), 86_400);
  return seconds * 1000;
}
