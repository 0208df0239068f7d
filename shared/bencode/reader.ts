import { ProtocolError } from '../errors.js';
import { fromUtf8 } from '../bytes.js';
import { type BDict, type BList, type BValue, isBytes, isDict, isList } from './value.js';

/**
 * Typed access to a decoded dictionary for a schema (metainfo, tracker response, KRPC).
 * Every mismatch becomes the caller's error type, naming the field's path.
 */
export class DictReader {
  constructor(
    readonly dict: BDict,
    private readonly fail: (code: string, message: string) => ProtocolError,
    private readonly path = '',
  ) {}

  private where(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  private wrong(key: string, what: string): ProtocolError {
    return this.fail('bad-field', `${this.where(key)}: expected ${what}`);
  }

  has(key: string): boolean {
    return key in this.dict;
  }

  /** The raw value, or undefined. */
  get(key: string): BValue | undefined {
    return this.dict[key];
  }

  /** A required field is missing. */
  missing(key: string): ProtocolError {
    return this.fail('missing-field', `${this.where(key)} is missing`);
  }

  optBytes(key: string): Uint8Array | undefined {
    const v = this.dict[key];
    if (v === undefined) return undefined;
    if (!isBytes(v)) throw this.wrong(key, 'a byte string');
    return v;
  }

  bytes(key: string): Uint8Array {
    const v = this.optBytes(key);
    if (v === undefined) throw this.missing(key);
    return v;
  }

  /** A byte string that must be valid UTF-8. */
  optText(key: string): string | undefined {
    const v = this.optBytes(key);
    if (v === undefined) return undefined;
    const text = fromUtf8(v);
    if (text === undefined) throw this.fail('bad-utf8', `${this.where(key)}: not valid UTF-8`);
    return text;
  }

  text(key: string): string {
    const v = this.optText(key);
    if (v === undefined) throw this.missing(key);
    return v;
  }

  /** An integer within [min, max] (defaults: the safe-integer range). */
  optInt(key: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const v = this.dict[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || v < min || v > max) throw this.wrong(key, `an integer in [${min}, ${max}]`);
    return v;
  }

  int(key: string, min?: number, max?: number): number {
    const v = this.optInt(key, min, max);
    if (v === undefined) throw this.missing(key);
    return v;
  }

  optList(key: string): BList | undefined {
    const v = this.dict[key];
    if (v === undefined) return undefined;
    if (!isList(v)) throw this.wrong(key, 'a list');
    return v;
  }

  list(key: string): BList {
    const v = this.optList(key);
    if (v === undefined) throw this.missing(key);
    return v;
  }

  optDict(key: string): DictReader | undefined {
    const v = this.dict[key];
    if (v === undefined) return undefined;
    if (!isDict(v)) throw this.wrong(key, 'a dictionary');
    return new DictReader(v, this.fail, this.where(key));
  }

  dictAt(key: string): DictReader {
    const v = this.optDict(key);
    if (v === undefined) throw this.missing(key);
    return v;
  }
}
