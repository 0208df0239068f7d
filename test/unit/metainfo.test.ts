import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { buildTorrent, choosePieceLength, hashPieces, parseTorrent, PieceHasher } from '../../shared/metainfo/index.js';
import { type BDict, decode, encode } from '../../shared/bencode/index.js';
import { BencodeError, MetainfoError } from '../../shared/errors.js';
import { toHex } from '../../shared/bytes.js';
import { b } from '../helpers/bytes.js';

const sha1hex = (bytes: Uint8Array) => createHash('sha1').update(bytes).digest('hex');
const content = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7919) & 0xff);

async function rejects(torrent: Uint8Array, code: string) {
  await assert.rejects(parseTorrent(torrent), (err: unknown) => err instanceof MetainfoError && err.code === `metainfo.${code}`, code);
}

/** A torrent dictionary with a valid single-file info, fields overridable. */
function torrentWith(info: Record<string, unknown>, top: Record<string, unknown> = {}): Uint8Array {
  return encode({ announce: 'http://127.0.0.1:8787/announce', ...top, info: info as never } as never);
}
const validInfo = { name: 'a.bin', 'piece length': 16384, length: 16384, pieces: new Uint8Array(20) };

test('single-file torrent: build, parse, and the info-hash is SHA-1 of the info bytes', async () => {
  const pieces = await hashPieces(content, 32768);
  const built = await buildTorrent({
    name: 'content.bin',
    pieceLength: 32768,
    pieces,
    length: content.length,
    announceList: [['http://127.0.0.1:8787/announce'], ['udp://127.0.0.1:6969']],
    urlList: ['http://127.0.0.1:8787/seed/'],
    httpSeeds: ['http://127.0.0.1:8787/seed17'],
    comment: 'test',
    createdBy: 'edge-swarm',
    creationDate: 1_700_000_000,
  });
  const t = built.torrent;
  assert.equal(t.info.name, 'content.bin');
  assert.equal(t.info.pieceCount, 4);
  assert.equal(t.info.length, 100_000);
  assert.equal(t.info.multiFile, false);
  assert.deepEqual(t.info.files, [{ path: ['content.bin'], length: 100_000, offset: 0, padding: false }]);
  assert.equal(toHex(t.info.pieces[3]!), sha1hex(content.subarray(98304)));
  assert.equal(t.announce, 'http://127.0.0.1:8787/announce');
  assert.deepEqual(t.announceList, [['http://127.0.0.1:8787/announce'], ['udp://127.0.0.1:6969']]);
  assert.deepEqual(t.urlList, ['http://127.0.0.1:8787/seed/']);
  assert.deepEqual(t.httpSeeds, ['http://127.0.0.1:8787/seed17']);
  assert.equal(t.creationDate, 1_700_000_000);
  assert.equal(t.infoHashHex, sha1hex(t.infoBytes));
  assert.equal(t.infoHashHex, sha1hex(encode({ length: 100_000, name: 'content.bin', 'piece length': 32768, pieces })));
});

test('multi-file torrent: file offsets, padding files, private flag', async () => {
  const files = [
    { path: ['dir', 'one.txt'], length: 5 },
    { path: ['.pad', '16379'], length: 16379, padding: true },
    { path: ['two.bin'], length: 20000 },
    { path: ['empty'], length: 0 },
  ];
  const total = 5 + 16379 + 20000;
  const built = await buildTorrent({
    name: 'set',
    pieceLength: 16384,
    pieces: new Uint8Array(20 * Math.ceil(total / 16384)),
    files,
    private: true,
  });
  const t = built.torrent;
  assert.equal(t.info.multiFile, true);
  assert.equal(t.info.private, true);
  assert.deepEqual(
    t.info.files.map((f) => [f.path.join('/'), f.offset, f.padding]),
    [['dir/one.txt', 0, false], ['.pad/16379', 5, true], ['two.bin', 16384, false], ['empty', 36384, false]],
  );
  assert.deepEqual(t.announceList, []);
});

test('the info-hash is taken over the bytes as received, even when they are not canonical', async () => {
  // Keys out of order inside info: a re-encoder would sort them and get another hash.
  const infoRaw = b('d6:lengthi1e4:name1:x6:pieces20:AAAAAAAAAAAAAAAAAAAA12:piece lengthi16384ee');
  const torrent = new Uint8Array([...b('d4:info'), ...infoRaw, ...b('e')]);
  const t = await parseTorrent(torrent);
  assert.equal(t.infoHashHex, sha1hex(infoRaw));
  assert.deepEqual(t.infoBytes, infoRaw);
  const canonical = encode(decode(infoRaw) as BDict);
  assert.notEqual(sha1hex(canonical), t.infoHashHex, 're-encoding would have changed the hash');
});

