import { BencodeError } from '../errors.js';
import { compareBytes, concatBytes, fromBinaryString, utf8 } from '../bytes.js';
import type { BEncodable } from './value.js';

const ENCODER_MAX_DEPTH = 256;
const ascii = (s: string) => utf8(s);
const L = Uint8Array.of(0x6c);
const D = Uint8Array.of(0x64);
const E = Uint8Array.of(0x65);

/**
 * Encodes a value canonically: dictionary keys sorted by raw bytes, integers in shortest form.
 * Dictionary keys are binary strings (one char per byte, as `decode` returns them); string
 * values are UTF-8. Throws BencodeError for a value bencode cannot represent (a non-integer
 * number, null, a key with a char above 0xff, a cycle).
 */
export function encode(value: BEncodable): Uint8Array {
  const parts: Uint8Array[] = [];
  write(parts, value, 0);
  return concatBytes(parts);
}

function write(parts: Uint8Array[], value: BEncodable, depth: number): void {
  if (depth > ENCODER_MAX_DEPTH) throw new BencodeError('too-deep', 'value nested too deeply (a cycle?)', 0);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new BencodeError('not-an-integer', `${value} is not a safe integer; bencode has only integers`, 0);
    }
    parts.push(ascii(`i${value}e`));
  } else if (typeof value === 'bigint') {
    parts.push(ascii(`i${value}e`));
  } else if (typeof value === 'string') {
    if (!value.isWellFormed()) throw new BencodeError('bad-string', 'string holds a lone surrogate; it has no UTF-8 form', 0);
    writeBytes(parts, utf8(value));
  } else if (value instanceof Uint8Array) {
    writeBytes(parts, value);
  } else if (Array.isArray(value)) {
    parts.push(L);
    for (const item of value as readonly BEncodable[]) write(parts, item, depth + 1);
    parts.push(E);
  } else if (typeof value === 'object' && value !== null && isPlainObject(value)) {
    const entries: [Uint8Array, BEncodable][] = [];
    for (const [key, member] of Object.entries(value)) {
      if (member === undefined) continue;
      const keyBytes = fromBinaryString(key);
      if (keyBytes === undefined) {
        throw new BencodeError('bad-key', `key ${JSON.stringify(key)} has a char above 0xff; keys are binary strings`, 0);
      }
      entries.push([keyBytes, member]);
    }
    entries.sort((a, b) => compareBytes(a[0], b[0]));
    parts.push(D);
    for (const [key, member] of entries) {
      writeBytes(parts, key);
      write(parts, member, depth + 1);
    }
    parts.push(E);
  } else {
    const what = value === null ? 'null' : typeof value === 'object' ? (value as object).constructor?.name ?? 'object' : typeof value;
    throw new BencodeError('unencodable', `cannot bencode ${what}`, 0);
  }
}

/** Only plain objects are dictionaries; a Map, Date, DataView or other typed array is refused. */
function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}

function writeBytes(parts: Uint8Array[], bytes: Uint8Array): void {
  parts.push(ascii(`${bytes.length}:`), bytes);
}
