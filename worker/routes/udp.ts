import { Hono } from 'hono';
import type { Env } from '../env.js';
import { UDP_MAX_PACKET } from '../../shared/tracker/udp-packets.js';
import { decodeGatewayBatch, encodeGatewayReplies, GATEWAY_CLIENT_HEADER, GATEWAY_MAX_BATCH_BYTES, GATEWAY_SECRET_HEADER, GatewayBatchError } from '../../shared/tracker/gateway.js';
import { canonicalIp, parseIPv6 } from '../../shared/ip.js';
import { secretsEqual } from '../access/secrets.js';
import { handleUdpBatch, handleUdpPacket, type UdpDatagram } from '../tracker/udp-tracker.js';


/**
 * `POST /udp`: one BEP 15 datagram in the body, relayed by `peer-node udp-gateway` (Workers
 * cannot receive UDP). The source address header is believed only with the gateway's secret.
 * 200 with the reply datagram, or 204 where the tracker stays silent.
 */
export const udp = new Hono<{ Bindings: Env }>();

udp.use('*', async (c, next) => {
  const secret = c.env.GATEWAY_SECRET;
  if (!secret) return c.json({ error: 'the UDP gateway is not configured on this edge (GATEWAY_SECRET)' }, 503);
  const given = c.req.header(GATEWAY_SECRET_HEADER);
  if (given === undefined || !(await secretsEqual(given, secret))) return c.json({ error: 'bad or missing gateway secret' }, 403);
  await next();
  return undefined;
});

/**
 * `POST /udp/batch`: what the gateway received while busy, framed as in shared/tracker/gateway.ts;
 * announces to one swarm are then served in one Durable Object call.
 */
udp.post('/batch', async (c) => {
  if (Number(c.req.header('content-length') ?? 0) > GATEWAY_MAX_BATCH_BYTES) return c.json({ error: 'batch too large' }, 413);
  const body = new Uint8Array(await c.req.arrayBuffer());
  let datagrams: UdpDatagram[];
  try {
    datagrams = decodeGatewayBatch(body).map(({ client, packet }) => {
      const endpoint = parseEndpoint(client);
      if (!endpoint) throw new GatewayBatchError(`bad sender address ${JSON.stringify(client)}`);
      return { client: endpoint, packet };
    });
  } catch (err) {
    if (err instanceof GatewayBatchError) return c.json({ error: err.message }, 400);
    throw err;
  }
  // Oversized datagrams are not tracker requests: silence, as for single datagrams.
  const replies = await handleUdpBatch(
    c.env,
    datagrams.map((d) => (d.packet.length > UDP_MAX_PACKET ? { ...d, packet: new Uint8Array(0) } : d)),
    (p) => c.executionCtx.waitUntil(p),
  );
  return c.body(encodeGatewayReplies(replies) as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/octet-stream' });
});

udp.post('/', async (c) => {
  const client = parseEndpoint(c.req.header(GATEWAY_CLIENT_HEADER) ?? '');
  if (!client) return c.json({ error: `${GATEWAY_CLIENT_HEADER} must be IP:port or [IPv6]:port` }, 400);
  const length = Number(c.req.header('content-length') ?? 'NaN');
  if (length > UDP_MAX_PACKET) return c.body(null, 204);
  const packet = new Uint8Array(await c.req.arrayBuffer());
  if (packet.length > UDP_MAX_PACKET) return c.body(null, 204);
  const reply = await handleUdpPacket(c.env, packet, client, (p) => c.executionCtx.waitUntil(p));
  if (!reply) return c.body(null, 204);
  return c.body(reply as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/octet-stream' });
});

function parseEndpoint(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  // One canonical text per address, so the connection-id MAC does not depend on spelling; a
  // dual-stack gateway reports IPv4 senders as ::ffff:a.b.c.d, which are IPv4 clients.
  const host = m[1] !== undefined ? (parseIPv6(m[1]) ? canonicalIp(m[1]) : undefined) : canonicalIp(m[2]!);
  return host === undefined || port < 1 || port > 65535 ? undefined : { host, port };
}