test('a BEP 30 Merkle torrent carries a root hash instead of pieces', async () => {
  const t = await parseTorrent(torrentWith({ name: 'm', 'piece length': 16384, length: 40000, 'root hash': new Uint8Array(20).fill(7) }));
  assert.deepEqual(t.info.rootHash, new Uint8Array(20).fill(7));
  assert.equal(t.info.pieces.length, 0);
  assert.equal(t.info.pieceCount, 3);
  await rejects(torrentWith({ name: 'm', 'piece length': 16384, length: 1, 'root hash': new Uint8Array(19) }), 'bad-root-hash');
});

test('path safety: no .., no absolute or separator-bearing components, no empty path lists', async () => {
  const multi = (path: unknown[]) => torrentWith({ name: 'd', 'piece length': 16384, pieces: new Uint8Array(20), files: [{ length: 1, path }] });
  await rejects(multi(['..', 'etc', 'passwd']), 'unsafe-path');
  await rejects(multi(['a', '.']), 'unsafe-path');
  await rejects(multi(['/etc']), 'unsafe-path');
  await rejects(multi(['a\\b']), 'unsafe-path');
  await rejects(multi(['']), 'unsafe-path');
  await rejects(multi([]), 'unsafe-path');
  await rejects(multi(['a\0b']), 'unsafe-path');
  await rejects(torrentWith({ ...validInfo, name: '..' }), 'unsafe-path');
  await rejects(torrentWith({ ...validInfo, name: '/abs' }), 'unsafe-path');
  await rejects(
    torrentWith({ name: 'd', 'piece length': 16384, pieces: new Uint8Array(20), files: [{ length: 1, path: ['x'] }, { length: 1, path: ['x'] }] }),
    'duplicate-path',
  );
  const ok = await parseTorrent(multi(['sub', 'file.txt']));
  assert.deepEqual(ok.info.files[0]!.path, ['sub', 'file.txt']);
});

test('structural rules of the info dictionary', async () => {
  await rejects(torrentWith({ ...validInfo, pieces: new Uint8Array(21) }), 'bad-pieces');
  await rejects(torrentWith({ ...validInfo, pieces: new Uint8Array(40) }), 'bad-pieces');
  await rejects(torrentWith({ ...validInfo, files: [{ length: 1, path: ['x'] }] }), 'bad-layout');
  const { length: _l, ...noLength } = validInfo;
  await rejects(torrentWith(noLength), 'bad-layout');
  await rejects(torrentWith({ ...validInfo, 'piece length': 0 }), 'bad-field');
  await rejects(torrentWith({ ...validInfo, length: -1 }), 'bad-field');
  await rejects(torrentWith({ ...validInfo, length: 0, pieces: new Uint8Array(0) }), 'empty');
  await rejects(torrentWith({ name: 'm', 'piece length': 1, length: 2 ** 40, 'root hash': new Uint8Array(20) }), 'too-many-pieces');
  const { name: _n, ...noName } = validInfo;
  await rejects(torrentWith(noName), 'missing-field');
  await rejects(encode({ announce: 'x' }), 'missing-field');
  await rejects(encode([1]), 'not-a-dict');
  await rejects(new Uint8Array([...torrentWith(validInfo), 0x20]), 'trailing-bytes');
  await rejects(torrentWith(validInfo, { 'announce-list': [['http://a'], 7] }), 'bad-field');
  await assert.rejects(parseTorrent(b('d4:infod')), BencodeError);
});

test('BEP 12 and BEP 19 variants: empty tiers dropped, url-list as a single string', async () => {
  const t = await parseTorrent(torrentWith(validInfo, { 'announce-list': [[], ['http://t1', '']], 'url-list': 'http://seed/' }));
  assert.deepEqual(t.announceList, [['http://t1']]);
  assert.deepEqual(t.urlList, ['http://seed/']);
  const fallback = await parseTorrent(torrentWith(validInfo));
  assert.deepEqual(fallback.announceList, [['http://127.0.0.1:8787/announce']]);
  const priv = await parseTorrent(torrentWith({ ...validInfo, private: 0 }));
  assert.equal(priv.info.private, false);
});

