/**
 * Bencode (BEP 3), strict and bounded. See NOTES.md for why the decoder is ours rather than the
 * `bencode` package's.
 */
export { decode, decodePrefix, DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, type DecodeOptions, type DecodeResult } from './decode.js';
export { encode } from './encode.js';
export { DictReader } from './reader.js';
export { type BDict, type BEncodable, type BList, type BValue, describeValue, isBytes, isDict, isInt, isList, newDict } from './value.js';
