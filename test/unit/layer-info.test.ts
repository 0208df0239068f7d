/** The layer info codec (PUT-LAYER / GET-LAYER payload, shared/layers/layer-info.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LayerInfoError } from '../../shared/errors.js';
import { isLayerOf, type LayerInfo, MAX_LAYER_INFO_BYTES, MAX_LAYERS, parseLayerInfo, validateLayerInfo } from '../../shared/layers/layer-info.js';

/** Two layers of three 1,000-byte segments each, in files 0 and 1 of 3,000 bytes. */
function good(mode: 'cumulative' | 'simulcast' = 'cumulative'): LayerInfo {
  const segments = (): [number, number][] => [
    [0, 1000],
    [1000, 1000],
    [2000, 1000],
  ];
  return {
    version: 1,
    mode,
    segmentDuration: 2,
    segmentCount: 3,
    layers: [
      { index: 0, bitrate: 500_000, file: 0, segments: segments() },
      { index: 1, bitrate: 1_000_000, file: 1, segments: segments() },
    ],
  };
}

/** Asserts that `run` throws LayerInfoError with this code. */
function refuses(run: () => unknown, code: string): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof LayerInfoError, `expected LayerInfoError, got ${String(err)}`);
    assert.equal(err.code, `layers.${code}`);
    return true;
  });
}

/** A copy of the good info with `change` applied. */
function bad(change: (info: LayerInfo) => void, mode: 'cumulative' | 'simulcast' = 'cumulative'): unknown {
  const info = structuredClone(good(mode));
  change(info);
  return info;
}

test('good cumulative and simulcast infos validate, with and without file lengths', () => {
  for (const mode of ['cumulative', 'simulcast'] as const) {
    assert.deepEqual(validateLayerInfo(good(mode)), good(mode));
    assert.deepEqual(validateLayerInfo(good(mode), [3000, 3000]), good(mode));
    assert.deepEqual(parseLayerInfo(JSON.stringify(good(mode))), good(mode));
  }
});

test('gaps between segments are allowed; unknown fields are dropped', () => {
  const gaps = bad((i) => (i.layers[0]!.segments = [[10, 100], [500, 100], [2000, 1000]]));
  assert.deepEqual(validateLayerInfo(gaps, [3000, 3000]).layers[0]!.segments, [[10, 100], [500, 100], [2000, 1000]]);
  const extra = { ...good(), comment: 'x', layers: good().layers.map((l) => ({ ...l, codec: 'svc' })) };
  assert.deepEqual(validateLayerInfo(extra), good());
});

test('overlapping or out-of-order segments are refused', () => {
  refuses(() => validateLayerInfo(bad((i) => (i.layers[1]!.segments[1] = [999, 1000]))), 'segment-overlap');
  refuses(() => validateLayerInfo(bad((i) => i.layers[0]!.segments.reverse())), 'segment-overlap');
});

test('a segment past the end of its file is refused when the file lengths are known', () => {
  const long = bad((i) => (i.layers[1]!.segments[2] = [2000, 1001]));
  assert.ok(validateLayerInfo(long), 'without file lengths nothing bounds it');
  refuses(() => validateLayerInfo(long, [3000, 3000]), 'segment-range');
  refuses(() => validateLayerInfo(good(), [3000]), 'file');
  refuses(() => validateLayerInfo(bad((i) => (i.layers[0]!.segments[2] = [Number.MAX_SAFE_INTEGER, 1]))), 'segment');
});

test('segmentDuration must be 10 ms to an hour; a bitrate above zero and at most 1e11', () => {
  assert.equal(validateLayerInfo(bad((i) => (i.segmentDuration = 0.01))).segmentDuration, 0.01);
  refuses(() => validateLayerInfo(bad((i) => (i.layers[1]!.bitrate = 1e308))), 'bitrate');
  refuses(() => validateLayerInfo(bad((i) => (i.layers[0]!.bitrate = 0))), 'bitrate');
  assert.equal(validateLayerInfo(bad((i) => (i.layers[0]!.bitrate = 1e11))).layers[0]!.bitrate, 1e11);
  for (const d of [0, -2, 5e-324, 0.009, 3601, Number.NaN, '2', null]) refuses(() => validateLayerInfo(bad((i) => ((i as { segmentDuration: unknown }).segmentDuration = d))), 'segment-duration');
});

test('an empty segment is refused', () => {
  refuses(() => validateLayerInfo(bad((i) => (i.layers[0]!.segments[1] = [1000, 0]))), 'segment-empty');
});

test('every layer must have segmentCount segments', () => {
  refuses(() => validateLayerInfo(bad((i) => i.layers[1]!.segments.pop())), 'segments');
  refuses(() => validateLayerInfo(bad((i) => (i.segmentCount = 4))), 'segments');
  refuses(() => validateLayerInfo(bad((i) => (i.segmentCount = 0))), 'segment-count');
});

