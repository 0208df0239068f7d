import { decode, encode, isBytes, isDict, isList } from '../bencode/index.js';
import { fromUtf8 } from '../bytes.js';
import { BencodeError, WireError } from '../errors.js';

/**
 * BEP 28 tracker exchange (`lt_tex`): `{added: [url, ...]}`, the trackers the sender added since
 * its last message. At most MAX_TEX_TRACKERS a message; entries that are not http(s)/udp URLs of
 * sane length are dropped, not fatal (they are hints).
 */
export const MAX_TEX_TRACKERS = 50;
const MAX_TEX_MESSAGE = 32 * 1024;
const MAX_URL = 512;

export function encodeTexMessage(added: readonly string[]): Uint8Array {
  return encode({ added: added.slice(0, MAX_TEX_TRACKERS) });
}

export function decodeTexMessage(payload: Uint8Array): string[] {
  if (payload.length > MAX_TEX_MESSAGE) throw new WireError('lt-tex.too-long', `lt_tex message of ${payload.length} bytes (limit ${MAX_TEX_MESSAGE})`);
  let value;
  try {
    value = decode(payload, { maxDepth: 4, maxValues: 2000, maxBytes: MAX_TEX_MESSAGE });
  } catch (err) {
    if (err instanceof BencodeError) throw new WireError('lt-tex.bencode', `lt_tex message is not bencode: ${err.message}`);
    throw err;
  }
  if (!isDict(value)) throw new WireError('lt-tex.not-dict', 'lt_tex message is not a dictionary');
  const added = value['added'];
  if (added === undefined) return [];
  if (!isList(added)) throw new WireError('lt-tex.added', 'lt_tex "added" is not a list');
  // libtorrent sends its whole verified list: we take the first MAX_TEX_TRACKERS.
  const urls: string[] = [];
  for (const entry of added.slice(0, MAX_TEX_TRACKERS)) {
    const url = isBytes(entry) && entry.length <= MAX_URL ? fromUtf8(entry) : undefined;
    if (url && /^(https?|udp):\/\/[^\s]+$/i.test(url)) urls.push(url);
  }
  return urls;
}
