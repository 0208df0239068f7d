import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { leavesFor, MerkleTree, verifyMerkleProof } from '../../shared/metainfo/index.js';
import { MerkleError } from '../../shared/errors.js';

const sha1 = (...parts: Uint8Array[]) => new Uint8Array(createHash('sha1').update(Buffer.concat(parts)).digest());
const pieceHash = (i: number) => sha1(new TextEncoder().encode(`piece ${i}`));

test('three pieces: the root is computed with a zero filler leaf, as BEP 30 describes', async () => {
  const [h0, h1, h2] = [0, 1, 2].map(pieceHash) as [Uint8Array, Uint8Array, Uint8Array];
  const zero = new Uint8Array(20);
  const expected = sha1(sha1(h0, h1), sha1(h2, zero));
  const tree = await MerkleTree.fromPieceHashes([h0, h1, h2]);
  assert.deepEqual(tree.root, expected);
  assert.equal(tree.leafCount, 4);
  // BEP 30 numbering: root 0, children of i at 2i+1 and 2i+2; leaves start at 3.
  assert.deepEqual(tree.nodes[3], h0);
  assert.deepEqual(tree.nodes[6], zero);
  assert.deepEqual(tree.proof(2), [[6, zero], [1, sha1(h0, h1)]]);
});

test('every piece of trees of 1 to 17 pieces verifies with its proof; tampering fails', async () => {
  for (let n = 1; n <= 17; n++) {
    const hashes = Array.from({ length: n }, (_, i) => pieceHash(i));
    const tree = await MerkleTree.fromPieceHashes(hashes);
    assert.equal(tree.leafCount, leavesFor(n));
    for (let i = 0; i < n; i++) {
      const proof = tree.proof(i);
      assert.equal(proof.length, Math.log2(tree.leafCount));
      assert.equal(await verifyMerkleProof(tree.root, n, i, hashes[i]!, proof), true, `n=${n} i=${i}`);
      assert.equal(await verifyMerkleProof(tree.root, n, i, pieceHash(i + 100), proof), false);
      if (proof.length > 0) {
        const bad = proof.map(([node, h], k) => [node, k === 0 ? pieceHash(999) : h] as [number, Uint8Array]);
        assert.equal(await verifyMerkleProof(tree.root, n, i, hashes[i]!, bad), false);
        assert.equal(await verifyMerkleProof(tree.root, n, i, hashes[i]!, proof.slice(1)), false);
      }
    }
  }
});

test('impossible arguments are MerkleErrors', async () => {
  await assert.rejects(MerkleTree.fromPieceHashes([]), MerkleError);
  await assert.rejects(MerkleTree.fromPieceHashes([new Uint8Array(19)]), MerkleError);
  const tree = await MerkleTree.fromPieceHashes([pieceHash(0)]);
  assert.throws(() => tree.proof(1), MerkleError);
  await assert.rejects(verifyMerkleProof(tree.root, 1, 1, pieceHash(0), []), MerkleError);
  assert.equal(await verifyMerkleProof(tree.root, 1, 0, pieceHash(0), []), true);
});
