import { decode, encode, isBytes, isDict, type BEncodable } from '../bencode/index.js';
import { BencodeError, WireError } from '../errors.js';
import { fromUtf8, toBinaryString, utf8 } from '../bytes.js';

/**
 * The BEP 10 extension handshake (extended message id 0): a bencoded dictionary whose `m` maps
 * extension names to the message ids the sender wants to receive them under (0 = disabled).
 * Known optional fields are read when they have the right type and ignored otherwise, as real
 * clients do: a client that sends `v` as an integer is odd, not hostile. A payload that is not a
 * bencoded dictionary, or an `m` that is not a dictionary, is a protocol error.
 */
export interface ExtensionHandshake {
  /** Extension name -> id the sender receives it under; disabled (0) entries are left out. */
  m: Map<string, number>;
  /** Client name and version, e.g. "libtorrent 2.0.8". */
  v?: string;
  /** The sender's listen port. */
  p?: number;
  /** How many outstanding requests the sender will queue. */
  reqq?: number;
  /** Our address as the sender sees it: 4 or 16 bytes. */
  yourip?: Uint8Array;
  ipv4?: Uint8Array;
  ipv6?: Uint8Array;
  /** BEP 9: size of the info dictionary. */
  metadataSize?: number;
  /** BEP 21: the sender is a (partial) seed and will not download. */
  uploadOnly?: boolean;
}

/** Largest extension handshake accepted. */
export const MAX_EXTENSION_HANDSHAKE = 64 * 1024;

function int(v: unknown, min: number, max: number): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : undefined;
}

export function decodeExtensionHandshake(payload: Uint8Array): ExtensionHandshake {
  if (payload.length > MAX_EXTENSION_HANDSHAKE) {
    throw new WireError('extension.too-long', `extension handshake of ${payload.length} bytes is over ${MAX_EXTENSION_HANDSHAKE}`);
  }
  let value;
  try {
    value = decode(payload, { maxDepth: 8, maxValues: 10_000, maxBytes: MAX_EXTENSION_HANDSHAKE });
  } catch (err) {
    if (err instanceof BencodeError) throw new WireError('extension.bencode', `extension handshake is not bencode: ${err.message}`);
    throw err;
  }
  if (!isDict(value)) throw new WireError('extension.not-dict', 'extension handshake is not a dictionary');
  const mValue = value['m'];
  if (mValue !== undefined && !isDict(mValue)) throw new WireError('extension.bad-m', 'extension handshake "m" is not a dictionary');
  const m = new Map<string, number>();
  for (const [rawName, id] of Object.entries(mValue ?? {})) {
    const n = int(id, 0, 255);
    if (n === undefined || n === 0) continue;
    // Keys are binary strings (one char per byte); extension names are UTF-8.
    const name = fromUtf8(Uint8Array.from(rawName, (ch) => ch.charCodeAt(0)));
    if (name !== undefined) m.set(name, n);
  }
  const hs: ExtensionHandshake = { m };
  const v = value['v'];
  if (isBytes(v)) hs.v = fromUtf8(v) ?? String.fromCharCode(...v.subarray(0, 64));
  const p = int(value['p'], 1, 65535);
  if (p !== undefined) hs.p = p;
  const reqq = int(value['reqq'], 1, 1_000_000);
  if (reqq !== undefined) hs.reqq = reqq;
  const yourip = value['yourip'];
  if (isBytes(yourip) && (yourip.length === 4 || yourip.length === 16)) hs.yourip = yourip;
  const ipv4 = value['ipv4'];
  if (isBytes(ipv4) && ipv4.length === 4) hs.ipv4 = ipv4;
  const ipv6 = value['ipv6'];
  if (isBytes(ipv6) && ipv6.length === 16) hs.ipv6 = ipv6;
  const metadataSize = int(value['metadata_size'], 1, 64 * 1024 * 1024);
  if (metadataSize !== undefined) hs.metadataSize = metadataSize;
  const uploadOnly = int(value['upload_only'], 0, 1);
  if (uploadOnly !== undefined) hs.uploadOnly = uploadOnly === 1;
  return hs;
}

export function encodeExtensionHandshake(hs: ExtensionHandshake): Uint8Array {
  const m: Record<string, number> = {};
  // Keys are binary strings: a name goes out as its UTF-8 bytes, as the decoder reads it back.
  for (const [name, id] of hs.m) m[toBinaryString(utf8(name))] = id;
  const dict: Record<string, BEncodable | undefined> = {
    m,
    v: hs.v,
    p: hs.p,
    reqq: hs.reqq,
    yourip: hs.yourip,
    ipv4: hs.ipv4,
    ipv6: hs.ipv6,
    metadata_size: hs.metadataSize,
    upload_only: hs.uploadOnly === undefined ? undefined : hs.uploadOnly ? 1 : 0,
  };
  return encode(dict);
}
