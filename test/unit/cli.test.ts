import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UsageError } from '../../peer-node/cli/args.js';
import { ENV_VARS, OTHER_ENV_VARS, parseCommandLine } from '../../peer-node/cli/env-config.js';
import { COMMANDS, main } from '../../peer-node/cli/main.js';
import { formatBytes, formatDuration, progressLine, statusLine, transferLine, type ProgressStream } from '../../peer-node/cli/progress.js';
import { DOWNLOAD_OPTIONS, SEED_OPTIONS } from '../../peer-node/cli/transfer.js';

const BIN = path.join(import.meta.dirname, '..', '..', 'peer-node', 'bin', 'peer-node.js');
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

/** What `main` prints with console.log, and its exit code, without a process. */
async function mainOutput(argv: string[]): Promise<{ code: number; out: string }> {
  const log = console.log;
  let out = '';
  console.log = (text: string) => (out += `${text}\n`);
  try {
    return { code: await main(argv), out };
  } finally {
    console.log = log;
  }
}

test('peer-node --help lists the commands; each command has --help', () => {
  const help = run('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /create .*\n.*info /s);
  for (const command of Object.keys(COMMANDS)) assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'));
  for (const v of [...ENV_VARS, ...OTHER_ENV_VARS]) assert.match(help.stdout, new RegExp(`^  ${v.name} `, 'm'), v.name);
  // Each command's help in-process below; here once as a user runs it, both ways.
  const sub = run('seed', '--help');
  assert.equal(sub.status, 0);
  assert.match(sub.stdout, /^peer-node seed .*Examples:/s);
  const viaHelp = run('help', 'seed');
  assert.equal(viaHelp.status, 0);
  assert.equal(viaHelp.stdout, sub.stdout);
  const unknown = run('help', 'fly');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /^peer-node help: unknown command "fly"/);
});

test('every help names every option its parser accepts, its environment variables, and 2+ examples', async () => {
  for (const [name, command] of Object.entries(COMMANDS)) {
    const { help } = command;
    assert.match(help, new RegExp(`^peer-node ${name} `), name);
    for (const option of Object.keys(command.options)) {
      assert.match(help, new RegExp(`--${option}\\b`), `${name} --help does not mention --${option}`);
    }
    // Every flag the help shows in its Options section is one the parser accepts.
    const options = /\nOptions:\n([\s\S]*?)\n\n/.exec(help)?.[1] ?? '';
    for (const [, flag] of options.matchAll(/^ {2}--([a-z][a-z0-9-]*)/gm)) {
      assert.ok(flag! in command.options, `${name} --help lists --${flag}, which its parser rejects`);
    }
    for (const v of ENV_VARS.filter((e) => e.commands.includes(name))) {
      assert.ok(v.option in command.options, `${v.name} stands for --${v.option}, which ${name} does not accept`);
      assert.match(help, new RegExp(`^ {2}${v.name} +--${v.option}:`, 'm'), `${name} --help does not list ${v.name}`);
    }
    for (const v of OTHER_ENV_VARS.filter((e) => e.commands.includes(name))) assert.match(help, new RegExp(`^ {2}${v.name} `, 'm'));
    assert.match(help, /\nEnvironment/, `${name} --help has no Environment section`);
    const examples = /\nExamples:\n((?: {2}.*(?:\n|$))+)/.exec(help);
    assert.ok(examples, `${name} --help has no Examples section`);
    assert.ok(examples[1]!.trim().split('\n').length >= 2, `${name} --help has fewer than 2 examples`);
    // `peer-node help NAME` is `peer-node NAME --help`.
    const viaHelp = await mainOutput(['help', name]);
    const viaFlag = await mainOutput([name, '--help']);
    assert.equal(viaHelp.code, 0);
    assert.equal(viaHelp.out, viaFlag.out);
    assert.equal(viaHelp.out, `${help}\n`);
  }
});

