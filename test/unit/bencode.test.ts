import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import bencodePackage from 'bencode';
import { decode, decodePrefix, encode, isDict, type BValue } from '../../shared/bencode/index.js';
import { BencodeError } from '../../shared/errors.js';
import { b, latin1 } from '../helpers/bytes.js';

function rejects(input: string | Uint8Array, code: string, options = {}) {
  const bytes = typeof input === 'string' ? b(input) : input;
  assert.throws(
    () => decode(bytes, options),
    (err: unknown) => err instanceof BencodeError && err.code === `bencode.${code}`,
    `${latin1(bytes.subarray(0, 40))} should fail with ${code}`,
  );
}

test('the examples of BEP 3 and the PPSP survey decode', () => {
  assert.deepEqual(decode(b('4:spam')), b('spam'));
  assert.equal(decode(b('i3e')), 3);
  assert.equal(decode(b('i-3e')), -3);
  assert.equal(decode(b('i0e')), 0);
  assert.deepEqual(decode(b('l4:spam4:eggse')), [b('spam'), b('eggs')]);
  const dict = decode(b('d3:cow3:moo4:spam4:eggse'));
  assert.ok(isDict(dict));
  assert.deepEqual({ ...dict }, { cow: b('moo'), spam: b('eggs') });
  const nested = decode(b('d4:spaml1:a1:bee'));
  assert.ok(isDict(nested));
  assert.deepEqual(nested.spam, [b('a'), b('b')]);
  assert.deepEqual(decode(b('0:')), new Uint8Array(0));
});

test('integers: i-0e, leading zeros, empty, signs and junk are invalid', () => {
  rejects('i-0e', 'leading-zero');
  rejects('i03e', 'leading-zero');
  rejects('i-03e', 'leading-zero');
  rejects('i00e', 'leading-zero');
  rejects('ie', 'bad-integer');
  rejects('i-e', 'bad-integer');
  rejects('i+3e', 'bad-integer');
  rejects('i12.3e', 'bad-integer'); // the bencode package reads this as 12
  rejects('i1 e', 'bad-integer');
  rejects('i12', 'truncated');
  rejects(`i${'9'.repeat(300)}e`, 'integer-too-long');
});

test('integers beyond 2^53 come back as exact bigints and re-encode identically', () => {
  const text = 'i18446744073709551615e';
  const value = decode(b(text));
  assert.equal(value, 18446744073709551615n);
  assert.equal(latin1(encode(value as bigint)), text);
  assert.equal(decode(b(`i${Number.MAX_SAFE_INTEGER}e`)), Number.MAX_SAFE_INTEGER);
  assert.equal(decode(b(`i-${Number.MAX_SAFE_INTEGER + 1}e`)), -9007199254740992n);
});

test('strings: leading zeros, lengths past the end and bad length bytes are invalid', () => {
  rejects('03:abc', 'leading-zero');
  rejects('5:abc', 'string-overflow');
  rejects('99999999999999999999:x', 'string-overflow');
  rejects('3abc', 'bad-string-length');
  rejects('-1:a', 'unexpected-byte');
  rejects('4', 'string-overflow');
  rejects('0', 'truncated');
});

test('structure: truncation, trailing bytes, bad keys and unknown bytes are invalid', () => {
  rejects('', 'truncated');
  rejects('l', 'truncated');
  rejects('d3:cow', 'truncated');
  rejects('li1e', 'truncated');
  rejects('i1ei2e', 'trailing-bytes');
  rejects('4:spamX', 'trailing-bytes');
  rejects('di1ei2ee', 'bad-key');
  rejects('e', 'unexpected-byte');
  rejects('x', 'unexpected-byte');
});

test('errors carry the byte offset where decoding stopped', () => {
  try {
    decode(b('l4:spami03ee'));
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof BencodeError);
    assert.equal(err.offset, 8);
    assert.match(err.message, /leading zero at byte 8/);
  }
});

test('strict mode demands sorted, unique keys; lenient mode keeps the first duplicate', () => {
  rejects('d1:bi1e1:ai2ee', 'unsorted-keys', { strictKeys: true });
  rejects('d1:ai1e1:ai2ee', 'duplicate-key', { strictKeys: true });
  // Sorted as raw bytes, not as text: 'Z' (0x5a) sorts before 'a' (0x61), "a" before "ab".
  assert.ok(isDict(decode(b('d1:Zi1e1:ai2e2:abi3ee'), { strictKeys: true })));
  const lenient = decode(b('d1:bi1e1:ai2e1:ai3ee'));
  assert.ok(isDict(lenient));
  assert.equal(lenient.a, 2);
  assert.equal(lenient.b, 1);
});

