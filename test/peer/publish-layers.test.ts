/**
 * `peer-node make-layers` and `peer-node publish --layers` as a user runs them, against the real
 * edge on Miniflare: only the layer files are published, the layer info the edge then serves
 * points each layer at the right file of the torrent (a segment's bytes read back from the
 * edge's web seed equal the generator's), and inconsistent manifests or layer info are refused
 * with a clear reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { validateLayerInfo } from '../../shared/layers/layer-info.js';
import { parseTorrent } from '../../shared/metainfo/index.js';
import { LAYERS_MANIFEST, type LayerManifest } from '../../peer-node/layers/layered-asset.js';
import { putLayerInfo } from '../../peer-node/layers/publish-layers.js';
import { PublishRequestError } from '../../peer-node/publish/publish-client.js';
import { TEST_SECRETS, withEdge } from '../helpers/edge.js';
import { PEER_NODE_BIN, runProcess } from '../helpers/local-process.js';

const run = (args: string[]) => runProcess(process.execPath, [PEER_NODE_BIN, ...args], 90_000);

const readManifest = async (dir: string) => JSON.parse(await readFile(path.join(dir, LAYERS_MANIFEST), 'utf8')) as LayerManifest;

test('make-layers then publish --layers: the edge serves layer info whose files hold the generated segments', { timeout: 180_000 }, () =>
  withEdge({}, async (edge) => {
    const root = await mkdtemp(path.join(tmpdir(), 'publish-layers-'));
    try {
      const dir = path.join(root, 'talk');
      const made = await run(['make-layers', dir, '--bitrates', '300k,600k,1.2M', '--segment-duration', '1', '--duration', '8', '--mode', 'simulcast', '--seed', '5']);
      assert.equal(made.code, 0, made.stderr);
      assert.match(made.stdout, /wrote .*talk: 3 layers \(simulcast\), 8 segments of 1 s/);
      assert.match(made.stdout, /layer2\.bin +1200000 bit\/s/);
      // Make torrent order differ from layer order (the base layer's file sorts last) and put a
      // file beside the layers that must stay out of the torrent.
      const manifest = await readManifest(dir);
      await rename(path.join(dir, 'layer0.bin'), path.join(dir, 'z-base.bin'));
      manifest.layers[0]!.path = 'z-base.bin';
      await writeFile(path.join(dir, LAYERS_MANIFEST), JSON.stringify(manifest));
      await writeFile(path.join(dir, 'a-notes.txt'), 'not a layer\n');

      const torrentPath = path.join(root, 'talk.torrent');
      const published = await run(['publish', '--layers', dir, '--edge', edge.url.href, '--token', TEST_SECRETS.PUBLISH_TOKEN, '--out', torrentPath]);
      assert.equal(published.code, 0, published.stderr);
      assert.match(published.stdout, /^published talk \(\d+ bytes\)$/m);
      assert.match(published.stdout, /^layers: 3 \(simulcast\)$/m);
      const infoHash = /info-hash +([0-9a-f]{40})/.exec(published.stdout)![1]!;

      const torrent = await parseTorrent(await readFile(torrentPath));
      assert.equal(torrent.infoHashHex, infoHash);
      assert.equal(torrent.info.name, 'talk');
      assert.deepEqual(torrent.info.files.map((f) => f.path.join('/')), ['layer1.bin', 'layer2.bin', 'z-base.bin'], 'only the layer files, in torrent order');

      const res = await fetch(new URL(`/layers/${infoHash}`, edge.url));
      assert.equal(res.status, 200);
      const info = validateLayerInfo(await res.json(), torrent.info.files.map((f) => f.length));
      assert.equal(info.mode, 'simulcast');
      assert.deepEqual(info.layers.map((l) => l.file), [2, 0, 1]);
      for (const [k, layer] of info.layers.entries()) {
        assert.equal(torrent.info.files[layer.file]!.path.join('/'), manifest.layers[k]!.path);
        assert.deepEqual(layer.segments, manifest.layers[k]!.segments);
        assert.equal(layer.bitrate, manifest.layers[k]!.bitrate);
        // A segment's bytes, read from the published torrent's file on the edge's web seed
        // (BEP 19), are the generator's bytes at that range.
        const [offset, length] = layer.segments[3]!;
        const file = torrent.info.files[layer.file]!;
        const url: string = `${torrent.urlList[0]}${encodeURIComponent(torrent.info.name)}/${file.path.map(encodeURIComponent).join('/')}`;
        const seg = await fetch(url, { headers: { range: `bytes=${offset}-${offset + length - 1}` } });
        assert.equal(seg.status, 206, url);
        const got = Buffer.from(await seg.arrayBuffer());
        const local = (await readFile(path.join(dir, manifest.layers[k]!.path))).subarray(offset, offset + length);
        assert.equal(got.length, length);
        assert.ok(got.equals(local), `layer ${k} segment 3`);
      }

      // A second run finds everything on the edge already and stores the same layer info.
      const again = await run(['publish', '--layers', dir, '--edge', edge.url.href, '--token', TEST_SECRETS.PUBLISH_TOKEN, '--out', torrentPath, '--json']);
      assert.equal(again.code, 0, again.stderr);
      const summary = JSON.parse(again.stdout) as { infoHash: string; layers: number; mode: string; layerInfo: unknown };
      assert.equal(summary.infoHash, infoHash);
      assert.equal(summary.layers, 3);
      assert.equal(summary.mode, 'simulcast');
      assert.deepEqual(summary.layerInfo, info);

      // The edge itself refuses layer info that does not fit the published files, and the
      // client passes its reason on.
      const tooLong = structuredClone(info);
      const last = tooLong.layers[1]!.segments[7]!;
      last[1] += 1;
      await assert.rejects(putLayerInfo(edge.url, TEST_SECRETS.PUBLISH_TOKEN, infoHash, tooLong), (err: unknown) => {
        assert.ok(err instanceof PublishRequestError);
        assert.match(err.message, new RegExp(`the edge refused the layer info of ${infoHash} \\(400\\): layer 1 segment 7 ends at \\d+, past the end of file 0`));
        return true;
      });
      await assert.rejects(putLayerInfo(edge.url, 'wrong-token', infoHash, info), /refused the layer info of [0-9a-f]{40} \(403\): wrong publish token/);
      // The stored info is unchanged.
      assert.deepEqual(validateLayerInfo(await (await fetch(new URL(`/layers/${infoHash}`, edge.url))).json()), info);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }),
);

test('publish --layers refuses an inconsistent manifest in one line, with a non-zero exit, before reading any layer bytes', { timeout: 120_000 }, () =>
  withEdge({}, async (edge) => {
    const root = await mkdtemp(path.join(tmpdir(), 'publish-layers-bad-'));
    try {
      const dir = path.join(root, 'bad');
      const made = await run(['make-layers', dir, '--bitrates', '100k,200k', '--duration', '4']);
      assert.equal(made.code, 0, made.stderr);
      const manifest = await readManifest(dir);
      manifest.layers[1]!.segments[3]![1] += 10;
      await writeFile(path.join(dir, LAYERS_MANIFEST), JSON.stringify(manifest));
      const refused = await run(['publish', '--layers', dir, '--edge', edge.url.href, '--token', TEST_SECRETS.PUBLISH_TOKEN, '--out', path.join(root, 'bad.torrent')]);
      assert.equal(refused.code, 1);
      assert.equal(refused.stdout, '');
      // The only line on stderr: no hashing progress, so nothing was read or uploaded.
      assert.match(refused.stderr, /^peer-node publish: .*layers\.json: layer 1 segment 3 ends at byte \d+, past the end of layer1\.bin \(\d+ bytes\)\n$/);

      await rm(path.join(dir, 'layer0.bin'));
      const missing = await run(['publish', '--layers', dir, '--edge', edge.url.href, '--token', TEST_SECRETS.PUBLISH_TOKEN]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^peer-node publish: .*layer 0's file layer0\.bin is not in .*\n$/);

      const usage = await run(['publish', '--layers', dir, 'extra-path']);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /publish --layers DIR takes no PATH/);
      const badRate = await run(['make-layers', path.join(root, 'x'), '--bitrates', '300k,fast']);
      assert.equal(badRate.code, 2);
      assert.match(badRate.stderr, /--bitrates: expected bits a second like 300k or 1\.2M, got "fast"/);
      const notEmpty = await run(['make-layers', dir, '--bitrates', '300k']);
      assert.equal(notEmpty.code, 2);
      assert.match(notEmpty.stderr, /is not empty \(pass --force/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }),
);
