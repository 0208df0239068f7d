/**
 * The layered player's pure parts: where segments lie in the torrent (LayerMap), the bandwidth
 * estimator, the layer controller's hysteresis (on a fake clock: the test controls time), and
 * the LAYER-CHANGE wire codec.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TorrentGeometry } from '../../shared/metainfo/geometry.js';
import { bitrateAt, type LayerInfo } from '../../shared/layers/layer-info.js';
import { decodeLayerChange, encodeLayerChange } from '../../shared/wire/layer-change.js';
import { encode } from '../../shared/bencode/index.js';
import { WireError } from '../../shared/errors.js';
import { LayerMap } from '../../peer-node/stream/layered/layer-map.js';
import { BandwidthEstimator } from '../../peer-node/stream/layered/bandwidth-estimator.js';
import { LayerController } from '../../peer-node/stream/layered/layer-controller.js';

const info = (mode: 'cumulative' | 'simulcast'): LayerInfo => ({
  version: 1,
  mode,
  segmentDuration: 1,
  segmentCount: 3,
  layers: [
    // Layer 0 in file 1, layer 1 in file 0: file order is not layer order.
    { index: 0, bitrate: 200_000, file: 1, segments: [[0, 100], [100, 100], [200, 100]] },
    { index: 1, bitrate: 400_000, file: 0, segments: [[0, 200], [200, 200], [400, 200]] },
  ],
});
// Files: 600 bytes (layer 1) then 300 bytes (layer 0); 128-byte pieces.
const files = [{ offset: 0, length: 600 }, { offset: 600, length: 300 }];
const geometry = new TorrentGeometry({ pieceLength: 128, files });

test('LayerMap: a segment\'s pieces come from its layer\'s file, boundary pieces shared', () => {
  const map = new LayerMap(info('cumulative'), files, geometry);
  assert.deepEqual(map.ranges[0]![1], [700, 100]);
  assert.deepEqual(map.piecesOf(0, 0), [4, 5], 'bytes 600-699: pieces 4 and 5');
  assert.deepEqual(map.piecesOf(0, 1), [5, 6]);
  assert.deepEqual(map.piecesOf(1, 0), [0, 1]);
  assert.deepEqual(map.piecesOf(1, 2), [3, 4], 'layer 1\'s last segment shares piece 4 with layer 0');
  assert.equal(map.layerOfPiece(0), 1);
  assert.equal(map.layerOfPiece(4), 0, 'a piece two layers share belongs to the lower');
  assert.equal(map.layerOfPiece(6), 0);
  assert.equal(map.layerOfPiece(99), undefined);
});

test('LayerMap.bestPlayable: cumulative needs layers 0..L; simulcast any one rendition', () => {
  const cumulative = new LayerMap(info('cumulative'), files, geometry);
  const has = (held: number[]) => (i: number) => held.includes(i);
  assert.equal(cumulative.bestPlayable(0, has([0, 1])), -1, 'enhancement without base: a stall');
  assert.equal(cumulative.bestPlayable(0, has([4, 5])), 0);
  assert.equal(cumulative.bestPlayable(0, has([0, 1, 4, 5])), 1);
  const simulcast = new LayerMap(info('simulcast'), files, geometry);
  assert.equal(simulcast.bestPlayable(0, has([0, 1])), 1, 'simulcast: rendition 1 alone plays');
  assert.equal(simulcast.bestPlayable(0, has([4])), -1);
  assert.equal(bitrateAt(info('cumulative'), 1), 600_000);
  assert.equal(bitrateAt(info('simulcast'), 1), 400_000);
});

test('bandwidth estimator: the cautious lower of a fast and a slow average', () => {
  const e = new BandwidthEstimator();
  assert.equal(e.estimate, undefined);
  e.sample(125_000, 1000); // 1 Mbit/s
  assert.equal(e.estimate, 1e6);
  e.sample(1_250_000, 1000); // a 10 Mbit/s burst moves the slow average little
  assert.ok(e.estimate! < 3e6, `estimate ${e.estimate}`);
  for (let k = 0; k < 20; k++) e.sample(1_250_000, 1000);
  assert.ok(e.estimate! > 9e6, 'a sustained rate is learned');
  e.sample(12_500, 1000); // a sudden drop: the fast average follows at once
  assert.ok(e.estimate! < 6e6, `estimate ${e.estimate} after a drop`);
});

const three: LayerInfo = {
  version: 1,
  mode: 'cumulative',
  segmentDuration: 1,
  segmentCount: 1,
  layers: [
    { index: 0, bitrate: 200_000, file: 0, segments: [[0, 1]] },
    { index: 1, bitrate: 400_000, file: 1, segments: [[0, 1]] },
    { index: 2, bitrate: 800_000, file: 2, segments: [[0, 1]] },
  ],
};

/** A view of the buffers: base buffered, and each layer's lead (seconds held ahead). */
const view = (bufferS: number, leads: number[]) => ({ bufferS, leadS: (k: number) => leads[k] ?? 0 });

