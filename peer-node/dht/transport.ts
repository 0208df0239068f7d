import { createSocket, type Socket } from 'node:dgram';

export interface Endpoint {
  address: string;
  port: number;
}

/**
 * What a DHT node sends and receives datagrams through: a UDP socket in use, an in-memory
 * network in simulations of thousands of nodes (memory-network.ts).
 */
export interface DhtTransport {
  /** Binds and resolves with the port bound (0 picks a free one). */
  bind(port: number, host: string): Promise<number>;
  send(bytes: Uint8Array, to: Endpoint): void;
  onMessage(handler: (bytes: Uint8Array, from: Endpoint) => void): void;
  onError(handler: (err: Error) => void): void;
  close(): void;
}

/** The transport in use: one UDP (IPv4) socket. */
export class UdpTransport implements DhtTransport {
  private readonly socket: Socket = createSocket('udp4');
  private bound = 0;

  async bind(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(port, host, () => {
        this.socket.off('error', reject);
        resolve();
      });
    });
    this.bound = this.socket.address().port;
    return this.bound;
  }

  send(bytes: Uint8Array, to: Endpoint): void {
    if (this.bound) this.socket.send(bytes, to.port, to.address);
  }

  onMessage(handler: (bytes: Uint8Array, from: Endpoint) => void): void {
    this.socket.on('message', (msg, rinfo) => handler(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), rinfo));
  }

  onError(handler: (err: Error) => void): void {
    this.socket.on('error', handler);
  }

  close(): void {
    if (!this.bound) return;
    this.bound = 0;
    this.socket.close();
  }
}
