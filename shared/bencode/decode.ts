import { BencodeError } from '../errors.js';
import { compareBytes, toBinaryString } from '../bytes.js';
import { type BDict, type BList, type BValue, newDict } from './value.js';

/** Limits and strictness for one decode. */
export interface DecodeOptions {
  /** Dictionary keys must be strictly ascending by raw bytes (sorted and unique, BEP 3). */
  strictKeys?: boolean;
  /** Deepest nesting of lists and dictionaries; deeper input is rejected. */
  maxDepth?: number;
  /** Largest input accepted, in bytes. */
  maxBytes?: number;
  /**
   * Most values (strings, integers, lists, dictionaries) in one input. Bounds memory: a
   * 2-byte `0:` becomes an object of about a hundred bytes, so bytes alone do not.
   */
  maxValues?: number;
}

/** What a prefix decode returns: the value, where it ended, and the spans of top-level dict values. */
export interface DecodeResult {
  value: BValue;
  /** Offset just past the value. */
  end: number;
  /**
   * For a top-level dictionary, the [start, end) byte span of each member's value. The info-hash
   * is SHA-1 over exactly `bytes.subarray(...spans.get('info'))` as received, never re-encoded.
   */
  spans: Map<string, [number, number]>;
}

export const DEFAULT_MAX_DEPTH = 64;
/** A hard ceiling on maxDepth, so that no option can make the recursion overflow the stack. */
export const MAX_DEPTH_CEILING = 1000;
/** Longest integer accepted, in digits (int64 needs 19); bounds BigInt parsing work. */
export const MAX_INTEGER_DIGITS = 256;
export const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;
/** About 100 MB of decoded values at worst; a torrent of 100,000 files needs about 600,000. */
export const DEFAULT_MAX_VALUES = 1_000_000;

const I = 0x69; // 'i'
const L = 0x6c; // 'l'
const D = 0x64; // 'd'
const E = 0x65; // 'e'
const COLON = 0x3a;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * Decodes exactly one bencoded value that fills `bytes`; trailing bytes are an error.
 * Throws BencodeError (and only that) for anything malformed.
 */
export function decode(bytes: Uint8Array, options: DecodeOptions = {}): BValue {
  const result = decodePrefix(bytes, options);
  if (result.end !== bytes.length) {
    throw new BencodeError('trailing-bytes', `${bytes.length - result.end} bytes after the value`, result.end);
  }
  return result.value;
}

/**
 * Decodes one value at the start of `bytes` and reports where it ended; the rest is the
 * caller's (BEP 9 metadata messages carry raw piece bytes after the dictionary).
 */
export function decodePrefix(bytes: Uint8Array, options: DecodeOptions = {}): DecodeResult {
  const maxBytes = limit(options.maxBytes, DEFAULT_MAX_BYTES);
  if (bytes.length > maxBytes) {
    throw new BencodeError('too-large', `input of ${bytes.length} bytes exceeds the ${maxBytes}-byte limit`, 0);
  }
  const maxDepth = Math.min(limit(options.maxDepth, DEFAULT_MAX_DEPTH), MAX_DEPTH_CEILING);
  const parser = new Parser(bytes, options.strictKeys ?? false, maxDepth, limit(options.maxValues, DEFAULT_MAX_VALUES));
  const value = parser.value(0);
  return { value, end: parser.pos, spans: parser.spans };
}

/** A caller's limit, or the default when it is missing or not a positive number (NaN included). */
function limit(value: number | undefined, fallback: number): number {
  return value !== undefined && value > 0 ? value : fallback;
}

class Parser {
  pos = 0;
  private values = 0;
  readonly spans = new Map<string, [number, number]>();

  constructor(
    private readonly bytes: Uint8Array,
    private readonly strictKeys: boolean,
    private readonly maxDepth: number,
    private readonly maxValues: number,
  ) {}

  value(depth: number): BValue {
    const c = this.peek('a value');
    if (++this.values > this.maxValues) {
      throw new BencodeError('too-many-values', `more than ${this.maxValues} values`, this.pos);
    }
    if (c === I) return this.integer();
    if (c === L) return this.list(depth + 1);
    if (c === D) return this.dict(depth + 1);
    if (c >= ZERO && c <= NINE) return this.string();
    throw new BencodeError('unexpected-byte', `unexpected byte 0x${c.toString(16).padStart(2, '0')}, expected a value`, this.pos);
  }

  private peek(what: string): number {
    const c = this.bytes[this.pos];
    if (c === undefined) throw new BencodeError('truncated', `input ended, expected ${what}`, this.pos);
    return c;
  }

