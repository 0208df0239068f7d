/**
 * The edge's secret comparison (worker/access/secrets.ts) and passkeys (worker/access/passkeys.ts):
 * equal, unequal and different-length secrets, and the comparison always done on two digests of
 * the same size, whatever the lengths given, so that its time tells nothing of the secret.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secretsEqual } from '../../worker/access/secrets.js';
import { passkeyFor, userOfPasskey } from '../../worker/access/passkeys.js';

test('secretsEqual: equal, unequal, prefixes, longer, empty and non-ASCII secrets', async () => {
  const secret = 'pt-4f1c9a7e-publish';
  assert.equal(await secretsEqual(secret, secret), true);
  assert.equal(await secretsEqual(`${secret}`.slice(0), secret), true);
  for (const given of ['', 'p', secret.slice(0, -1), `${secret}x`, secret.toUpperCase(), `${secret}\0`, 'x'.repeat(10_000), secret.replace('p', 'q')]) {
    assert.equal(await secretsEqual(given, secret), false, JSON.stringify(given.slice(0, 40)));
    assert.equal(await secretsEqual(secret, given), false, 'symmetric');
  }
  assert.equal(await secretsEqual('', ''), true);
  assert.equal(await secretsEqual('clé-ü-名前', 'clé-ü-名前'), true);
  assert.equal(await secretsEqual('clé-ü-名前', 'cle-u-名前'), false);
});

test('secretsEqual compares two 32-byte digests, never the texts: no early exit on length', async () => {
  const subtle = crypto.subtle as typeof crypto.subtle & { timingSafeEqual?: (a: ArrayBuffer, b: ArrayBuffer) => boolean };
  const seen: [number, number][] = [];
  // workerd's crypto.subtle.timingSafeEqual, stood in for here: it must be what decides.
  Object.defineProperty(subtle, 'timingSafeEqual', {
    configurable: true,
    value: (a: ArrayBuffer, b: ArrayBuffer) => {
      seen.push([a.byteLength, b.byteLength]);
      const x = new Uint8Array(a);
      const y = new Uint8Array(b);
      return x.length === y.length && x.every((v, i) => v === y[i]);
    },
  });
  try {
    assert.equal(await secretsEqual('short', 'a much longer secret than that'), false);
    assert.equal(await secretsEqual('x'.repeat(5000), 'secret'), false);
    assert.equal(await secretsEqual('secret', 'secret'), true);
    assert.deepEqual(seen, [[32, 32], [32, 32], [32, 32]]);
  } finally {
    delete (subtle as { timingSafeEqual?: unknown }).timingSafeEqual;
  }
});

test('passkeys: the user\'s own passkey passes; another user\'s MAC, a changed MAC or another secret do not', async () => {
  const secret = 'passkey-secret-1';
  const alice = await passkeyFor(secret, 'alice');
  const bob = await passkeyFor(secret, 'bob');
  assert.match(alice, /^alice\.[A-Za-z0-9_-]{24}$/);
  assert.equal(await userOfPasskey(secret, alice), 'alice');
  assert.equal(await userOfPasskey(secret, `alice.${bob.split('.')[1]}`), undefined);
  assert.equal(await userOfPasskey(secret, `${alice.slice(0, -1)}${alice.endsWith('A') ? 'B' : 'A'}`), undefined);
  assert.equal(await userOfPasskey(secret, alice.slice(0, -1)), undefined);
  assert.equal(await userOfPasskey('another-secret', alice), undefined);
  for (const bad of ['', 'alice', '.', 'Alice.x', `alice.${'A'.repeat(100)}`, '../alice.x']) assert.equal(await userOfPasskey(secret, bad), undefined, bad);
});
