import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { Pool } from 'undici';
import { GATEWAY_CLIENT_HEADER, GATEWAY_SECRET_HEADER } from '../../shared/tracker/gateway.js';
import { UDP_MAX_PACKET } from '../../shared/tracker/udp-packets.js';


export interface UdpGatewayOptions {
  /** Address to receive tracker datagrams on. */
  host: string;
  port: number;
  /** The edge's base URL; datagrams go to `POST {edge}/udp`. */
  edge: URL;
  /** The edge's GATEWAY_SECRET. */
  secret: string;
  /** Datagrams relayed at once; more are dropped (UDP clients retransmit, BEP 15). */
  maxInFlight?: number;
}

export interface UdpGatewayStats {
  received: number;
  answered: number;
  silent: number;
  dropped: number;
  errors: number;
}

export interface UdpGateway {
  address: { host: string; port: number };
  stats: UdpGatewayStats;
  close(): Promise<void>;
}

/**
 * Relays BEP 15 datagrams to the edge Worker, which cannot receive UDP itself: each datagram
 * becomes one `POST /udp` over a keep-alive pool, carrying the sender's address in a header that
 * the Worker believes only with the shared secret, and the reply (if any) goes back to the sender.
 */
export async function startUdpGateway(options: UdpGatewayOptions): Promise<UdpGateway> {
  const socket: Socket = createSocket({ type: options.host.includes(':') ? 'udp6' : 'udp4' });
  const pool = new Pool(options.edge.origin, { connections: 32, keepAliveTimeout: 30_000 });
  const path = `${options.edge.pathname.replace(/\/$/, '')}/udp`;
  const maxInFlight = options.maxInFlight ?? 512;
  const stats: UdpGatewayStats = { received: 0, answered: 0, silent: 0, dropped: 0, errors: 0 };
  let inFlight = 0;
  let lastError = '';

  async function relay(datagram: Buffer, from: RemoteInfo): Promise<void> {
    const client = from.family === 'IPv6' ? `[${from.address}]:${from.port}` : `${from.address}:${from.port}`;
    const response = await pool.request({
      method: 'POST',
      path,
      headers: { [GATEWAY_CLIENT_HEADER]: client, [GATEWAY_SECRET_HEADER]: options.secret, 'content-type': 'application/octet-stream' },
      body: datagram,
    });
    const reply = Buffer.from(await response.body.arrayBuffer());
    if (process.env.GATEWAY_DEBUG) console.error(`gw ${client} ${datagram.length}B action=${datagram.readUInt32BE(8)} -> ${response.statusCode} ${reply.length}B`);
    if (response.statusCode === 200 && reply.length > 0) {
      stats.answered++;
      socket.send(reply, from.port, from.address);
    } else if (response.statusCode === 204) {
      stats.silent++;
    } else {
      throw new Error(`edge answered ${response.statusCode}: ${reply.toString('utf8').slice(0, 200)}`);
    }
  }

  socket.on('message', (datagram, from) => {
    stats.received++;
    if (datagram.length > UDP_MAX_PACKET || inFlight >= maxInFlight) {
      stats.dropped++;
      return;
    }
    inFlight++;
    relay(datagram, from)
      .catch((err: Error) => {
        stats.errors++;
        // One line per distinct problem, not one per datagram.
        if (err.message !== lastError) console.error(`udp-gateway: ${err.message}`);
        lastError = err.message;
      })
      .finally(() => inFlight--);
  });
  socket.bind(options.port, options.host);
  await once(socket, 'listening');
  const bound = socket.address();
  return {
    address: { host: bound.address, port: bound.port },
    stats,
    async close() {
      socket.close();
      await pool.close();
    },
  };
}
