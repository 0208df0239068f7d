/**
 * The fuzz harness both fuzz files share: committed corpora, the typed-error contract, byte
 * mutations, time- and count-bounded runs that print `fuzz <target>: N executions, C crashes`,
 * and the regression-fixture check.
 *
 * Bounds: each target runs for at most FUZZ_RUNS inputs and FUZZ_MS milliseconds, whichever
 * comes first. Each file picks its own default FUZZ_MS (see `fuzzer`); setting FUZZ_MS overrides
 * both (`FUZZ_MS=60000` for a long run).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { ProtocolError } from '../../shared/errors.js';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures');
/** test/fixtures/fuzz-corpus/<target>/*.bin: the committed corpus of each target. */
export const CORPUS_DIR = path.join(FIXTURES, 'fuzz-corpus');
/** test/fixtures/fuzz-regressions/: inputs that once broke a decoder. */
export const REGRESSIONS_DIR = path.join(FIXTURES, 'fuzz-regressions');

/** Inputs per target, unless the time bound stops it first. */
const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 2_000_000);
/** Inputs per round-trip property (cheap; not time-bounded). */
const ROUND_TRIPS = Number(process.env.FUZZ_ROUND_TRIPS ?? 300);

/** Records with a plain prototype, as decoders build them (deepEqual compares prototypes). */
export const record = ((model: never, constraints?: object) => fc.record(model, { ...constraints, noNullPrototype: true })) as typeof fc.record;
/** Bytes as text, one char per byte (what query parsers and BEP 41 see). */
export const latin1 = (bytes: Uint8Array): string => {
  let out = '';
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
};
/** Text as bytes, one byte per char (the low byte of chars above U+00FF). */
export const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);

/** The committed corpus of one target: every .bin file of its folder, in name order; never empty. */
export function corpus(target: string): Uint8Array[] {
  const dir = path.join(CORPUS_DIR, target);
  assert.ok(existsSync(dir), `no corpus folder ${dir}`);
  const files = readdirSync(dir).filter((f) => f.endsWith('.bin')).sort();
  assert.ok(files.length > 0, `the corpus of ${target} is empty`);
  return files.map((f) => new Uint8Array(readFileSync(path.join(dir, f))));
}

/**
 * Returns 'ok' when `fn` returns, or the code of the ProtocolError (of `errorClass`) it throws,
 * after checking that the error carries a code and a reason; anything else thrown is a crash
 * and is rethrown.
 */
export function typed(fn: () => unknown, errorClass: typeof ProtocolError = ProtocolError): 'ok' | string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return typedError(err, errorClass);
  }
}

/** typed() for an async call. */
export async function typedAsync(fn: () => Promise<unknown>, errorClass: typeof ProtocolError = ProtocolError): Promise<'ok' | string> {
  try {
    await fn();
    return 'ok';
  } catch (err) {
    return typedError(err, errorClass);
  }
}

function typedError(err: unknown, errorClass: typeof ProtocolError): string {
  if (!(err instanceof errorClass)) throw err;
  assert.ok(err.message.length > 0 && /^[a-z0-9-]+\.[a-z0-9.-]+$/.test(err.code), `a typed error carries a code and a reason: ${err.code}`);
  return err.code;
}

/** Random edits of seed inputs (overwrite, insert, delete, duplicate a run, splice another seed in). */
export function mutations(seeds: readonly Uint8Array[], alphabet?: readonly number[]): fc.Arbitrary<Uint8Array> {
  const byte = alphabet ? fc.constantFrom(...alphabet) : fc.nat(255);
  return fc
    .tuple(fc.constantFrom(...seeds), fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), byte, fc.nat(4), fc.nat(64)), { minLength: 1, maxLength: 8 }))
    .map(([seed, other, edits]) => {
      const bytes = Array.from(seed);
      for (const [at, value, kind, span] of edits) {
        const i = at % (bytes.length + 1);
        if (kind === 0) bytes[i] = value;
        else if (kind === 1) bytes.splice(i, 0, value);
        else if (kind === 2) bytes.splice(i, 1 + (span % 4));
        else if (kind === 3) bytes.splice(i, 0, ...bytes.slice(i, i + span));
        else bytes.splice(i, span, ...other.slice(at % (other.length + 1), (at % (other.length + 1)) + span));
      }
      return Uint8Array.from(bytes);
    });
}