test('layers are listed in order of their index from 0', () => {
  refuses(() => validateLayerInfo(bad((i) => i.layers.reverse())), 'layer-index');
  refuses(() => validateLayerInfo(bad((i) => (i.layers[1]!.index = 2))), 'layer-index');
});

test('one file holds one layer', () => {
  for (const mode of ['cumulative', 'simulcast'] as const) refuses(() => validateLayerInfo(bad((i) => (i.layers[1]!.file = 0), mode)), 'file');
});

test('too many layers, a bad version or mode are refused', () => {
  const many = bad((i) => {
    i.layers = Array.from({ length: MAX_LAYERS + 1 }, (_, k) => ({ index: k, bitrate: 1, file: k, segments: i.layers[0]!.segments }));
  });
  refuses(() => validateLayerInfo(many), 'layers');
  refuses(() => validateLayerInfo(bad((i) => ((i as { version: unknown }).version = 2))), 'version');
  refuses(() => validateLayerInfo(bad((i) => ((i as { mode: unknown }).mode = 'svc'))), 'mode');
  refuses(() => validateLayerInfo([good()]), 'not-object');
});

test('JSON over the size bound is refused before it is parsed, as bytes or text', () => {
  const big = JSON.stringify({ ...good(), padding: 'x'.repeat(MAX_LAYER_INFO_BYTES) });
  refuses(() => parseLayerInfo(big), 'too-large');
  refuses(() => parseLayerInfo(new TextEncoder().encode(big)), 'too-large');
  // Characters that take 3 UTF-8 bytes: under the bound as UTF-16 units, over it as bytes.
  const wide = JSON.stringify({ ...good(), padding: '€'.repeat(MAX_LAYER_INFO_BYTES / 2) });
  assert.ok(wide.length < MAX_LAYER_INFO_BYTES);
  refuses(() => parseLayerInfo(wide), 'too-large');
});

test('text that is not JSON (or not UTF-8) is refused', () => {
  refuses(() => parseLayerInfo('{"version": 1,'), 'json');
  refuses(() => parseLayerInfo(''), 'json');
  refuses(() => parseLayerInfo(Uint8Array.of(0x7b, 0xff, 0x7d)), 'json');
});

test('isLayerOf: 0..K-1 are layers of the asset, nothing else', () => {
  const info = good();
  assert.equal(isLayerOf(info, 0), true);
  assert.equal(isLayerOf(info, 1), true);
  for (const v of [2, -1, 0.5, '1', Number.NaN, undefined]) assert.equal(isLayerOf(info, v), false, String(v));
});

/** Consistent layer infos: ascending non-overlapping segments inside files long enough for them. */
const consistent = fc
  .record({
    mode: fc.constantFrom('cumulative' as const, 'simulcast' as const),
    segmentDuration: fc.double({ min: 0.01, max: 3600, noNaN: true }),
    layerCount: fc.integer({ min: 1, max: MAX_LAYERS }),
    segmentCount: fc.integer({ min: 1, max: 12 }),
    seed: fc.array(fc.tuple(fc.nat(5000), fc.integer({ min: 1, max: 100_000 })), { minLength: MAX_LAYERS * 12, maxLength: MAX_LAYERS * 12 }),
    bitrates: fc.array(fc.integer({ min: 1, max: 50_000_000 }), { minLength: MAX_LAYERS, maxLength: MAX_LAYERS }),
    fileOrder: fc.shuffledSubarray([...Array(MAX_LAYERS * 2).keys()], { minLength: MAX_LAYERS, maxLength: MAX_LAYERS }),
  })
  .map(({ mode, segmentDuration, layerCount, segmentCount, seed, bitrates, fileOrder }) => {
    const fileLengths = new Array<number>(MAX_LAYERS * 2).fill(0);
    const layers = Array.from({ length: layerCount }, (_, k) => {
      let end = 0;
      const segments = Array.from({ length: segmentCount }, (_, s): [number, number] => {
        const [gap, length] = seed[k * 12 + s]!;
        const segment: [number, number] = [end + gap, length];
        end += gap + length;
        return segment;
      });
      const file = fileOrder[k]!;
      fileLengths[file] = end;
      return { index: k, bitrate: bitrates[k]!, file, segments };
    });
    const info: LayerInfo = { version: 1, mode, segmentDuration, segmentCount, layers };
    return { info, fileLengths };
  });

test('property: consistent infos validate against their files and round-trip through JSON', () => {
  fc.assert(
    fc.property(consistent, ({ info, fileLengths }) => {
      assert.deepEqual(validateLayerInfo(info, fileLengths), info);
      assert.deepEqual(parseLayerInfo(JSON.stringify(info), fileLengths), info);
      assert.deepEqual(parseLayerInfo(new TextEncoder().encode(JSON.stringify(info)), fileLengths), info);
    }),
    { numRuns: 200 },
  );
});
