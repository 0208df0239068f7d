import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLIENT_PREFIX, generatePeerId, parsePeerIdPrefix } from '../../shared/peer-id.js';

test('peer ids are 20 bytes, Azureus-style prefix, random printable tail, unique', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const id = generatePeerId();
    assert.equal(id.length, 20);
    const text = String.fromCharCode(...id);
    assert.ok(text.startsWith(CLIENT_PREFIX));
    assert.match(text.slice(8), /^[0-9A-Za-z]{12}$/);
    ids.add(text);
  }
  assert.equal(ids.size, 1000);
  assert.deepEqual(parsePeerIdPrefix(generatePeerId('-LT2000-')), { client: 'LT', version: '2000' });
  assert.equal(parsePeerIdPrefix(new Uint8Array(20)), undefined);
  assert.throws(() => generatePeerId('bad'), RangeError);
});