test('PieceHasher gives the same hashes however the stream is chunked', async () => {
  const whole = await hashPieces(content, 16384);
  const hasher = new PieceHasher(16384);
  for (let at = 0; at < content.length; at += 777) await hasher.update(content.subarray(at, at + 777));
  assert.deepEqual(await hasher.finish(), whole);
  assert.equal(whole.length, 20 * Math.ceil(content.length / 16384));
});

test('choosePieceLength keeps pieces between 16 KiB and 16 MiB and near 1,500 at most', () => {
  assert.equal(choosePieceLength(0), 16384);
  assert.equal(choosePieceLength(1_000_000), 16384);
  const gib = choosePieceLength(4 * 1024 ** 3);
  assert.ok(4 * 1024 ** 3 / gib <= 1500 && gib <= 16 * 1024 * 1024);
  assert.equal(choosePieceLength(1e15), 16 * 1024 * 1024);
});

test('BEP 27: any non-zero private value is private, as libtorrent and Transmission read it', async () => {
  for (const [value, expected] of [[1, true], [2, true], [-1, true], [0, false]] as const) {
    const t = await parseTorrent(torrentWith({ ...validInfo, private: value }));
    assert.equal(t.info.private, expected, `private=${value}`);
  }
});

test('old torrents: invalid UTF-8 names become "_", usable .utf-8 variants win, unusable ones are ignored', async () => {
  const latin1Name = await parseTorrent(torrentWith({ ...validInfo, name: new Uint8Array([0x63, 0x61, 0x66, 0xe9]) }));
  assert.equal(latin1Name.info.name, 'caf_');
  const alt = await parseTorrent(torrentWith({ ...validInfo, name: 'plain', 'name.utf-8': 'café' }));
  assert.equal(alt.info.name, 'café');
  const unsafeAlt = await parseTorrent(torrentWith({ ...validInfo, name: 'plain', 'name.utf-8': '..' }));
  assert.equal(unsafeAlt.info.name, 'plain');
  const files = (entry: Record<string, unknown>) => torrentWith({ name: 'd', 'piece length': 16384, pieces: new Uint8Array(20), files: [{ length: 1, ...entry }] });
  const badAltPath = await parseTorrent(files({ path: ['ok.txt'], 'path.utf-8': [new Uint8Array([0xff])] }));
  assert.deepEqual(badAltPath.info.files[0]!.path, ['ok.txt']);
  const goodAltPath = await parseTorrent(files({ path: [new Uint8Array([0xe9])], 'path.utf-8': ['é'] }));
  assert.deepEqual(goodAltPath.info.files[0]!.path, ['é']);
});

test('paths: padding files may share a path, a file may not also be a folder, names fit in 255 bytes', async () => {
  const multi = (files: unknown[], pieces = 1) => torrentWith({ name: 'd', 'piece length': 16384, pieces: new Uint8Array(20 * pieces), files });
  const pads = await parseTorrent(
    multi([
      { length: 100, path: ['a'] },
      { length: 16284, path: ['.pad', '16284'], attr: 'p' },
      { length: 100, path: ['b'] },
      { length: 16284, path: ['.pad', '16284'], attr: 'p' },
      { length: 100, path: ['c'] },
    ], 3),
  );
  assert.equal(pads.info.files.filter((f) => f.padding).length, 2);
  await rejects(multi([{ length: 1, path: ['a'] }, { length: 1, path: ['a', 'b'] }]), 'duplicate-path');
  await rejects(multi([{ length: 1, path: ['a', 'b'] }, { length: 1, path: ['a'] }]), 'duplicate-path');
  await rejects(multi([{ length: 1, path: ['é'.repeat(128)] }]), 'unsafe-path');
  assert.ok(await parseTorrent(multi([{ length: 1, path: ['é'.repeat(127)] }])));
});

test('lenient where real torrents are sloppy: flat announce-list, bad DHT node hints', async () => {
  const t = await parseTorrent(torrentWith(validInfo, { 'announce-list': ['http://a/', 'http://b/'], nodes: [['router.example', 0], ['1.2.3.4', 6881], 'junk'] }));
  assert.deepEqual(t.announceList, [['http://a/'], ['http://b/']]);
  assert.deepEqual(t.nodes, [{ host: '1.2.3.4', port: 6881 }]);
});

test('piece hashes are views of one buffer, not a copy each', async () => {
  const t = await parseTorrent(torrentWith({ name: 'x', 'piece length': 16384, length: 16384 * 3, pieces: new Uint8Array(60).fill(9) }));
  assert.equal(t.info.pieces[0]!.buffer, t.info.pieces[2]!.buffer);
});