test('environment variables stand in for flags: the flag wins, bad values name the variable', () => {
  const env = { PEER_NODE_PORT: '7000', PEER_NODE_OUT: '/tmp/x', PEER_NODE_NO_DHT: 'yes', PEER_NODE_UPLOAD_LIMIT: '2M', PEER_NODE_BOOTSTRAP: '127.0.0.1:6881', EDGE_URL: 'http://127.0.0.1:9' };
  const fromEnv = parseCommandLine('download', ['a.torrent'], DOWNLOAD_OPTIONS, env).values;
  assert.equal(fromEnv.port, '7000');
  assert.equal(fromEnv.out, '/tmp/x');
  assert.equal(fromEnv['no-dht'], true);
  assert.equal(fromEnv['upload-limit'], '2M');
  assert.equal(fromEnv.bootstrap, '127.0.0.1:6881');
  assert.equal((fromEnv as Record<string, unknown>).edge, undefined, 'EDGE_URL is not for download');
  const flagsWin = parseCommandLine('download', ['a.torrent', '--port', '0', '--out', 'here'], DOWNLOAD_OPTIONS, env).values;
  assert.equal(flagsWin.port, '0');
  assert.equal(flagsWin.out, 'here');
  // PEER_NODE_OUT is download's and stream's; seed takes PEER_NODE_DIR.
  const seed = parseCommandLine('seed', ['a.torrent'], SEED_OPTIONS, { ...env, PEER_NODE_DIR: '/srv' }).values;
  assert.equal(seed.dir, '/srv');
  assert.equal((seed as Record<string, unknown>).out, undefined);
  // Empty and "off" values count as unset.
  assert.equal(parseCommandLine('download', [], DOWNLOAD_OPTIONS, { PEER_NODE_PORT: ' ', PEER_NODE_NO_DHT: '0' }).values.port, undefined);
  assert.equal(parseCommandLine('download', [], DOWNLOAD_OPTIONS, { PEER_NODE_NO_DHT: 'off' }).values['no-dht'], undefined);
  const bad: [Record<string, string>, RegExp][] = [
    [{ PEER_NODE_PORT: 'abc' }, /^PEER_NODE_PORT must be 0-65535, got abc$/],
    [{ PEER_NODE_PORT: '70000' }, /^PEER_NODE_PORT must be 0-65535/],
    [{ PEER_NODE_UPLOAD_LIMIT: 'fast' }, /^PEER_NODE_UPLOAD_LIMIT: expected bytes a second/],
    [{ PEER_NODE_BOOTSTRAP: 'nowhere' }, /^PEER_NODE_BOOTSTRAP: "nowhere": expected HOST:PORT/],
    [{ PEER_NODE_NO_DHT: 'maybe' }, /^PEER_NODE_NO_DHT must be 1 or 0/],
  ];
  for (const [vars, message] of bad) {
    assert.throws(() => parseCommandLine('download', [], DOWNLOAD_OPTIONS, vars), (err: Error) => err instanceof UsageError && message.test(err.message));
  }
  // A bad value of a flag given on the command line is not even looked at.
  assert.doesNotThrow(() => parseCommandLine('download', ['--port', '1'], DOWNLOAD_OPTIONS, { PEER_NODE_PORT: 'abc' }));
});

test('an invalid environment variable: exit 2 and one line naming it', () => {
  const r = spawnSync(process.execPath, [BIN, 'download', 'x.torrent', '--out', '.'], { encoding: 'utf8', env: { ...process.env, PEER_NODE_DOWNLOAD_LIMIT: 'lots' } });
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'peer-node download: PEER_NODE_DOWNLOAD_LIMIT: expected bytes a second like 500k or 2M, got "lots" (see peer-node download --help)\n');
});

/** A stand-in for stderr that keeps what was written. */
function fakeStream(tty: boolean, columns?: number): ProgressStream & { text: string } {
  return {
    isTTY: tty,
    ...(columns ? { columns } : {}),
    text: '',
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  };
}

