/** Scripted raw-socket peers for tests: the peer-wire stream after a handshake, by hand. */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { MessageFramer } from '../../shared/wire/framer.js';
import { decodeExtensionHandshake, encodeExtensionHandshake } from '../../shared/wire/extension-handshake.js';
import { encodeHandshake, HANDSHAKE_LENGTH } from '../../shared/wire/handshake.js';
import { encodeMessage, type WireMessage } from '../../shared/wire/messages.js';

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

/** Reserved bits: BEP 10 (byte 5, 0x10) and BEP 6 Fast (byte 7, 0x04). */
export function reservedBits(options: { fast?: boolean } = {}): Uint8Array {
  return Uint8Array.from([0, 0, 0, 0, 0, 0x10, 0, options.fast ? 0x04 : 0]);
}

/**
 * A raw peer that speaks BEP 10: it connects to our client, handshakes for `infoHash` offering
 * the extensions in `offer` (name -> the id it wants them under), and collects everything our
 * side sends. Resolves once our extension handshake is in, with the ids we asked for.
 * `listenPort` goes out as the handshake's `p` (where this peer would take connections).
 */
export async function rawExtensionPeer(port: number, infoHash: Uint8Array, offer: Map<string, number>, options: { fast?: boolean; listenPort?: number } = {}) {
  const peerId = randomBytes(20);
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  let closed = false;
  const gone = once(socket, 'close').then(() => {
    closed = true;
  });
  await once(socket, 'connect');
  const messages: WireMessage[] = [];
  let ours = new Map<string, number>();
  const handshakeIn = new Promise<void>((resolve) => {
    onWire(socket, {
      message: (m) => {
        messages.push(m);
        if (m.type === 'extended' && m.extendedId === 0) {
          ours = decodeExtensionHandshake(m.payload).m;
          resolve();
        }
      },
    });
  });
  socket.write(encodeHandshake({ reserved: reservedBits(options), infoHash, peerId }));
  socket.write(encodeMessage({ type: 'extended', extendedId: 0, payload: encodeExtensionHandshake({ m: offer, ...(options.listenPort ? { p: options.listenPort } : {}) }) }));
  await handshakeIn;
  return {
    socket,
    peerId,
    messages,
    /** Payloads our side sent under the id this peer asked for `name`. */
    heard: (name: string) => messages.filter((x): x is Extract<WireMessage, { type: 'extended' }> => x.type === 'extended' && x.extendedId === offer.get(name)).map((x) => x.payload),
    /** Sends `payload` as extension `name` under the id our side asked for. */
    send: (name: string, payload: Uint8Array) => {
      const id = ours.get(name);
      if (!id) throw new Error(`our side does not offer ${name}`);
      socket.write(encodeMessage({ type: 'extended', extendedId: id, payload }));
    },
    write: (m: WireMessage) => socket.write(encodeMessage(m)),
    isClosed: () => closed,
    gone,
  };
}