test('nesting depth and total size are bounded', () => {
  const deep = (n: number) => b('l'.repeat(n) + 'e'.repeat(n));
  assert.ok(Array.isArray(decode(deep(64))));
  rejects(deep(65), 'too-deep');
  rejects(deep(5), 'too-deep', { maxDepth: 4 });
  // Even an absurd maxDepth cannot overflow the stack: a hard ceiling applies.
  rejects(deep(200_000), 'too-deep', { maxDepth: 1e9 });
  rejects(b('4:spam'), 'too-large', { maxBytes: 5 });
  // A NaN option falls back to the default rather than switching the limit off.
  rejects(deep(200_000), 'too-deep', { maxDepth: NaN });
});

test('the number of values is bounded: 2-byte empty strings cannot blow up memory', () => {
  const many = b(`l${'0:'.repeat(1001)}e`);
  rejects(many, 'too-many-values', { maxValues: 1000 });
  assert.equal((decode(many, { maxValues: 1002 }) as unknown[]).length, 1001);
  rejects(b(`l${'0:'.repeat(1_000_001)}e`), 'too-many-values');
});

test('a __proto__ key is data, not a prototype (the bencode package lets it replace the prototype)', () => {
  const input = b('d9:__proto__d4:infoi1eee');
  const ours = decode(input);
  assert.ok(isDict(ours));
  assert.equal(Object.getPrototypeOf(ours), null);
  assert.equal((ours as Record<string, BValue>).info, undefined);
  assert.ok(isDict(ours['__proto__']));
  const theirs = bencodePackage.decode(input) as Record<string, unknown>;
  assert.equal(theirs.info, 1, 'the package decoder inherits "info" through __proto__');
});

test('binary keys survive decode and encode (the package turns them into hex text)', () => {
  const hash = Uint8Array.from({ length: 20 }, (_, i) => 0xe0 + (i % 16));
  const input = new Uint8Array([...b('d5:filesd20:'), ...hash, ...b('d8:completei3eeee')]);
  const ours = decode(input);
  assert.ok(isDict(ours) && isDict(ours.files));
  assert.deepEqual(Object.keys(ours.files), [latin1(hash)]);
  assert.deepEqual(encode(ours), input);
  const theirs = bencodePackage.decode(input) as { files: Record<string, unknown> };
  assert.notEqual(Object.keys(theirs.files)[0], latin1(hash));
});

test('decodePrefix reports the end and the raw span of each top-level value', () => {
  const input = b('d4:infod4:name1:xe3:zzzi1eeTRAILER');
  const { value, end, spans } = decodePrefix(input);
  assert.ok(isDict(value));
  assert.equal(latin1(input.subarray(end)), 'TRAILER');
  const [s, e] = spans.get('info')!;
  assert.equal(latin1(input.subarray(s, e)), 'd4:name1:xe');
});

test('encode is canonical: keys sorted by raw bytes, undefined members left out', () => {
  const out = encode({ b: 1, a: [1, 'x'], Z: new Uint8Array([0, 255]), skip: undefined });
  assert.equal(latin1(out), '1:Z2:\x00\xff1:ali1e1:xe1:bi1ee'.replace(/^/, 'd').replace(/$/, ''));
  assert.equal(latin1(encode('é')), '2:\xc3\xa9');
});

test('encode rejects what bencode cannot hold', () => {
  const bad: unknown[] = [1.5, NaN, Infinity, null, true, { 'k\u0100': 1 }, new Map([['a', 1]]), new Date(), new DataView(new ArrayBuffer(2)), new Uint16Array(2), '\ud800'];
  for (const value of bad) {
    assert.throws(() => encode(value as never), BencodeError, String(value));
  }
  const cycle: unknown[] = [];
  cycle.push(cycle);
  assert.throws(() => encode(cycle as never), BencodeError);
});

/** Arbitrary bencode values with ASCII keys, so the package can serve as a reference. */
const value: fc.Arbitrary<BValue> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.integer({ min: -1e12, max: 1e12 }),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('v'), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: fc.constantFrom(...'abcdefXYZ_ -09'.split('')), maxLength: 8 }), tie('v'), {
      maxKeys: 5,
    }),
  ),
})).v as fc.Arbitrary<BValue>;

test('property: decode(encode(v)) == v and re-encoding is byte-identical', () => {
  fc.assert(
    fc.property(value, (v) => {
      const bytes = encode(v);
      const back = decode(bytes, { strictKeys: true });
      assert.deepEqual(normalise(back), normalise(v));
      assert.deepEqual(encode(back), bytes);
    }),
    { numRuns: 500 },
  );
});

test('property: on ASCII-keyed values our encoder agrees byte for byte with the bencode package', () => {
  fc.assert(
    fc.property(value, (v) => {
      assert.deepEqual(encode(v), bencodePackage.encode(v));
    }),
    { numRuns: 500 },
  );
});

/** Plain objects for deepEqual (ours have a null prototype). */
function normalise(v: BValue): unknown {
  if (Array.isArray(v)) return v.map(normalise);
  if (v instanceof Uint8Array) return Array.from(v);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]));
  return v;
}
