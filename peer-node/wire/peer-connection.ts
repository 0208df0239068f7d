import type { RateLimiter } from '../engine/rate-limiter.js';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { ProtocolError } from '../../shared/errors.js';
import { unmapIPv4 } from '../../shared/ip.js';
import { bytesEqual as equalBytes } from '../../shared/bytes.js';
import { MessageFramer } from '../../shared/wire/framer.js';
import { type Capabilities, capabilities, decodeHandshake, encodeHandshake, HANDSHAKE_LENGTH, reservedBytes } from '../../shared/wire/handshake.js';
import { encodeMessage, type WireMessage } from '../../shared/wire/messages.js';

/**
 * One peer-wire connection over TCP (BEP 3): the handshake both ways, then whole messages as
 * events. It owns the protocol's timing rules: a handshake must arrive within `handshakeTimeoutMs`,
 * a keep-alive goes out when we have sent nothing for `keepAliveMs`, and a peer silent for
 * `idleTimeoutMs` is dropped (BEP 3: keep-alives every two minutes; silence longer is a dead peer).
 * Any protocol error closes this connection only, with the reason in the `close` event.
 *
 * Events: `handshake` (remote Handshake), `message` (WireMessage), `close` (reason string).
 */
export interface ConnectionOptions {
  peerId: Uint8Array;
  capabilities: Capabilities;
  maxMessageLength?: number;
  handshakeTimeoutMs?: number;
  keepAliveMs?: number;
  idleTimeoutMs?: number;
  /** A download cap shared with other connections: reading pauses while it is in debt. */
  downloadLimiter?: RateLimiter;
}

export interface RemoteHandshake {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  capabilities: Capabilities;
}

const DEFAULTS = { handshakeTimeoutMs: 10_000, keepAliveMs: 60_000, idleTimeoutMs: 120_000 };

export class PeerConnection extends EventEmitter {
  remote?: RemoteHandshake;
  closed = false;
  closeReason?: string;
  private framer: MessageFramer;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private lastSent = Date.now();
  private lastReceived = Date.now();
  private timer: NodeJS.Timeout;
  private handshakeSent = false;

  private constructor(
    readonly socket: net.Socket,
    private readonly options: ConnectionOptions,
    /** Outgoing: the torrent we dialled for. Incoming: decides from the peer's info-hash. */
    private readonly expect: Uint8Array | ((infoHash: Uint8Array) => boolean),
  ) {
    super();
    this.framer = new MessageFramer(options.maxMessageLength);
    const o = { ...DEFAULTS, ...options };
    const started = Date.now();
    socket.setNoDelay(true);
    // Plain Uint8Array views, so that messages look the same whatever the socket hands us.
    socket.on('data', (d: Buffer) => {
      this.onData(new Uint8Array(d.buffer, d.byteOffset, d.length));
      // A home link's downstream: TCP backs the sender off while we do not read.
      const limiter = options.downloadLimiter;
      if (limiter && !socket.destroyed) {
        socket.pause();
        void limiter.take(d.length).then(() => {
          if (!socket.destroyed) socket.resume();
        });
      }
    });
    socket.on('error', (err) => this.close(`socket error: ${err.message}`));
    socket.on('close', () => this.close('the peer closed the connection'));
    this.timer = setInterval(() => {
      const now = Date.now();
      if (!this.remote && now - started > o.handshakeTimeoutMs) this.close('no handshake in time');
      else if (now - this.lastReceived > o.idleTimeoutMs) this.close(`silent for ${Math.round((now - this.lastReceived) / 1000)} s`);
      else if (this.remote && now - this.lastSent > o.keepAliveMs) this.send({ type: 'keepAlive' });
    }, Math.min(1000, o.keepAliveMs, o.handshakeTimeoutMs));
    this.timer.unref();
  }

  /** Dials a peer for `infoHash` and sends our handshake at once. */
  static connect(host: string, port: number, infoHash: Uint8Array, options: ConnectionOptions): PeerConnection {
    const socket = net.connect({ host, port });
    const connection = new PeerConnection(socket, options, infoHash);
    connection.sendHandshake(infoHash);
    return connection;
  }

  /** Takes an accepted socket; answers the handshake only for a torrent `knows` accepts. */
  static accept(socket: net.Socket, knows: (infoHash: Uint8Array) => boolean, options: ConnectionOptions): PeerConnection {
    return new PeerConnection(socket, options, knows);
  }

  /** What both sides set in their handshakes: only these may be used on this connection. */
  get negotiated(): Capabilities {
    const theirs = this.remote?.capabilities;
    const ours = this.options.capabilities;
    return {
      extensionProtocol: ours.extensionProtocol && theirs?.extensionProtocol === true,
      fast: ours.fast && theirs?.fast === true,
      dht: ours.dht && theirs?.dht === true,
    };
  }

  /** The peer's IP as text, IPv4-mapped IPv6 shown as IPv4 ('' once the socket is gone). */
  get remoteIp(): string {
    return unmapIPv4(this.socket.remoteAddress ?? '');
  }

  get remoteAddress(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }

  send(message: WireMessage): void {
    if (this.closed || !this.remote) return;
    this.lastSent = Date.now();
    this.socket.write(encodeMessage(message));
  }

  /** Closes the connection once; the reason is what the `close` event and logs carry. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    clearInterval(this.timer);
    this.socket.destroy();
    this.emit('close', reason);
  }

  private sendHandshake(infoHash: Uint8Array): void {
    this.handshakeSent = true;
    this.lastSent = Date.now();
    this.socket.write(encodeHandshake({ reserved: reservedBytes(this.options.capabilities), infoHash, peerId: this.options.peerId }));
  }

  private onData(data: Uint8Array): void {
    if (this.closed) return;
    this.lastReceived = Date.now();
    try {
      if (!this.remote) {
        this.pending.push(data);
        this.pendingBytes += data.length;
        const head = this.pending.length === 1 ? this.pending[0]! : new Uint8Array(Buffer.concat(this.pending, this.pendingBytes));
        const hs = decodeHandshake(head);
        if (!hs) return;
        this.pending = [];
        const wanted = typeof this.expect === 'function' ? this.expect(hs.infoHash) : equalBytes(hs.infoHash, this.expect);
        if (!wanted) return this.close('the peer asked for a torrent we do not have');
        if (equalBytes(hs.peerId, this.options.peerId)) return this.close('connected to ourselves');
        if (!this.handshakeSent) this.sendHandshake(hs.infoHash);
        this.remote = { infoHash: hs.infoHash, peerId: hs.peerId, capabilities: capabilities(hs.reserved) };
        this.emit('handshake', this.remote);
        data = head.subarray(HANDSHAKE_LENGTH);
        if (data.length === 0 || this.closed) return;
      }
      for (const message of this.framer.push(data)) {
        if (this.closed) return;
        this.emit('message', message);
      }
    } catch (err) {
      if (err instanceof ProtocolError) this.close(`protocol error: ${err.message}`);
      else throw err;
    }
  }
}
