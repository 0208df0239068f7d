/**
 * The deploy bundle builds: `wrangler deploy --dry-run` for the default (local) environment and
 * for `--env production`, offline and without credentials, as CI runs it (docs/DEPLOY.md). The
 * bundle must export every Durable Object class the environment binds (read from wrangler.toml,
 * not listed here), and production must not drift from the top level: every binding and var
 * the top level has, production has too (wrangler does not inherit them into environments).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { unstable_readConfig } from 'wrangler';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const WRANGLER_TOML = path.join(ROOT, 'wrangler.toml');
/** The CLI `npx wrangler` runs, called directly (no npx lookup). */
const WRANGLER_BIN = path.join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs wrangler with no account settings in its environment and nothing that reaches the network. */
function wrangler(args: string[], logDir: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(CLOUDFLARE_|CF_)/.test(name)) delete env[name];
  }
  Object.assign(env, {
    WRANGLER_SEND_METRICS: 'false', // no telemetry request
    WRANGLER_HIDE_BANNER: 'true', // the banner is what asks the registry for a newer wrangler
    WRANGLER_LOG_PATH: logDir,
    NO_COLOR: '1',
    FORCE_COLOR: '0',
  });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRANGLER_BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Names an ES module bundle exports (`export { a, b as c }` clauses, `export class X`). */
function exportedNames(bundle: string): Set<string> {
  const names = new Set<string>();
  for (const m of bundle.matchAll(/export\s*\{([^}]*)\}/g)) {
    for (const part of m[1]!.split(',')) {
      const words = part.trim().split(/\s+as\s+/);
      const name = words[words.length - 1]!.trim();
      if (name) names.add(name);
    }
  }
  for (const m of bundle.matchAll(/export\s+(?:class|function|const|let|var)\s+([A-Za-z_$][\w$]*)/g)) names.add(m[1]!);
  return names;
}

/** The parts of wrangler's resolved configuration these tests look at. */
interface ResolvedConfig {
  name?: string;
  main?: string;
  durable_objects: { bindings: { name: string; class_name: string }[] };
  migrations: { tag: string; new_sqlite_classes?: string[]; new_classes?: string[] }[];
  r2_buckets: { binding: string; bucket_name?: string }[];
  vars: Record<string, unknown>;
}

/** wrangler.toml as wrangler resolves it for an environment (inheritance rules included). */
function readConfig(env: string | undefined): ResolvedConfig {
  return unstable_readConfig({ config: WRANGLER_TOML, ...(env ? { env } : {}) }) as ResolvedConfig;
}

for (const envName of ['', 'production']) {
  const label = envName === '' ? 'the default (local) environment' : `--env ${envName}`;
  test(`wrangler deploy --dry-run builds the bundle for ${label}, exporting every bound Durable Object class`, { timeout: 60_000 }, async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'deploy-dry-run-'));
    try {
      // `--env=` (empty) names the top-level environment explicitly, as wrangler asks when
      // several are defined.
      const run = await wrangler(['deploy', '--dry-run', '--outdir', out, `--env=${envName}`], out);
      assert.equal(run.code, 0, `wrangler exited ${run.code}\n${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /--dry-run: exiting now/);

      const config = readConfig(envName || undefined);
      // esbuild names the bundle after the entry point: worker/index.ts -> index.js.
      const bundleName = path.basename(config.main!).replace(/\.[cm]?[jt]sx?$/, '.js');
      const bundlePath = path.join(out, bundleName);
      const size = (await stat(bundlePath)).size;
      assert.ok(size > 1000, `the bundle is ${size} bytes`);
      const exported = exportedNames(await readFile(bundlePath, 'utf8'));
      assert.ok(exported.has('default'), 'the bundle has a default export (the fetch handler)');
      const classes = config.durable_objects.bindings.map((b) => b.class_name);
      assert.ok(classes.length >= 2, `bound classes: ${classes.join(', ')}`);
      for (const name of classes) assert.ok(exported.has(name), `the bundle exports the Durable Object class ${name} (exports: ${[...exported].join(', ')})`);
      // Every bound class was created by some migration (migrations are inherited from the top level).
      const migrated = new Set(config.migrations.flatMap((m) => [...(m.new_sqlite_classes ?? []), ...(m.new_classes ?? [])]));
      for (const name of classes) assert.ok(migrated.has(name), `a migration creates ${name}`);
      for (const r2 of config.r2_buckets) assert.ok(run.stdout.includes(r2.bucket_name!), `the dry run binds the bucket ${r2.bucket_name}`);
      assert.deepEqual((await readdir(out)).filter((f) => f.endsWith('.js')), [bundleName]);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
}

test('env.production repeats every binding and var of the top level (wrangler does not inherit them)', () => {
  const top = readConfig(undefined);
  const prod = readConfig('production');
  const names = (c: ResolvedConfig) => ({
    durableObjects: c.durable_objects.bindings.map((b) => `${b.name}=${b.class_name}`).sort(),
    r2: c.r2_buckets.map((b) => b.binding).sort(),
    vars: Object.keys(c.vars).sort(),
  });
  const t = names(top);
  const p = names(prod);
  for (const binding of t.durableObjects) assert.ok(p.durableObjects.includes(binding), `env.production binds ${binding}`);
  assert.deepEqual(p.r2, t.r2);
  for (const v of t.vars) assert.ok(p.vars.includes(v), `env.production sets ${v}`);
  assert.equal(prod.name, `${top.name}-production`, 'production deploys as its own Worker');
  assert.notEqual(prod.r2_buckets[0]!.bucket_name, top.r2_buckets[0]!.bucket_name, 'production has its own bucket');
  assert.deepEqual(prod.migrations, top.migrations, 'one migration history for both environments');
});