  /** i<digits>e: no leading zeros, no -0, no empty, no sign other than one leading minus. */
  private integer(): number | bigint {
    const start = ++this.pos;
    let negative = false;
    if (this.bytes[this.pos] === MINUS) {
      negative = true;
      this.pos++;
    }
    const digitsStart = this.pos;
    while (true) {
      const c = this.peek("'e' closing the integer");
      if (c === E) break;
      if (c < ZERO || c > NINE) {
        throw new BencodeError('bad-integer', `unexpected byte 0x${c.toString(16).padStart(2, '0')} in an integer`, this.pos);
      }
      this.pos++;
      if (this.pos - digitsStart > MAX_INTEGER_DIGITS) {
        throw new BencodeError('integer-too-long', `integer longer than ${MAX_INTEGER_DIGITS} digits`, start);
      }
    }
    const digits = this.pos - digitsStart;
    if (digits === 0) throw new BencodeError('bad-integer', 'integer without digits', start);
    if (this.bytes[digitsStart] === ZERO && (digits > 1 || negative)) {
      // BEP 3: i03e and i-0e are invalid; only i0e encodes zero.
      throw new BencodeError('leading-zero', negative ? 'negative zero' : 'integer with a leading zero', digitsStart);
    }
    const text = String.fromCharCode(...this.bytes.subarray(start, this.pos));
    this.pos++; // 'e'
    if (digits <= 15) return Number(text);
    const big = BigInt(text);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }

  /** Reads a string length prefix and returns [start, end) of the content. */
  private stringSpan(): [number, number] {
    const start = this.pos;
    let length = 0;
    while (true) {
      const c = this.peek("':' after a string length");
      if (c === COLON) break;
      if (c < ZERO || c > NINE) {
        throw new BencodeError('bad-string-length', `unexpected byte 0x${c.toString(16).padStart(2, '0')} in a string length`, this.pos);
      }
      length = length * 10 + (c - ZERO);
      // Any length beyond the input is wrong; stopping early also bounds the loop.
      if (length > this.bytes.length) {
        throw new BencodeError('string-overflow', 'string length exceeds the input', start);
      }
      this.pos++;
    }
    if (this.pos - start > 1 && this.bytes[start] === ZERO) {
      throw new BencodeError('leading-zero', 'string length with a leading zero', start);
    }
    this.pos++; // ':'
    const end = this.pos + length;
    if (end > this.bytes.length) {
      throw new BencodeError('string-overflow', `string of ${length} bytes runs past the end of the input`, start);
    }
    const content: [number, number] = [this.pos, end];
    this.pos = end;
    return content;
  }

  private string(): Uint8Array {
    const [s, e] = this.stringSpan();
    // A copy: decoded values must not alias a buffer the caller may reuse.
    return this.bytes.slice(s, e);
  }

  private enter(depth: number): void {
    if (depth > this.maxDepth) {
      throw new BencodeError('too-deep', `nesting deeper than ${this.maxDepth}`, this.pos);
    }
    this.pos++; // 'l' or 'd'
  }

  private list(depth: number): BList {
    this.enter(depth);
    const out: BList = [];
    while (this.peek("a value or 'e'") !== E) out.push(this.value(depth));
    this.pos++;
    return out;
  }

  private dict(depth: number): BDict {
    this.enter(depth);
    const out = newDict();
    let previous: Uint8Array | undefined;
    while (true) {
      const c = this.peek("a key or 'e'");
      if (c === E) break;
      if (c < ZERO || c > NINE) {
        throw new BencodeError('bad-key', 'dictionary key is not a string', this.pos);
      }
      const keyAt = this.pos;
      const [ks, ke] = this.stringSpan();
      const keyBytes = this.bytes.subarray(ks, ke);
      const key = toBinaryString(keyBytes);
      if (this.strictKeys && previous !== undefined) {
        const order = compareBytes(previous, keyBytes);
        if (order === 0) throw new BencodeError('duplicate-key', `duplicate key ${JSON.stringify(key)}`, keyAt);
        if (order > 0) throw new BencodeError('unsorted-keys', `key ${JSON.stringify(key)} out of order`, keyAt);
      }
      previous = keyBytes;
      const valueStart = this.pos;
      const value = this.value(depth);
      // Lenient mode keeps the first of duplicate keys, as libtorrent's lookup does.
      if (!(key in out)) {
        out[key] = value;
        if (depth === 1) this.spans.set(key, [valueStart, this.pos]);
      }
    }
    this.pos++;
    return out;
  }
}