/** Seeds as given, their mutations and random bytes: the input of a byte decoder. */
export function byteInput(seeds: readonly Uint8Array[], maxRandom = 256, alphabet?: readonly number[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof({ arbitrary: fc.constantFrom(...seeds), weight: 1 }, { arbitrary: mutations(seeds, alphabet), weight: 6 }, { arbitrary: fc.uint8Array({ maxLength: maxRandom }), weight: 2 });
}

/** A fuzz run for one target: a failing input (shrunk) is a crash, reported and failed. */
export type Fuzz = <T>(target: string, input: fc.Arbitrary<T>, check: (value: T) => void, examples?: readonly T[]) => void;
export type FuzzAsync = <T>(target: string, input: fc.Arbitrary<T>, check: (value: T) => Promise<void>, examples?: readonly T[]) => Promise<void>;

/**
 * The fuzz runners of one file, each target bounded by FUZZ_RUNS inputs and `defaultMs` (or
 * FUZZ_MS) milliseconds. `examples` (the target's corpus, as the check takes it) run first, every
 * one of them whatever the bound, then generated input; all of them count as executions.
 */
export function fuzzer(defaultMs: number): { fuzz: Fuzz; fuzzAsync: FuzzAsync } {
  const ms = Number(process.env.FUZZ_MS ?? defaultMs);
  const parameters = { numRuns: FUZZ_RUNS, interruptAfterTimeLimit: ms, markInterruptAsFailure: false };
  const line = (target: string, executions: number, crashes: number, started: number): void =>
    console.log(`fuzz ${target}: ${executions} executions, ${crashes} crashes (${Math.round(performance.now() - started)} ms)`);
  const corpusCrash = (target: string, index: number, count: number, started: number, err: unknown): never => {
    line(target, index + 1, 1, started);
    assert.fail(`fuzz ${target} crashed on corpus input ${index + 1} of ${count}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  };
  const report = (target: string, details: fc.RunDetails<[unknown]>, examples: number, started: number): void => {
    // fast-check calls a run stopped by the time bound before its first input failed; no input did.
    const crashed = details.failed && details.counterexample !== null;
    line(target, examples + details.numRuns, crashed ? 1 : 0, started);
    if (crashed) assert.fail(`fuzz ${target} crashed:\n${fc.defaultReportMessage(details)}`);
    assert.ok(examples + details.numRuns > 0, `fuzz ${target} ran no input`);
  };
  return {
    fuzz(target, input, check, examples = []) {
      const started = performance.now();
      examples.forEach((example, i) => {
        try {
          check(example);
        } catch (err) {
          corpusCrash(target, i, examples.length, started, err);
        }
      });
      report(target, fc.check(fc.property(input, check), parameters) as fc.RunDetails<[unknown]>, examples.length, started);
    },
    async fuzzAsync(target, input, check, examples = []) {
      const started = performance.now();
      for (const [i, example] of examples.entries()) {
        try {
          await check(example);
        } catch (err) {
          corpusCrash(target, i, examples.length, started, err);
        }
      }
      report(target, (await fc.check(fc.asyncProperty(input, check), parameters)) as fc.RunDetails<[unknown]>, examples.length, started);
    },
  };
}

/** A round trip: every generated value encodes and decodes back to itself. */
export function roundTrip<T>(input: fc.Arbitrary<T>, check: (value: T) => void): void {
  fc.assert(fc.property(input, check), { numRuns: ROUND_TRIPS });
}

/** roundTrip() for an async encode or decode. */
export async function roundTripAsync<T>(input: fc.Arbitrary<T>, check: (value: T) => Promise<void>): Promise<void> {
  await fc.assert(fc.asyncProperty(input, check), { numRuns: ROUND_TRIPS });
}

/**
 * Checks the regression fixtures of one folder: every .bin file there has its check in `table`
 * (and every check its file), and each check passes on the file's bytes.
 */
export function checkRegressions(dir: string, table: Record<string, (bytes: Uint8Array) => void>): void {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.bin')).sort() : [];
  assert.deepEqual(files, Object.keys(table).sort(), 'every fixture has an expected outcome, and every expected outcome its fixture');
  for (const file of files) {
    const bytes = new Uint8Array(readFileSync(path.join(dir, file)));
    try {
      table[file]!(bytes);
    } catch (err) {
      assert.fail(`${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
