import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { Pool } from 'undici';
import { decodeGatewayReplies, encodeGatewayBatch, GATEWAY_MAX_BATCH, GATEWAY_SECRET_HEADER } from '../../shared/tracker/gateway.js';
import { UDP_MAX_PACKET } from '../../shared/tracker/udp-packets.js';


export interface UdpGatewayOptions {
  /** Address to receive tracker datagrams on. */
  host: string;
  port: number;
  /** The edge's base URL; datagrams go to `POST {edge}/udp`. */
  edge: URL;
  /** The edge's GATEWAY_SECRET. */
  secret: string;
  /** Datagrams waiting at most; more are dropped (UDP clients retransmit, BEP 15). */
  maxInFlight?: number;
}

/** Batch requests on their way to the edge at once. */
const REQUESTS_IN_FLIGHT = 4;

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
 * Relays BEP 15 datagrams to the edge Worker, which cannot receive UDP itself. Datagrams that
 * arrive while earlier ones are on their way wait in a queue and travel together in one
 * `POST /udp/batch` over a keep-alive pool (so the edge can serve announces to one swarm in one
 * Durable Object call); each carries its sender's address, which the Worker believes only with
 * the shared secret. Replies go back to their senders.
 */
export async function startUdpGateway(options: UdpGatewayOptions): Promise<UdpGateway> {
  const socket: Socket = createSocket({ type: options.host.includes(':') ? 'udp6' : 'udp4' });
  const pool = new Pool(options.edge.origin, { connections: REQUESTS_IN_FLIGHT, keepAliveTimeout: 30_000 });
  const path = `${options.edge.pathname.replace(/\/$/, '')}/udp/batch`;
  const maxQueued = options.maxInFlight ?? 4096;
  const stats: UdpGatewayStats = { received: 0, answered: 0, silent: 0, dropped: 0, errors: 0 };
  const queue: { datagram: Buffer; from: RemoteInfo }[] = [];
  let inFlight = 0;
  let lastError = '';

  async function relay(batch: { datagram: Buffer; from: RemoteInfo }[]): Promise<void> {
    const body = encodeGatewayBatch(
      batch.map(({ datagram, from }) => ({
        client: from.family === 'IPv6' ? `[${from.address}]:${from.port}` : `${from.address}:${from.port}`,
        packet: datagram,
      })),
    );
    const response = await pool.request({
      method: 'POST',
      path,
      headers: { [GATEWAY_SECRET_HEADER]: options.secret, 'content-type': 'application/octet-stream' },
      body,
    });
    const reply = new Uint8Array(await response.body.arrayBuffer());
    if (response.statusCode !== 200) {
      // Without the secret: a wrong edge (a proxy, another server) may echo our headers back.
      const text = Buffer.from(reply).toString('utf8').slice(0, 200).split(options.secret).join('<secret>');
      throw new Error(`edge answered ${response.statusCode}: ${text}`);
    }
    decodeGatewayReplies(reply, batch.length).forEach((answer, i) => {
      const { from } = batch[i]!;
      if (answer === undefined) {
        stats.silent++;
        return;
      }
      stats.answered++;
      socket.send(answer, from.port, from.address);
    });
  }

  function pump(): void {
    while (inFlight < REQUESTS_IN_FLIGHT && queue.length > 0) {
      const batch = queue.splice(0, GATEWAY_MAX_BATCH);
      inFlight++;
      relay(batch)
        .catch((err: Error) => {
          stats.errors += batch.length;
          // One line per distinct problem, not one per datagram.
          if (err.message !== lastError) console.error(`udp-gateway: ${err.message}`);
          lastError = err.message;
        })
        .finally(() => {
          inFlight--;
          pump();
        });
    }
  }

  socket.on('message', (datagram, from) => {
    stats.received++;
    // Too big to be a tracker request, or more queued than the edge can take: drop it
    // (UDP clients retransmit, BEP 15).
    if (datagram.length > UDP_MAX_PACKET || queue.length >= maxQueued) {
      stats.dropped++;
      return;
    }
    queue.push({ datagram, from });
    pump();
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