test('progress: plain timestamped lines at a calm interval off a terminal, one line redrawn on it', () => {
  let now = Date.parse('2026-01-02T03:04:05Z');
  const clock = () => now;
  const stats = { done: 512, wanted: 2048, downloadRate: 1024, uploadRate: 0, peers: 3, seeds: 1, bytesFromPeers: 256, bytesFromWebSeeds: 256, eta: 1.5 };
  const plain = fakeStream(false);
  const line = transferLine(plain, 5000, true, clock);
  line.update('downloading', stats);
  now += 1000;
  line.update('downloading', stats); // too soon: nothing
  now += 4000;
  line.update('downloading', stats);
  now += 100;
  line.update('complete', { ...stats, done: 2048 }); // a new phase: at once
  line.done();
  const lines = plain.text.split('\n').filter(Boolean);
  assert.equal(lines.length, 3, plain.text);
  assert.equal(lines[0], '2026-01-02T03:04:05Z downloading  25.0%  512 B / 2.0 KiB  ETA 2s  down 1.0 KiB/s  up 0 B/s  peers 3 (1 seed)  from peers 256 B, web seeds 256 B');
  assert.match(lines[1]!, /^2026-01-02T03:04:10Z downloading /);
  assert.match(lines[2]!, /^2026-01-02T03:04:10Z complete    100\.0% .* ETA 0s /);
  assert.doesNotMatch(plain.text, /\r|\x1b/);

  const tty = fakeStream(true, 60);
  const live = transferLine(tty, 5000, true, clock);
  live.update('downloading', stats);
  live.update('downloading', stats);
  live.interrupt();
  live.update('downloading', stats);
  live.done();
  const frames = tty.text.split('\r').filter(Boolean);
  assert.equal(frames.length, 4, JSON.stringify(tty.text));
  for (const frame of [frames[0], frames[1], frames[3]]) assert.ok(frame!.replace('\x1b[K', '').replace('\n', '').length <= 59, 'cut to the terminal width');
  assert.equal(frames[2], '\x1b[K', 'interrupt clears the line');
  assert.ok(tty.text.endsWith('\n'));

  const off = fakeStream(true);
  const quiet = transferLine(off, 5000, false);
  quiet.update('downloading', stats);
  quiet.done();
  const publish = progressLine(off, false);
  publish.update('hashing', 1, 2);
  publish.done();
  assert.equal(off.text, '', '--quiet and --json draw nothing');
});

test('progress of a job with a size: a line per phase and at the end off a terminal, with ETA', () => {
  let now = 0;
  const out = fakeStream(false);
  const line = progressLine(out, true, () => now);
  line.update('hashing', 0, 4 << 20);
  now = 1000;
  line.update('hashing', 1 << 20, 4 << 20);
  now = 6000;
  line.update('hashing', 2 << 20, 4 << 20);
  line.update('hashing', 4 << 20, 4 << 20);
  line.update('uploading', 0, 4 << 20);
  const lines = out.text.split('\n').filter(Boolean);
  assert.equal(lines.length, 4, out.text);
  assert.match(lines[1]!, /Z hashing    50\.0%  2\.0 MiB \/ 4\.0 MiB  341\.3 KiB\/s  ETA 6s$/);
  assert.match(lines[2]!, /hashing   100\.0% .* ETA 0s$/);
  assert.match(lines[3]!, /uploading   0\.0% /);
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatDuration(3725), '1h02m');
  assert.equal(formatDuration(undefined), '--');
  const tty = fakeStream(true);
  statusLine(tty).show('x');
  assert.equal(tty.text, '\rx\x1b[K');
});

