import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const BIN = path.join(import.meta.dirname, '..', '..', 'peer-node', 'bin', 'peer-node.js');
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

test('peer-node --help lists the commands; each command has --help', () => {
  const help = run('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /create .*\n.*info /s);
  for (const command of ['create', 'info', 'download', 'seed', 'dht', 'publish', 'make-layers', 'udp-gateway']) {
    const sub = run(command, '--help');
    assert.equal(sub.status, 0);
    assert.match(sub.stdout, new RegExp(`^peer-node ${command} `));
    assert.match(sub.stdout, /Example/);
  }
});

test('mistakes give one line on stderr and a non-zero exit', async () => {
  const unknown = run('fly');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command "fly"/);
  const badFlag = run('create', '.', '--piece-length', '1000');
  assert.equal(badFlag.status, 2);
  assert.match(badFlag.stderr, /--piece-length must be a power of two/);

  const dir = await mkdtemp(path.join(tmpdir(), 'cli-'));
  try {
    const broken = path.join(dir, 'broken.torrent');
    await writeFile(broken, 'd4:infod4:name1:x12:piece lengthi03ee');
    const info = run('info', broken);
    assert.equal(info.status, 1);
    assert.equal(info.stderr.trim().split('\n').length, 1);
    assert.match(info.stderr, /integer with a leading zero at byte/);
    const missing = run('info', path.join(dir, 'nope.torrent'));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /ENOENT/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('create then info round-trips a single file and prints a magnet', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cli-'));
  try {
    const file = path.join(dir, 'clip.bin');
    await writeFile(file, Buffer.alloc(50_000, 7));
    const created = run('create', file, '--out', path.join(dir, 'clip.torrent'), '--announce', 'http://127.0.0.1:8787/announce', '--private', '--json');
    assert.equal(created.status, 0, created.stderr);
    const result = JSON.parse(created.stdout) as { infoHash: string; magnet: string; pieces: number };
    assert.equal(result.pieces, 4);
    assert.match(result.magnet, new RegExp(`^magnet:\\?xt=urn:btih:${result.infoHash}&dn=clip.bin&tr=`));
    const info = JSON.parse(run('info', path.join(dir, 'clip.torrent'), '--json').stdout) as Record<string, unknown>;
    assert.equal(info.infoHash, result.infoHash);
    assert.equal(info.private, true);
    assert.equal(info.length, 50_000);
    const fromMagnet = JSON.parse(run('info', result.magnet, '--json').stdout) as Record<string, unknown>;
    assert.equal(fromMagnet.infoHash, result.infoHash);
    assert.deepEqual(fromMagnet.trackers, ['http://127.0.0.1:8787/announce']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
