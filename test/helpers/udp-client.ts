/** A bare BEP 15 client over a real UDP socket, for tests. */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { decodeUdpResponse, encodeUdpRequest, type UdpRequest, type UdpResponse } from '../../shared/tracker/index.js';

export class TestUdpClient {
  private constructor(private readonly socket: Socket, private readonly target: { host: string; port: number }) {}

  static async open(target: { host: string; port: number }): Promise<TestUdpClient> {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return new TestUdpClient(socket, target);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Sends raw bytes; resolves with the raw reply, or undefined after `waitMs` of silence. */
  async sendRaw(bytes: Uint8Array, waitMs = 1500): Promise<Uint8Array | undefined> {
    const reply = new Promise<Uint8Array | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.socket.off('message', onMessage);
        resolve(undefined);
      }, waitMs);
      const onMessage = (msg: Buffer) => {
        clearTimeout(timer);
        resolve(new Uint8Array(msg));
      };
      this.socket.once('message', onMessage);
    });
    this.socket.send(bytes, this.target.port, this.target.host);
    return reply;
  }

  async send(request: UdpRequest): Promise<UdpResponse | undefined> {
    const raw = await this.sendRaw(encodeUdpRequest(request));
    return raw === undefined ? undefined : decodeUdpResponse(raw, 4);
  }

  /** Sends raw bytes and decodes the reply. */
  async sendBytes(bytes: Uint8Array): Promise<UdpResponse | undefined> {
    const raw = await this.sendRaw(bytes);
    return raw === undefined ? undefined : decodeUdpResponse(raw, 4);
  }

  async connect(): Promise<Uint8Array> {
    const r = await this.send({ action: 'connect', transactionId: 1 });
    if (r?.action !== 'connect') throw new Error(`connect answered ${JSON.stringify(r)}`);
    return r.connectionId;
  }

  close(): void {
    this.socket.close();
  }
}
