/**
 * .torrent files made by real third-party creators parse here with the same info-hash the tools
 * report, and torrents we make are read by Transmission and libtorrent with our info-hash and
 * pass libtorrent's own piece-hash check against the data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseTorrent } from '../../shared/metainfo/index.js';
import { missingTools, SYSTEM_PYTHON } from '../helpers/real-tools.js';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'real-torrents');
const TOOLS = path.join(import.meta.dirname, 'tools');
const ROOT = path.join(import.meta.dirname, '..', '..');

interface ManifestEntry {
  file: string;
  tool: string;
  transmission: string;
  libtorrent: string;
}

async function checkDirectory(dir: string): Promise<void> {
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as ManifestEntry[];
  assert.equal(manifest.length, 5);
  for (const entry of manifest) {
    const t = await parseTorrent(new Uint8Array(await readFile(path.join(dir, entry.file))));
    assert.equal(t.infoHashHex, entry.libtorrent, `${entry.file}: libtorrent's info-hash`);
    if (entry.transmission) assert.equal(t.infoHashHex, entry.transmission, `${entry.file}: Transmission's info-hash`);
  }
  const byName = async (file: string) => parseTorrent(new Uint8Array(await readFile(path.join(dir, file))));
  const priv = await byName('mktorrent-multi-private.torrent');
  assert.equal(priv.info.private, true);
  assert.deepEqual(priv.announceList, [['http://127.0.0.1:8787/announce', 'http://127.0.0.1:8788/announce'], ['udp://127.0.0.1:6969']]);
  assert.equal(priv.comment, 'a comment');
  assert.deepEqual(
    priv.info.files.map((f) => f.path.join('/')),
    ['disc 1/notes.txt', 'disc 1/track é.flac', 'disc 2/track.flac', 'empty.txt'],
  );
  const single = await byName('mktorrent-single.torrent');
  assert.equal(single.info.length, 300000);
  assert.deepEqual(single.urlList, ['http://127.0.0.1:8787/seed/']);
  const hybrid = await byName('libtorrent-hybrid.torrent');
  assert.ok(hybrid.info.files.some((f) => f.padding), 'libtorrent hybrids carry BEP 47 padding files');
  assert.equal(hybrid.info.files.filter((f) => !f.padding).length, 4);
}

test('committed torrents from mktorrent, transmission-create and libtorrent parse with their info-hashes', async () => {
  await checkDirectory(FIXTURES);
});

test('freshly made torrents from the real tools parse with the info-hashes they report', { skip: missingTools(['mktorrent', 'transmission-create', 'transmission-show'], true) }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'real-torrents-'));
  try {
    execFileSync(path.join(TOOLS, 'make-real-torrents.sh'), [dir], { stdio: 'pipe' });
    await checkDirectory(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('torrents made by peer-node create are read by Transmission and libtorrent, and pass libtorrent\'s hash check', { skip: missingTools(['transmission-show'], true) }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'our-torrents-'));
  try {
    const content = path.join(dir, 'show');
    await mkdir(path.join(content, 'season 1'), { recursive: true });
    await writeFile(path.join(content, 'season 1', 'episode ü.mkv'), randomBytes(200_000));
    await writeFile(path.join(content, 'readme.txt'), 'hello');
    await writeFile(path.join(content, 'empty'), '');
    const torrentPath = path.join(dir, 'show.torrent');
    const created = JSON.parse(
      execFileSync(process.execPath, [path.join(ROOT, 'peer-node/bin/peer-node.js'), 'create', content, '--out', torrentPath, '--announce', 'http://127.0.0.1:8787/announce', '--web-seed', 'http://127.0.0.1:8787/seed/', '--json'], { encoding: 'utf8' }),
    ) as { infoHash: string; pieces: number };

    const shown = execFileSync('transmission-show', [torrentPath], { encoding: 'utf8' });
    assert.match(shown, new RegExp(`Hash: ${created.infoHash}`));
    const lt = JSON.parse(execFileSync(SYSTEM_PYTHON, [path.join(TOOLS, 'lt_torrent_info.py'), torrentPath, dir], { encoding: 'utf8' })) as Record<string, unknown>;
    assert.equal(lt.info_hash, created.infoHash);
    assert.deepEqual(lt.files, ['show/empty', 'show/readme.txt', 'show/season 1/episode ü.mkv']);
    assert.deepEqual(lt.web_seeds, ['http://127.0.0.1:8787/seed/']);
    assert.equal(lt.verified_pieces, created.pieces, 'libtorrent verified every piece hash we wrote');
    assert.equal(lt.is_seed, true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