test('layer controller (fake clock): up one layer at a time once the probe is held ahead, with a safe buffer and a hold', () => {
  const c = new LayerController(three);
  assert.equal(c.decide(0, view(10, [10, 1])), undefined, 'the probe (layer 1) is only 1 s ahead: stay');
  assert.equal(c.decide(0, view(2, [2, 3])), undefined, 'a thin base buffer does not go up');
  assert.deepEqual(c.decide(0, view(10, [10, 3])), { layer: 1, reason: 'headroom' });
  assert.equal(c.decide(1000, view(10, [10, 10, 5])), undefined, 'held for 2 s after a switch');
  assert.deepEqual(c.decide(2000, view(10, [10, 10, 5])), { layer: 2, reason: 'headroom' }, 'one layer at a time');
  assert.equal(c.decide(20_000, view(10, [10, 10, 10])), undefined, 'the top layer stays');
  const end = new LayerController(three);
  assert.equal(end.decide(0, view(Infinity, [Infinity, Infinity])), undefined, 'the base held to the end: nothing left to go up for');
});

test('layer controller (fake clock): a lead wobbling between the thresholds does not flap', () => {
  const c = new LayerController(three, 1);
  let changes = 0;
  for (let t = 0; t < 120_000; t += 250) {
    // Layer 1 held 1.2-2.8 s ahead, the probe (layer 2) 0-2.8 s: neither under 1 s nor 3 s up.
    const lead = 2 + 0.8 * Math.sin(t / 900);
    if (c.decide(t, view(10, [10, lead, Math.max(0, lead - 1 + Math.sin(t / 300))]))) changes++;
  }
  assert.equal(changes, 0, `${changes} switches for leads between the down (1 s) and up (3 s) thresholds`);
  // A single late piece at the play position (lead 0 for one 250 ms tick) moves nothing either.
  const d = new LayerController(three, 2);
  for (let t = 10_000; t < 30_000; t += 250) assert.equal(d.decide(t, view(10, [10, 10, t % 5000 === 0 ? 0 : 4, 0])), undefined, `late piece at ${t} ms`);
});

