import type { Env } from '../env.js';
import { type AnnounceParams, TRACKER_LIMITS } from '../../shared/tracker/announce-params.js';
import { decodeUdpRequest, encodeUdpAnnounceResponse, encodeUdpResponse, type UdpRequest, UdpRequestError } from '../../shared/tracker/udp-packets.js';
import { type ClientEndpoint, checkConnectionId, issueConnectionId } from '../connection-ids/connection-id.js';
import { passkeyUserOf } from '../access/passkeys.js';
import { connectionKeys } from './connection-keys.js';
import { accessFor, announceUdpBatch, scrapeSwarms } from './tracker-service.js';
import { answerFromView, rememberSnapshot } from './swarm-views.js';
import { toHex } from '../../shared/bytes.js';
import { TrackerError } from '../../shared/errors.js';
import { layerOfQuery } from '../../shared/tracker/http-query.js';

/** Most IPv6 peers in one BEP 15 answer (20 + 66 x 18 = 1,208 bytes). */
const UDP_MAX_PEERS_V6 = 66;

/** One datagram and where it came from. */
export interface UdpDatagram {
  packet: Uint8Array;
  client: ClientEndpoint;
}

/**
 * Serves one BEP 15 datagram from `client`; returns the reply datagram, or undefined where the
 * BEP says to stay silent (not a tracker packet, unknown or expired connection id).
 */
export async function handleUdpPacket(env: Env, packet: Uint8Array, client: ClientEndpoint, waitUntil: WaitUntil): Promise<Uint8Array | undefined> {
  return (await handleUdpBatch(env, [{ packet, client }], waitUntil))[0];
}

type WaitUntil = (promise: Promise<unknown>) => void;

/**
 * Serves a batch of datagrams (the gateway sends what arrived while it was busy). Announces to
 * the same swarm travel to its Durable Object in one call, which is what makes UDP cheap here.
 * Replies come back in the order of the datagrams; undefined means no answer.
 */
export async function handleUdpBatch(env: Env, datagrams: readonly UdpDatagram[], waitUntil: WaitUntil): Promise<(Uint8Array | undefined)[]> {
  const replies: (Uint8Array | undefined)[] = new Array(datagrams.length).fill(undefined);
  const announces = new Map<string, { index: number; params: AnnounceParams; client: ClientEndpoint; user: string | undefined }[]>();
  const now = Date.now();
  await Promise.all(
    datagrams.map(async ({ packet, client }, index) => {
      let prepared: Prepared;
      try {
        prepared = await prepare(env, packet, client, now);
      } catch (err) {
        // One datagram's trouble (an overloaded swarm on a scrape) must not sink the batch:
        // this one goes unanswered, and its client retransmits (BEP 15).
        console.error('udp datagram failed', err);
        return;
      }
      if (prepared.kind === 'reply') replies[index] = prepared.reply;
      else if (prepared.kind === 'announce') {
        const key = toHex(prepared.params.infoHash);
        // Plain re-announces are answered from this isolate's view of the swarm (swarm-views.ts).
        const fast = answerFromView(env, key, prepared.params, { host: client.host }, accessFor(env, prepared.user), waitUntil);
        if (fast) {
          const family = client.host.includes(':') ? fast.peers6 : fast.peers4;
          replies[index] = encodeUdpAnnounceResponse(transactionOf(packet), fast.interval, fast.counts.incomplete, fast.counts.complete, family);
          return;
        }
        const group = announces.get(key) ?? [];
        group.push({ index, params: prepared.params, client, user: prepared.user });
        announces.set(key, group);
      }
    }),
  );
  await Promise.all(
    [...announces.entries()].map(async ([hex, group]) => {
      const allPublic = group.every((g) => g.user === undefined);
      const { answers, snapshot } = await announceUdpBatch(
        env,
        group.map(({ params, client, user }) => ({ params, client: { host: client.host }, user })),
        allPublic,
      );
      if (snapshot) rememberSnapshot(hex, snapshot);
      group.forEach(({ index }, i) => {
        const transactionId = transactionOf(datagrams[index]!.packet);
        const answer = answers[i]!;
        replies[index] = answer.ok
          ? encodeUdpAnnounceResponse(transactionId, answer.interval, answer.counts.incomplete, answer.counts.complete, answer.peers)
          : encodeUdpResponse({ action: 'error', transactionId, message: answer.failure });
      });
    }),
  );
  return replies;
}

