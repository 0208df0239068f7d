/** The rate meter on a fake clock (the test controls time). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateMeter } from '../../peer-node/engine/rate-meter.js';

test('rate meter (fake clock): a young meter divides by its age, an old one by its window, idle seconds fall out', () => {
  let now = 1_000_000;
  const meter = new RateMeter(5, () => now);
  meter.add(1_000_000);
  assert.equal(meter.rate, 1_000_000, 'in its first second: a second counts as the span');
  now += 2000;
  assert.equal(meter.rate, 500_000, 'two seconds old: 1 MB over 2 s');
  meter.add(1_000_000);
  now += 2000;
  assert.equal(meter.rate, 500_000, 'four seconds old: 2 MB over 4 s');
  now += 1000;
  assert.equal(meter.rate, 200_000, 'five seconds old: the first second has left the 5 s window');
  now += 10_000;
  assert.equal(meter.rate, 0, 'everything older than the window is gone');
  meter.add(500_000);
  assert.equal(meter.rate, 100_000, 'old meter: the full window');
  assert.equal(meter.total, 2_500_000);
});