test('layer controller (fake clock): down at once on a thin buffer, down as far as the leads say when behind', () => {
  const c = new LayerController(three, 2);
  assert.deepEqual(c.decide(10_000, view(1, [1, 1, 1])), { layer: 1, reason: 'buffer' }, 'low buffer: one layer down, whatever the leads');
  const d = new LayerController(three, 2);
  assert.equal(d.decide(10_000, view(10, [10, 0.5, 0])), undefined, 'behind, but not yet for behindMs');
  assert.equal(d.decide(11_000, view(10, [10, 0.5, 0])), undefined);
  assert.deepEqual(d.decide(11_500, view(10, [10, 0.5, 0])), { layer: 0, reason: 'bandwidth' }, 'layers 1 and 2 both behind: down to the base');
  const e = new LayerController(three, 2, { panicHoldMs: 1000 });
  assert.deepEqual(e.decide(10_000, view(1, [1, 1, 1])), { layer: 1, reason: 'buffer' });
  assert.equal(e.decide(10_250, view(1, [1, 1, 1])), undefined, 'one thin moment is one step: the next waits a segment');
  assert.deepEqual(e.decide(11_000, view(1, [1, 1, 1])), { layer: 0, reason: 'buffer' });
  const f = new LayerController(three, 2);
  f.decide(10_000, view(10, [10, 5, 0]));
  assert.deepEqual(f.decide(11_500, view(10, [10, 5, 0])), { layer: 1, reason: 'bandwidth' }, 'layer 1 still ahead: one step down');
});

test('LAYER-CHANGE codec: round trip; anything else is a WireError', () => {
  for (let layer = 0; layer <= 15; layer++) assert.equal(decodeLayerChange(encodeLayerChange(layer)), layer);
  assert.throws(() => encodeLayerChange(16), RangeError);
  const bad = [encode({ layer: 16 }), encode({ layer: -1 }), encode({ layer: 'x' }), encode({ layer: { layer: 15 } }), encode({}), encode([1]), new TextEncoder().encode('d5:layeri1e'), new Uint8Array(100)];
  for (const payload of bad) assert.throws(() => decodeLayerChange(payload), WireError);
});

test('layer controller (fake clock): a layer left for falling behind is tried again later each time', () => {
  const c = new LayerController(three, 1);
  assert.deepEqual(c.decide(0, view(10, [10, 10, 3])), { layer: 2, reason: 'headroom' });
  c.decide(6000, view(10, [10, 5, 0]));
  assert.deepEqual(c.decide(7500, view(10, [10, 5, 0])), { layer: 1, reason: 'bandwidth' }, 'behind on layer 2: back to 1');
  assert.equal(c.decide(9500, view(10, [10, 10, 3])), undefined, 'layer 2 proven again, but 2 s is not enough after a failure');
  assert.deepEqual(c.decide(15_500, view(10, [10, 10, 3])), { layer: 2, reason: 'headroom' }, '8 s after: tried again');
  c.decide(21_500, view(10, [10, 5, 0]));
  assert.deepEqual(c.decide(23_000, view(10, [10, 5, 0])), { layer: 1, reason: 'bandwidth' });
  assert.equal(c.decide(50_000, view(10, [10, 10, 3])), undefined, 'the second failure: 30 s');
  assert.deepEqual(c.decide(53_000, view(10, [10, 10, 3])), { layer: 2, reason: 'headroom' });
});

test('layer controller (fake clock): a layer held for a minute forgets its failures', () => {
  const c = new LayerController(three, 1);
  assert.deepEqual(c.decide(0, view(10, [10, 10, 3])), { layer: 2, reason: 'headroom' });
  c.decide(6000, view(10, [10, 5, 0]));
  assert.deepEqual(c.decide(7500, view(10, [10, 5, 0])), { layer: 1, reason: 'bandwidth' }, 'layer 2 failed once');
  assert.deepEqual(c.decide(15_500, view(10, [10, 10, 3])), { layer: 2, reason: 'headroom' }, 'back up after 8 s');
  assert.equal(c.decide(75_500, view(10, [10, 10, 10])), undefined, 'layer 2 held for a minute');
  c.decide(80_000, view(10, [10, 5, 0]));
  assert.deepEqual(c.decide(81_500, view(10, [10, 5, 0])), { layer: 1, reason: 'bandwidth' });
  assert.deepEqual(c.decide(89_500, view(10, [10, 10, 3])), { layer: 2, reason: 'headroom' }, 'counted as a first failure again: 8 s, not 30 s');
});
