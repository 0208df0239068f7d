/**
 * A streaming schedule the torrent follows (the layered player gives one; `setPlayback` makes
 * its own for a single byte stream): which pieces lead the picker, most urgent first, and when
 * each is due, so that the source policy can send a late one to the edge.
 */
export interface DeadlineSchedule {
  /** The pieces to fetch before all others as of `now`, most urgent first. */
  order(now: number): number[];
  /** When piece i is due (Date.now() clock, ms), as of the last order(); Infinity for a piece
   * with no deadline (an enhancement layer: playing without it costs quality, not a stall). */
  due(i: number): number;
  /** Bytes a second playback consumes now. */
  rate(): number;
  /** Playback time held ahead of the play position (ms), counting the startup wait. */
  bufferedMs(now: number): number;
  /**
   * A layered schedule: the lowest layer piece i belongs to (undefined outside the layers). The
   * source policy then counts as rivals for a missing piece only the peers whose announced
   * layer (LAYER-CHANGE) would fetch it.
   */
  layerOf?(i: number): number | undefined;
  /** Fetch the schedule's pieces and nothing else (no background download). */
  readonly exclusive?: boolean;
  /**
   * At most this many bytes asked of peers at once, over all of them (default: no cap). A slow
   * link with a 16-block pipeline to each of many peers has seconds of data queued, and a late
   * piece waits behind all of it.
   */
  requestBudget?(): number;
}