function transactionOf(packet: Uint8Array): number {
  return new DataView(packet.buffer, packet.byteOffset, packet.byteLength).getUint32(12);
}

type Prepared =
  | { kind: 'reply'; reply: Uint8Array | undefined }
  | { kind: 'announce'; params: AnnounceParams; user: string | undefined };

/** Everything but the swarm: decoding, connection ids, scrapes, passkeys. */
async function prepare(env: Env, packet: Uint8Array, client: ClientEndpoint, now: number): Promise<Prepared> {
  let request: UdpRequest;
  try {
    request = decodeUdpRequest(packet);
  } catch (err) {
    if (!(err instanceof UdpRequestError)) throw err;
    if (err.transactionId === undefined) return { kind: 'reply', reply: undefined };
    // An error packet is larger than some requests: it goes only to a sender that proved its
    // address with a connection id, so a forged source cannot turn us into an amplifier.
    const keys = await connectionKeys(env, client.host);
    if (!(await checkConnectionId(keys, packet.subarray(0, 8), client, now))) return { kind: 'reply', reply: undefined };
    return { kind: 'reply', reply: encodeUdpResponse({ action: 'error', transactionId: err.transactionId, message: err.message }) };
  }
  const keys = await connectionKeys(env, client.host);
  if (request.action === 'connect') {
    const connectionId = await issueConnectionId(keys[0]!, client, now);
    return { kind: 'reply', reply: encodeUdpResponse({ action: 'connect', transactionId: request.transactionId, connectionId }) };
  }
  // An id we did not issue to this address, or one older than two minutes: no answer at all.
  if (!(await checkConnectionId(keys, request.connectionId, client, now))) return { kind: 'reply', reply: undefined };
  const transactionId = request.transactionId;

  if (request.action === 'scrape') {
    const counts = await scrapeSwarms(env, request.infoHashes);
    const results = request.infoHashes.map((h) => {
      const c = counts.get(toHex(h));
      return { seeders: c?.complete ?? 0, completed: c?.downloaded ?? 0, leechers: c?.incomplete ?? 0 };
    });
    return { kind: 'reply', reply: encodeUdpResponse({ action: 'scrape', transactionId, results }) };
  }

  // BEP 41: the tracker URL's path travels as URL data; ours carries the passkey of private torrents.
  const passkey = request.urlData === undefined ? undefined : /^\/p\/([^/?]+)\/announce/.exec(request.urlData)?.[1];
  const user = await passkeyUserOf(env.PASSKEY_SECRET, passkey);
  if (user === false) return { kind: 'reply', reply: encodeUdpResponse({ action: 'error', transactionId, message: 'unknown passkey' }) };
  const params: AnnounceParams = {
    infoHash: request.infoHash,
    peerId: request.peerId,
    port: request.port,
    uploaded: request.uploaded,
    downloaded: request.downloaded,
    left: request.left,
    event: request.event,
    // An answer must fit one datagram that libtorrent reads into 1,500 bytes and that needs no
    // fragmenting on a 1,280-byte IPv6 path: 200 IPv4 entries (1,220 bytes) or 66 IPv6 (1,208).
    numwant: Math.min(request.numWant < 0 ? TRACKER_LIMITS.defaultNumwant : request.numWant, client.host.includes(':') ? UDP_MAX_PEERS_V6 : TRACKER_LIMITS.maxNumwant),
    compact: true,
    noPeerId: true,
    key: request.key.toString(16),
    // BEP 15's IP field is ignored: honouring it would let anyone list a third party's address.
    otherAddresses: [],
  };
  // LAYER-CHANGE: the URL data's query (`/announce?layer=2`) says it as `layer=` does over HTTP.
  const urlData = request.urlData ?? '';
  const mark = urlData.indexOf('?');
  if (mark >= 0) {
    try {
      const layer = layerOfQuery(urlData.slice(mark + 1));
      if (layer !== undefined) params.layer = layer;
    } catch (err) {
      if (!(err instanceof TrackerError)) throw err;
      return { kind: 'reply', reply: encodeUdpResponse({ action: 'error', transactionId, message: err.message }) };
    }
  }
  return { kind: 'announce', params, user };
}