test('mistakes give one line on stderr and a non-zero exit', async () => {
  const unknown = run('fly');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command "fly"/);
  const badFlag = run('create', '.', '--piece-length', '1000');
  assert.equal(badFlag.status, 2);
  assert.match(badFlag.stderr, /--piece-length must be a power of two/);
  const unknownOption = run('info', 'x.torrent', '--verbose');
  assert.equal(unknownOption.status, 2);
  assert.equal(unknownOption.stderr, 'peer-node info: unknown option --verbose (see peer-node info --help)\n');
  const missingValue = run('create', '.', '--out');
  assert.equal(missingValue.status, 2);
  assert.equal(missingValue.stderr, 'peer-node create: --out needs a value (see peer-node create --help)\n');
  const seedOnly = run('download', 'x.torrent', '--out', '.', '--super-seed');
  assert.equal(seedOnly.status, 2);
  assert.match(seedOnly.stderr, /unknown option --super-seed/);

  const dir = await mkdtemp(path.join(tmpdir(), 'cli-'));
  try {
    const broken = path.join(dir, 'broken.torrent');
    await writeFile(broken, 'd4:infod4:name1:x12:piece lengthi03ee');
    const info = run('info', broken);
    assert.equal(info.status, 1);
    assert.equal(info.stderr.trim().split('\n').length, 1);
    assert.match(info.stderr, /broken\.torrent is not a valid \.torrent file: .*integer with a leading zero at byte/);
    const missing = run('info', path.join(dir, 'nope.torrent'));
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr, `peer-node info: no such torrent file ${path.join(dir, 'nope.torrent')} (ENOENT): check the path\n`);
    const folder = run('info', dir);
    assert.equal(folder.status, 1);
    assert.match(folder.stderr, /is a folder, not a \.torrent file \(EISDIR\): to make a torrent of it, run peer-node create/);
    const missingContent = run('create', path.join(dir, 'nothing-here'));
    assert.equal(missingContent.status, 1);
    assert.match(missingContent.stderr, /^peer-node create: no such file or folder .*nothing-here \(ENOENT\): check the path\n$/);
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
    assert.equal(created.stderr, '', '--json: no progress');
    // Without --json, hashing shows its progress on stderr (plain lines off a terminal): the
    // start and the end; stdout has only the result.
    const plain = run('create', file, '--out', path.join(dir, 'clip2.torrent'));
    assert.equal(plain.status, 0, plain.stderr);
    const lines = plain.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 2, plain.stderr);
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ hashing +0\.0% {2}0 B \/ 48\.8 KiB /);
    assert.match(lines[1]!, /hashing +100\.0% {2}48\.8 KiB \/ 48\.8 KiB .* ETA 0s$/);
    assert.match(plain.stdout, /^wrote .*clip2\.torrent\n {2}info-hash {2}[0-9a-f]{40}\n/);
    assert.equal(run('create', file, '--out', path.join(dir, 'clip3.torrent'), '--quiet').stderr, '', '--quiet: no progress');
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

test('on a real terminal (a pty from script(1)), create redraws one progress bar in place, then prints its result below it', { skip: existsSync('/usr/bin/script') ? false : 'no script(1) (util-linux/bsdutils)' }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cli-'));
  try {
    const file = path.join(dir, 'clip.bin');
    await writeFile(file, Buffer.alloc(3 * 1048576, 5));
    const command = [process.execPath, BIN, 'create', file, '--out', path.join(dir, 'clip.torrent')].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('/usr/bin/script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, COLUMNS: '120' } });
    assert.equal(r.status, 0, r.stderr);
    const draws = r.stdout.split('\r').filter((part) => part.includes('hashing'));
    assert.ok(draws.length >= 2, `redrawn: ${JSON.stringify(r.stdout.slice(0, 300))}`);
    for (const d of draws) assert.match(d, /^\[[#.]{20}\] hashing +\d+\.\d%  [\d.]+ [KM]?i?B \/ 3\.0 MiB  .* ETA .*\x1b\[K/);
    assert.match(r.stdout, /\[#{20}\] hashing +100\.0% {2}3\.0 MiB \/ 3\.0 MiB .*ETA 0s\x1b\[K\r?\n/, 'the bar ends full, and the line is ended');
    assert.doesNotMatch(r.stdout, /^\d{4}-\d\d-\d\dT/m, 'no plain timestamped lines on a terminal');
    assert.match(r.stdout, /\r?\nwrote .*clip\.torrent\r?\n/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
