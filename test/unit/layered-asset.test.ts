/**
 * Layered assets on disk (peer-node/layers/): the synthetic generator's output is valid layer
 * info against its real files, sized like its bitrates and the same for the same seed;
 * readLayeredAsset and toLayerInfo refuse manifests that do not fit their files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LayerInfoError } from '../../shared/errors.js';
import { validateLayerInfo } from '../../shared/layers/layer-info.js';
import { LAYERS_MANIFEST, readLayeredAsset, toLayerInfo } from '../../peer-node/layers/layered-asset.js';
import { SEGMENT_SIZE_SPREAD, writeSyntheticLayeredAsset } from '../../peer-node/layers/synthetic-asset.js';
import { parseBitrate, UsageError } from '../../peer-node/cli/args.js';

async function withDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'layered-asset-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const OPTIONS = { bitrates: [300_000, 600_000, 1_200_000], segmentDuration: 1, segmentCount: 30, mode: 'cumulative' as const, seed: 7 };

test('the generator writes layer info that validates against the real file lengths, segments back to back', () =>
  withDir(async (dir) => {
    const manifest = await writeSyntheticLayeredAsset(dir, OPTIONS);
    const lengths = await Promise.all(manifest.layers.map(async (l) => (await stat(path.join(dir, l.path))).size));
    const info = validateLayerInfo({ ...manifest, layers: manifest.layers.map(({ path: _p, ...l }, k) => ({ ...l, file: k })) }, lengths);
    assert.equal(info.layers.length, 3);
    assert.equal(info.segmentCount, 30);
    for (const [k, layer] of manifest.layers.entries()) {
      assert.equal(layer.path, `layer${k}.bin`);
      assert.equal(layer.bitrate, OPTIONS.bitrates[k]);
      let end = 0;
      for (const [offset, length] of layer.segments) {
        assert.equal(offset, end, 'segments are back to back');
        end = offset + length;
      }
      assert.equal(end, lengths[k], 'the last segment ends at the end of the file');
    }
    // The file on disk is what readLayeredAsset sees, and the same manifest.
    const read = await readLayeredAsset(dir);
    assert.deepEqual(read.manifest, manifest);
    assert.deepEqual(read.files, manifest.layers.map((l) => path.join(dir, l.path)));
    assert.deepEqual(read.lengths, lengths);
  }));

test('segment sizes are near bitrate * duration / 8: each within ±10%, varied, averaging the bitrate', () =>
  withDir(async (dir) => {
    const manifest = await writeSyntheticLayeredAsset(dir, { ...OPTIONS, segmentDuration: 2, segmentCount: 40 });
    for (const layer of manifest.layers) {
      const nominal = (layer.bitrate * 2) / 8;
      const sizes = layer.segments.map(([, length]) => length);
      for (const size of sizes) assert.ok(Math.abs(size - nominal) <= nominal * SEGMENT_SIZE_SPREAD + 1, `${size} vs ${nominal}`);
      assert.ok(new Set(sizes).size > sizes.length / 2, 'sizes vary from segment to segment');
      assert.ok(Math.max(...sizes) - Math.min(...sizes) > nominal * 0.05, 'the spread is used');
      const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
      assert.ok(Math.abs(mean - nominal) < nominal * 0.04, `mean ${mean} vs ${nominal}`);
    }
  }));

test('the generator is deterministic for a seed, and another seed gives other bytes', () =>
  withDir(async (root) => {
    const a = await writeSyntheticLayeredAsset(path.join(root, 'a'), OPTIONS);
    const b = await writeSyntheticLayeredAsset(path.join(root, 'b'), OPTIONS);
    const c = await writeSyntheticLayeredAsset(path.join(root, 'c'), { ...OPTIONS, seed: 8 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.layers[0]!.segments, c.layers[0]!.segments);
    for (const layer of a.layers) {
      const bytesA = await readFile(path.join(root, 'a', layer.path));
      assert.ok(bytesA.equals(await readFile(path.join(root, 'b', layer.path))));
      assert.ok(!bytesA.subarray(0, 1000).equals((await readFile(path.join(root, 'c', layer.path))).subarray(0, 1000)));
    }
    assert.equal(await readFile(path.join(root, 'a', LAYERS_MANIFEST), 'utf8'), await readFile(path.join(root, 'b', LAYERS_MANIFEST), 'utf8'));
    // Layers do not share a byte stream.
    const l0 = await readFile(path.join(root, 'a', 'layer0.bin'));
    const l1 = await readFile(path.join(root, 'a', 'layer1.bin'));
    assert.ok(!l0.subarray(0, 1000).equals(l1.subarray(0, 1000)));
  }));

test('bad generator options are refused before anything is written', () =>
  withDir(async (root) => {
    const dir = path.join(root, 'x');
    await assert.rejects(writeSyntheticLayeredAsset(dir, { ...OPTIONS, segmentCount: 0 }), LayerInfoError);
    await assert.rejects(writeSyntheticLayeredAsset(dir, { ...OPTIONS, bitrates: [] }), /layers must be a list/);
    await assert.rejects(stat(dir), { code: 'ENOENT' });
  }));

/** Writes a generated asset, then lets `edit` change its parsed manifest. */
async function editedAsset(dir: string, edit: (m: { layers: Record<string, unknown>[] } & Record<string, unknown>) => void): Promise<void> {
  await writeSyntheticLayeredAsset(dir, { ...OPTIONS, segmentCount: 5 });
  const manifest = JSON.parse(await readFile(path.join(dir, LAYERS_MANIFEST), 'utf8'));
  edit(manifest);
  await writeFile(path.join(dir, LAYERS_MANIFEST), JSON.stringify(manifest));
}

