/**
 * Peer ids in the Azureus style that most clients use: `-XXVVVV-` then 12 random bytes
 * (BEP 20). Trackers and peers use the prefix to tell clients apart.
 */
export const CLIENT_PREFIX = '-ES0100-';
export const PEER_ID_LENGTH = 20;

/** A fresh 20-byte peer id: the client prefix then random bytes, printable for readability. */
export function generatePeerId(prefix: string = CLIENT_PREFIX): Uint8Array {
  if (!/^-[A-Za-z]{2}[0-9A-Za-z]{4}-$/.test(prefix)) {
    throw new RangeError(`peer id prefix must look like -XX1234-, got ${JSON.stringify(prefix)}`);
  }
  const id = new Uint8Array(PEER_ID_LENGTH);
  for (let i = 0; i < prefix.length; i++) id[i] = prefix.charCodeAt(i);
  const random = crypto.getRandomValues(new Uint8Array(PEER_ID_LENGTH - prefix.length));
  // Printable random part (0-9a-zA-Z) so the id survives logs and URL-unaware tools.
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  random.forEach((b, i) => (id[prefix.length + i] = alphabet.charCodeAt(b % alphabet.length)));
  return id;
}

/** The client and version named by an Azureus-style id, e.g. `{ client: 'ES', version: '0100' }`. */
export function parsePeerIdPrefix(peerId: Uint8Array): { client: string; version: string } | undefined {
  if (peerId.length !== PEER_ID_LENGTH || peerId[0] !== 0x2d || peerId[7] !== 0x2d) return undefined;
  const text = String.fromCharCode(...peerId.subarray(1, 7));
  if (!/^[A-Za-z]{2}[0-9A-Za-z]{4}$/.test(text)) return undefined;
  return { client: text.slice(0, 2), version: text.slice(2) };
}
