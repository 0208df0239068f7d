/**
 * The bencode value model.
 *
 * - byte strings are `Uint8Array` (bencode strings are bytes; text is a view the reader picks);
 * - integers are `number` when they fit a safe integer, `bigint` otherwise (BEP 3: no size limit);
 * - dictionaries are null-prototype objects whose keys are binary strings (one char per byte):
 *   ASCII keys read naturally (`dict.info`), binary keys survive, no `__proto__` pollution, and
 *   JS string order equals the raw byte order that bencode sorts by.
 */
export type BValue = number | bigint | Uint8Array | BList | BDict;
export type BList = BValue[];
export interface BDict {
  [key: string]: BValue;
}

/**
 * What `encode` accepts: a BValue, plus JS strings (encoded as UTF-8) as a convenience for
 * values, and `undefined` dictionary members, which are left out.
 */
export type BEncodable =
  | number
  | bigint
  | string
  | Uint8Array
  | readonly BEncodable[]
  | { readonly [key: string]: BEncodable | undefined };

/** A new empty dictionary with no prototype. */
export function newDict(): BDict {
  return Object.create(null) as BDict;
}

export function isDict(v: BValue | undefined): v is BDict {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !Array.isArray(v);
}

export function isList(v: BValue | undefined): v is BList {
  return Array.isArray(v);
}

export function isBytes(v: BValue | undefined): v is Uint8Array {
  return v instanceof Uint8Array;
}

export function isInt(v: BValue | undefined): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

/**
 * A decoded value named for an error message: integers as themselves, anything else by its
 * kind. Never `String(v)`: a dictionary has no prototype, so it has no toString and String()
 * throws a TypeError (a fuzzer found `{ layer: { layer: 15 } }` crashing the pp_layer decoder).
 */
export function describeValue(v: BValue | undefined): string {
  if (v === undefined) return 'none';
  if (isInt(v)) return String(v);
  if (isBytes(v)) return `a ${v.length}-byte string`;
  return isList(v) ? `a list of ${v.length}` : 'a dictionary';
}
