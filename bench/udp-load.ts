/**
 * UDP tracker load generator, run as its own process by tracker-announce.ts: CONCURRENCY
 * clients, each with its own socket, connect once (again every minute, as BEP 15 asks) and then
 * announce back to back for SECONDS, one request in flight each. Prints one JSON line.
 *
 * usage: node --import tsx bench/udp-load.ts HOST PORT SECONDS CONCURRENCY SWARMS
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { decodeUdpResponse, encodeUdpRequest } from '../shared/tracker/udp-packets.js';
import { benchInfoHash, benchPeerId, percentile } from './bench-swarm.js';

const [host = '127.0.0.1', portText = '6969', secondsText = '10', concurrencyText = '32', swarmsText = '20'] = process.argv.slice(2);
const port = Number(portText);
const seconds = Number(secondsText);
const concurrency = Number(concurrencyText);
const swarms = Number(swarmsText);
const TIMEOUT_MS = 2000;

const latencies: number[] = [];
let timeouts = 0;
let errors = 0;
const end = Date.now() + seconds * 1000;

async function client(index: number): Promise<void> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  let pending: ((reply: Uint8Array | undefined) => void) | undefined;
  socket.on('message', (msg) => pending?.(new Uint8Array(msg)));
  const ask = (bytes: Uint8Array) =>
    new Promise<Uint8Array | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), TIMEOUT_MS);
      pending = (reply) => {
        clearTimeout(timer);
        resolve(reply);
      };
      socket.send(bytes, port, host);
    });
  let connectionId: Uint8Array | undefined;
  let connectedAt = 0;
  let n = 0;
  while (Date.now() < end) {
    if (!connectionId || Date.now() - connectedAt > 60_000) {
      const reply = await ask(encodeUdpRequest({ action: 'connect', transactionId: n++ }));
      const decoded = reply && decodeUdpResponse(reply, 4);
      if (decoded?.action !== 'connect') {
        timeouts++;
        continue;
      }
      connectionId = decoded.connectionId;
      connectedAt = Date.now();
    }
    const peer = index * 1000 + (n % 50);
    const started = performance.now();
    const reply = await ask(
      encodeUdpRequest({
        action: 'announce',
        connectionId,
        transactionId: n++,
        infoHash: benchInfoHash(peer % swarms),
        peerId: benchPeerId(peer),
        downloaded: 0,
        left: peer % 3 === 0 ? 0 : 1000,
        uploaded: 0,
        event: 'none',
        ip: 0,
        key: peer,
        numWant: 50,
        port: 1024 + (peer % 60000),
      }),
    );
    if (!reply) timeouts++;
    else if (decodeUdpResponse(reply, 4).action !== 'announce') errors++;
    else latencies.push(performance.now() - started);
  }
  socket.close();
}

await Promise.all(Array.from({ length: concurrency }, (_, i) => client(i)));
latencies.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    requests: latencies.length,
    perSecond: Math.round(latencies.length / seconds),
    p50ms: percentile(latencies, 0.5),
    p99ms: percentile(latencies, 0.99),
    timeouts,
    errors,
  }),
);