async function refusal(dir: string): Promise<LayerInfoError> {
  try {
    await readLayeredAsset(dir);
  } catch (err) {
    assert.ok(err instanceof LayerInfoError, `expected a LayerInfoError, got ${err}`);
    return err;
  }
  assert.fail('the manifest was accepted');
}

test('readLayeredAsset refuses a segment past the end of its file, naming the file', () =>
  withDir(async (dir) => {
    await editedAsset(dir, (m) => {
      const segments = m.layers[1]!.segments as [number, number][];
      segments[4]![1] += 1;
    });
    const err = await refusal(dir);
    assert.equal(err.code, 'layers.segment-range');
    assert.match(err.message, /layers\.json: layer 1 segment 4 ends at byte \d+, past the end of layer1\.bin \(\d+ bytes\)/);
  }));

test('readLayeredAsset refuses a missing layer file, a path leaving the folder, a file index, and overlapping segments', () =>
  withDir(async (root) => {
    const missing = path.join(root, 'missing');
    await editedAsset(missing, () => {});
    await rm(path.join(missing, 'layer2.bin'));
    let err = await refusal(missing);
    assert.equal(err.code, 'layers.missing-file');
    assert.match(err.message, /layer 2's file layer2\.bin is not in /);

    const escape = path.join(root, 'escape');
    await editedAsset(escape, (m) => (m.layers[0]!.path = '../layer0.bin'));
    err = await refusal(escape);
    assert.equal(err.code, 'layers.path');

    const index = path.join(root, 'index');
    await editedAsset(index, (m) => (m.layers[0]!.file = 0));
    assert.match((await refusal(index)).message, /by path, not by index/);

    const twice = path.join(root, 'twice');
    await editedAsset(twice, (m) => (m.layers[1]!.path = 'layer0.bin'));
    assert.match((await refusal(twice)).message, /layers 0 and 1 both use layer0\.bin/);

    const overlap = path.join(root, 'overlap');
    await editedAsset(overlap, (m) => ((m.layers[0]!.segments as [number, number][])[2]![0] -= 1));
    assert.equal((await refusal(overlap)).code, 'layers.segment-overlap');

    const none = path.join(root, 'none');
    await editedAsset(none, () => {});
    await rm(path.join(none, LAYERS_MANIFEST));
    assert.match((await refusal(none)).message, /has no layers\.json/);

    const notJson = path.join(root, 'not-json');
    await editedAsset(notJson, () => {});
    await writeFile(path.join(notJson, LAYERS_MANIFEST), '{"version": 1,');
    assert.equal((await refusal(notJson)).code, 'layers.json');
  }));

test('toLayerInfo maps each layer path to its index in the torrent file list and checks the lengths', () =>
  withDir(async (dir) => {
    const manifest = await writeSyntheticLayeredAsset(dir, { ...OPTIONS, segmentCount: 3 });
    const { lengths } = await readLayeredAsset(dir);
    const files = [
      { path: ['notes.txt'], length: 10 },
      { path: ['layer2.bin'], length: lengths[2]! },
      { path: ['layer0.bin'], length: lengths[0]! },
      { path: ['layer1.bin'], length: lengths[1]! },
    ];
    const info = toLayerInfo(manifest, files);
    assert.deepEqual(info.layers.map((l) => l.file), [2, 3, 1]);
    assert.deepEqual(info.layers.map((l) => l.segments), manifest.layers.map((l) => l.segments));
    assert.throws(() => toLayerInfo(manifest, files.slice(0, 3)), /layer 1: layer1\.bin is not a file of the torrent/);
    const shorter = files.map((f) => (f.path[0] === 'layer0.bin' ? { ...f, length: f.length - 1 } : f));
    assert.throws(() => toLayerInfo(manifest, shorter), (err: unknown) => err instanceof LayerInfoError && err.code === 'layers.segment-range');
  }));

test('parseBitrate reads bits a second with decimal k and M', () => {
  assert.equal(parseBitrate('300k', '--bitrates'), 300_000);
  assert.equal(parseBitrate('1.2M', '--bitrates'), 1_200_000);
  assert.equal(parseBitrate('64000', '--bitrates'), 64_000);
  assert.equal(parseBitrate('1.5K', '--bitrates'), 1_500);
  for (const bad of ['', 'fast', '-3k', '2G', '0', '1.2 M']) assert.throws(() => parseBitrate(bad, '--bitrates'), UsageError, bad);
});
