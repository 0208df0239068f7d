import { TrackerError } from '../errors.js';

/**
 * The contract between `peer-node udp-gateway` and the edge's `POST /udp`: one datagram per
 * request; the source address travels in a header that the edge believes only with the secret.
 */
export const GATEWAY_CLIENT_HEADER = 'x-gateway-client';
export const GATEWAY_SECRET_HEADER = 'x-gateway-secret';

/** Most datagrams in one batch request, and most bytes of one batch body. */
export const GATEWAY_MAX_BATCH = 256;
export const GATEWAY_MAX_BATCH_BYTES = 256 * 1024;

/** One relayed datagram: the sender (`1.2.3.4:5678` or `[::1]:5678`) and the bytes. */
export interface GatewayDatagram {
  client: string;
  packet: Uint8Array;
}

/** A batch body that breaks the framing below (`tracker.gateway-batch`: the edge answers 400). */
export class GatewayBatchError extends TrackerError {
  constructor(message: string) {
    super('gateway-batch', message);
  }
}

/**
 * `POST /udp/batch` framing, all big-endian: per datagram, u8 length + the sender text, then
 * u16 length + the datagram. The answer holds, per datagram in order, u16 length + the reply
 * (length 0: no answer).
 */
export function encodeGatewayBatch(datagrams: readonly GatewayDatagram[]): Uint8Array {
  const encoder = new TextEncoder();
  const parts = datagrams.map((d) => ({ client: encoder.encode(d.client), packet: d.packet }));
  const out = new Uint8Array(parts.reduce((n, p) => n + 3 + p.client.length + p.packet.length, 0));
  let at = 0;
  for (const p of parts) {
    out[at++] = p.client.length;
    out.set(p.client, at);
    at += p.client.length;
    out[at++] = p.packet.length >> 8;
    out[at++] = p.packet.length & 0xff;
    out.set(p.packet, at);
    at += p.packet.length;
  }
  return out;
}

export function decodeGatewayBatch(body: Uint8Array): GatewayDatagram[] {
  if (body.length > GATEWAY_MAX_BATCH_BYTES) throw new GatewayBatchError(`batch larger than ${GATEWAY_MAX_BATCH_BYTES} bytes`);
  const decoder = new TextDecoder();
  const out: GatewayDatagram[] = [];
  let at = 0;
  while (at < body.length) {
    if (out.length >= GATEWAY_MAX_BATCH) throw new GatewayBatchError(`more than ${GATEWAY_MAX_BATCH} datagrams`);
    const clientLength = body[at++]!;
    if (at + clientLength + 2 > body.length) throw new GatewayBatchError('batch truncated in a sender address');
    const client = decoder.decode(body.subarray(at, at + clientLength));
    at += clientLength;
    const packetLength = (body[at]! << 8) | body[at + 1]!;
    at += 2;
    if (at + packetLength > body.length) throw new GatewayBatchError('batch truncated in a datagram');
    out.push({ client, packet: body.subarray(at, at + packetLength) });
    at += packetLength;
  }
  return out;
}

export function encodeGatewayReplies(replies: readonly (Uint8Array | undefined)[]): Uint8Array {
  const out = new Uint8Array(replies.reduce((n, r) => n + 2 + (r?.length ?? 0), 0));
  let at = 0;
  for (const r of replies) {
    const length = r?.length ?? 0;
    out[at++] = length >> 8;
    out[at++] = length & 0xff;
    if (r) out.set(r, at);
    at += length;
  }
  return out;
}

export function decodeGatewayReplies(body: Uint8Array, count: number): (Uint8Array | undefined)[] {
  const out: (Uint8Array | undefined)[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 2 > body.length) throw new GatewayBatchError('replies truncated');
    const length = (body[at]! << 8) | body[at + 1]!;
    at += 2;
    if (at + length > body.length) throw new GatewayBatchError('replies truncated');
    out.push(length === 0 ? undefined : body.subarray(at, at + length));
    at += length;
  }
  return out;
}
