import type { Env } from '../env.js';
import { type AnnounceParams, TRACKER_LIMITS } from '../../shared/tracker/announce-params.js';
import { decodeUdpRequest, encodeUdpResponse, type UdpRequest, UdpRequestError } from '../../shared/tracker/udp-packets.js';
import { type ClientEndpoint, checkConnectionId, issueConnectionId } from '../connection-ids/connection-id.js';
import { userOfPasskey } from '../access/passkeys.js';
import { connectionKeys } from './connection-keys.js';
import { announceToSwarm, scrapeSwarms } from './tracker-service.js';
import { toHex } from '../../shared/bytes.js';

/**
 * Serves one BEP 15 datagram from `client`; returns the reply datagram, or undefined where the
 * BEP says to stay silent (not a tracker packet, unknown or expired connection id).
 */
export async function handleUdpPacket(env: Env, packet: Uint8Array, client: ClientEndpoint): Promise<Uint8Array | undefined> {
  let request: UdpRequest;
  try {
    request = decodeUdpRequest(packet);
  } catch (err) {
    if (err instanceof UdpRequestError && err.transactionId !== undefined) {
      return encodeUdpResponse({ action: 'error', transactionId: err.transactionId, message: err.message });
    }
    if (err instanceof UdpRequestError) return undefined;
    throw err;
  }
  const now = Date.now();
  const keys = await connectionKeys(env, client.host);
  if (request.action === 'connect') {
    const connectionId = await issueConnectionId(keys[0]!, client, now);
    return encodeUdpResponse({ action: 'connect', transactionId: request.transactionId, connectionId });
  }
  // An id we did not issue to this address, or one older than two minutes: no answer at all.
  if (!(await checkConnectionId(keys, request.connectionId, client, now))) return undefined;
  const transactionId = request.transactionId;

  if (request.action === 'scrape') {
    const counts = await scrapeSwarms(env, request.infoHashes);
    const results = request.infoHashes.map((h) => {
      const c = counts.get(toHex(h));
      return { seeders: c?.complete ?? 0, completed: c?.downloaded ?? 0, leechers: c?.incomplete ?? 0 };
    });
    return encodeUdpResponse({ action: 'scrape', transactionId, results });
  }

  let user: string | undefined;
  // BEP 41: the tracker URL's path travels as URL data; ours carries the passkey of private torrents.
  const passkey = request.urlData === undefined ? undefined : /^\/p\/([^/?]+)\/announce/.exec(request.urlData)?.[1];
  if (passkey !== undefined) {
    user = env.PASSKEY_SECRET ? await userOfPasskey(env.PASSKEY_SECRET, passkey) : undefined;
    if (user === undefined) return encodeUdpResponse({ action: 'error', transactionId, message: 'unknown passkey' });
  }
  const params: AnnounceParams = {
    infoHash: request.infoHash,
    peerId: request.peerId,
    port: request.port,
    uploaded: request.uploaded,
    downloaded: request.downloaded,
    left: request.left,
    event: request.event,
    numwant: request.numWant < 0 ? TRACKER_LIMITS.defaultNumwant : Math.min(request.numWant, TRACKER_LIMITS.maxNumwant),
    compact: true,
    noPeerId: true,
    key: request.key.toString(16),
    // BEP 15's IP field is ignored: honouring it would let anyone list a third party's address.
    otherAddresses: [],
  };
  const answer = await announceToSwarm(env, params, { host: client.host }, user);
  if (!answer.ok) return encodeUdpResponse({ action: 'error', transactionId, message: answer.failure });
  // BEP 15: the peer size follows the family of the request's transport.
  const v6 = client.host.includes(':');
  const peers = answer.peers.filter((p) => p.host.includes(':') === v6).map(({ host, port }) => ({ host, port }));
  return encodeUdpResponse({
    action: 'announce',
    transactionId,
    interval: answer.interval,
    leechers: answer.counts.incomplete,
    seeders: answer.counts.complete,
    peers,
  });
}
