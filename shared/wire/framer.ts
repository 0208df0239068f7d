import { WireError } from '../errors.js';
import { decodeMessage, type WireMessage } from './messages.js';

/**
 * Turns a TCP byte stream into whole messages, whatever the chunking: a message split over
 * many reads, or many messages in one read. A length prefix above `maxMessageLength` is refused
 * as soon as its 4 bytes are in, before any of the body is buffered, so a peer cannot make us
 * hold more than one bounded message.
 */
export class MessageFramer {
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  /** Default cap: a 16 KiB block plus header is the usual largest, a bitfield of 1M pieces 128 KiB; 1 MiB leaves room for large extended messages. */
  constructor(readonly maxMessageLength = 1024 * 1024) {}

  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Adds bytes from the socket; returns every message now complete, in order. */
  push(data: Uint8Array): WireMessage[] {
    if (data.length > 0) {
      this.chunks.push(data);
      this.buffered += data.length;
    }
    const out: WireMessage[] = [];
    for (;;) {
      if (this.buffered < 4) return out;
      const head = this.peek(4);
      const length = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
      if (length > this.maxMessageLength) {
        throw new WireError('message.too-long', `length prefix ${length} is over the ${this.maxMessageLength}-byte limit`);
      }
      if (this.buffered < 4 + length) return out;
      const body = this.take(4 + length).subarray(4);
      out.push(decodeMessage(body));
    }
  }

  private peek(n: number): Uint8Array {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    return this.gather(n, false);
  }

  private take(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length === n) {
      this.chunks.shift();
      this.buffered -= n;
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return first.subarray(0, n);
    }
    return this.gather(n, true);
  }

  /** Copies the first n bytes out of several chunks; consumes them when asked. */
  private gather(n: number, consume: boolean): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    let i = 0;
    while (filled < n) {
      const c = this.chunks[i]!;
      const part = Math.min(c.length, n - filled);
      out.set(c.subarray(0, part), filled);
      filled += part;
      if (consume) {
        if (part === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(part);
      } else i++;
    }
    if (consume) this.buffered -= n;
    return out;
  }
}
