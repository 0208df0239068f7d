import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkCache } from '../../worker/seed/chunk-cache.js';

const chunk = (n: number) => new Uint8Array(10).fill(n);

test('a chunk is admitted on its second request and then served from memory', () => {
  const cache = new ChunkCache(30);
  assert.equal(cache.touch('a', 10), false, 'first request: read the range from storage');
  assert.equal(cache.touch('a', 10), true, 'second request: load the whole chunk');
  assert.equal(cache.touch('a', 10), false, 'while it loads, others read ranges');
  cache.put('a', chunk(1));
  cache.loaded('a');
  assert.deepEqual(cache.get('a'), chunk(1));
  assert.equal(cache.size, 10);
});

test('a full cache admits only a chunk twice as popular as the least recently used one', () => {
  const cache = new ChunkCache(20);
  for (const key of ['a', 'b']) {
    cache.touch(key, 10);
    assert.equal(cache.touch(key, 10), true);
    cache.put(key, chunk(1));
    cache.loaded(key);
  }
  cache.touch('c', 10);
  assert.equal(cache.touch('c', 10), false, 'as popular as "a": no churn');
  for (let i = 0; i < 2; i++) assert.equal(cache.touch('c', 10), false);
  assert.equal(cache.touch('c', 10), true, 'now more than twice as popular');
  cache.put('c', chunk(3));
  cache.loaded('c');
  assert.equal(cache.get('a'), undefined, 'the least recently used chunk made room');
  assert.deepEqual(cache.get('c'), chunk(3));
  assert.equal(cache.size, 20, 'never over budget');
});

test('chunks larger than the budget are never admitted; a budget of 0 turns the cache off', () => {
  const off = new ChunkCache(0);
  off.touch('a', 10);
  assert.equal(off.touch('a', 10), false);
  off.put('a', chunk(1));
  assert.equal(off.get('a'), undefined);
});

test('hits keep a chunk popular: a later scan of other chunks does not push it out', () => {
  const cache = new ChunkCache(20);
  cache.touch('hot', 10);
  cache.touch('hot', 10);
  cache.put('hot', chunk(1));
  cache.loaded('hot');
  for (let i = 0; i < 50; i++) {
    assert.ok(cache.get('hot'));
    cache.touch('hot', 10); // as the reader does on a hit
  }
  cache.touch('x', 10);
  cache.touch('x', 10);
  cache.put('x', chunk(2));
  cache.loaded('x');
  for (let i = 0; i < 30; i++) {
    cache.touch(`scan${i}`, 10);
    if (cache.touch(`scan${i}`, 10)) {
      cache.put(`scan${i}`, chunk(3));
      cache.loaded(`scan${i}`);
    }
  }
  assert.ok(cache.get('hot'), 'the hot chunk stayed');
});
