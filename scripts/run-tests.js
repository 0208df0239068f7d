#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's own test runner (TypeScript through tsx).
// Node 20's runner takes no globs, so the files are listed here. Optional argument: a path
// prefix to run a subset, e.g. `node scripts/run-tests.js test/unit`.
import { readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = process.argv[2] ?? 'test';
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) walk(full);
    else if (name.endsWith('.test.ts')) files.push(full);
  }
})(statSync(root).isDirectory() ? root : path.dirname(root));
const selected = statSync(root).isDirectory() ? files : files.filter((f) => f === path.normalize(root));
if (selected.length === 0) {
  console.error(`no test files under ${root}`);
  process.exit(1);
}
// Two kinds of test run after the others, one at a time. Those that keep both cores busy on
// purpose (fuzzing, sustained load, connection floods), and the swarm tests that measure who
// plays which layer and who carries the bytes: beside a busy neighbour (ffmpeg encoding, a
// fuzzer) those would measure a starved CPU instead of the scheduler (a CI run saw the layered
// swarm's 10 Mbit/s peers at mean layer 0.67 beside the ffmpeg media test).
const ALONE = [
  /^test\/fuzz\//,
  /^test\/worker\/edge-load\.test\.ts$/,
  /^test\/peer\/seed-200-connections\.test\.ts$/,
  /^test\/peer\/layered-swarm\.test\.ts$/,
  /^test\/peer\/hybrid-swarm\.test\.ts$/,
];
const alone = selected.filter((f) => ALONE.some((re) => re.test(f.split(path.sep).join('/'))));
const together = selected.filter((f) => !alone.includes(f));
let status = 0;
for (const [files, concurrency] of [[together, 2], [alone, 1]]) {
  if (files.length === 0) continue;
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...files],
    { stdio: 'inherit' },
  );
  if ((result.status ?? 1) !== 0) status = result.status ?? 1;
}
process.exit(status);
