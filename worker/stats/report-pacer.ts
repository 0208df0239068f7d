/**
 * Paces reports from an isolate to a Durable Object (edge bytes, refusal counts): counts add up
 * in isolate memory and one report leaves at most every `flushMs`, from the `waitUntil` of the
 * request that opened the batch; the first after a quiet spell leaves at once. The request path
 * pays no call of its own. Only plain numbers are shared between requests (Workers hang a request
 * that waits on another request's promise).
 */
export type WaitUntil = (promise: Promise<unknown>) => void;

export class ReportPacer {
  /** A report is scheduled (its waitUntil holds the batch). */
  open = false;
  /** When the last report left (ms). */
  sentAt = 0;

  constructor(private readonly flushMs: number) {}

  /**
   * Schedules `send` unless a report is scheduled already (what it sends is read when it runs,
   * so counts added meanwhile go with it).
   */
  schedule(waitUntil: WaitUntil, send: () => Promise<void>): void {
    if (this.open) return;
    this.open = true;
    const wait = Math.max(0, this.sentAt + this.flushMs - Date.now());
    waitUntil(
      (async () => {
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        this.sentAt = Date.now();
        this.open = false;
        await send();
      })(),
    );
  }
}
