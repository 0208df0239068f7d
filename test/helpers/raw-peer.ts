/** Scripted raw-socket peers for tests: the peer-wire stream after a handshake, by hand. */
import type net from 'node:net';
import { MessageFramer } from '../../shared/wire/framer.js';
import { HANDSHAKE_LENGTH } from '../../shared/wire/handshake.js';
import type { WireMessage } from '../../shared/wire/messages.js';

/**
 * Skips the other side's 68-byte handshake (calling `handshake` once it is in), then hands every
 * whole message to `message`, whatever the TCP chunking.
 */
export function onWire(socket: net.Socket, handlers: { handshake?: () => void; message: (m: WireMessage) => void }): void {
  const framer = new MessageFramer();
  let head = Buffer.alloc(0);
  let shaken = false;
  socket.on('data', (d: Buffer) => {
    let data: Uint8Array = d;
    if (!shaken) {
      head = Buffer.concat([head, d]);
      if (head.length < HANDSHAKE_LENGTH) return;
      shaken = true;
      handlers.handshake?.();
      data = head.subarray(HANDSHAKE_LENGTH);
    }
    for (const m of framer.push(data)) handlers.message(m);
  });
}

/** Polls `check` every 50 ms until it holds; fails the test with `what` after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
