import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BLOCK_LENGTH, TorrentGeometry } from '../../shared/metainfo/index.js';
import { GeometryError } from '../../shared/errors.js';

test('pieces straddle files; the last piece and block are short', () => {
  // files: 10 + 0 + 30 + 5 = 45 bytes, pieces of 16 => 3 pieces (16, 16, 13)
  const g = new TorrentGeometry({ pieceLength: 16, files: [{ length: 10 }, { length: 0 }, { length: 30 }, { length: 5 }] });
  assert.equal(g.pieceCount, 3);
  assert.equal(g.pieceSize(2), 13);
  assert.deepEqual(g.pieceRangeToFiles(0, 0, 16), [
    { fileIndex: 0, fileOffset: 0, length: 10 },
    { fileIndex: 2, fileOffset: 0, length: 6 },
  ]);
  assert.deepEqual(g.pieceRangeToFiles(2, 5, 8), [
    { fileIndex: 2, fileOffset: 27, length: 3 },
    { fileIndex: 3, fileOffset: 0, length: 5 },
  ]);
  assert.deepEqual(g.fileOffsetToPiece(3, 4), { index: 2, begin: 12 });
  assert.deepEqual(g.filePieces(2), { first: 0, last: 2 });
  assert.equal(g.filePieces(1), undefined);
});

test('blocks are 16 KiB with a short tail', () => {
  const g = new TorrentGeometry({ pieceLength: 65536, files: [{ length: 65536 + 20000 }] });
  assert.equal(g.blockCount(0), 4);
  assert.equal(g.blockCount(1), 2);
  assert.equal(g.blockSize(1, 1), 20000 - BLOCK_LENGTH);
  assert.throws(() => g.blockSize(1, 2), GeometryError);
});

test('out-of-range pieces and ranges are typed errors', () => {
  const g = new TorrentGeometry({ pieceLength: 16, files: [{ length: 20 }] });
  assert.throws(() => g.pieceSize(2), GeometryError);
  assert.throws(() => g.pieceRangeToFiles(1, 0, 5), GeometryError);
  assert.throws(() => g.pieceRangeToFiles(0, -1, 1), GeometryError);
  assert.throws(() => g.pieceRangeToFiles(0, 0, 0), GeometryError);
  assert.throws(() => g.byteRangeToFiles(15, 6), GeometryError);
  assert.throws(() => g.fileOffsetToPiece(0, 20), GeometryError);
  assert.throws(() => new TorrentGeometry({ pieceLength: 0, files: [] }), GeometryError);
  assert.equal(g.isValidRange(1, 0, 4), true);
  assert.equal(g.isValidRange(1, 0, 5), false);
});

test('property: every piece maps to contiguous file spans that add up, and back again', () => {
  const input = fc.record({
    pieceLength: fc.integer({ min: 1, max: 64 }),
    files: fc.array(fc.integer({ min: 0, max: 100 }).map((length) => ({ length })), { minLength: 1, maxLength: 8 }),
  });
  fc.assert(
    fc.property(input, ({ pieceLength, files }) => {
      const g = new TorrentGeometry({ pieceLength, files });
      let covered = 0;
      for (let p = 0; p < g.pieceCount; p++) {
        const spans = g.pieceRangeToFiles(p, 0, g.pieceSize(p));
        assert.equal(spans.reduce((s, x) => s + x.length, 0), g.pieceSize(p));
        for (const span of spans) {
          assert.ok(span.length > 0 && span.fileOffset + span.length <= files[span.fileIndex]!.length);
          // The reverse mapping lands back at the same torrent offset.
          const back = g.fileOffsetToPiece(span.fileIndex, span.fileOffset);
          assert.equal(back.index * pieceLength + back.begin, covered);
          covered += span.length;
        }
      }
      assert.equal(covered, g.totalLength);
    }),
    { numRuns: 300 },
  );
});
