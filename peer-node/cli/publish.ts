import { writeFile } from 'node:fs/promises';
import { formatMagnet, parseTorrent } from '../../shared/metainfo/index.js';
import type { LayerInfo } from '../../shared/layers/layer-info.js';
import { publishLayeredAsset } from '../layers/publish-layers.js';
import { publishPath, PublishRequestError, type PublishResult } from '../publish/publish-client.js';
import { CliError, UsageError } from './args.js';
import { isNetworkError } from './cli-errors.js';
import { checkEdgeReachable, edgeUnreachable } from './edge-reachable.js';
import { envHelp, parseCommandLine } from './env-config.js';
import { progressLine } from './progress.js';
import { localSecret } from './local-secret.js';

/** The options `peer-node publish` accepts. */
export const PUBLISH_OPTIONS = {
  edge: { type: 'string' },
  token: { type: 'string' },
  out: { type: 'string' },
  private: { type: 'boolean' },
  'piece-length': { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  layers: { type: 'string' },
} as const;

export const PUBLISH_HELP = `peer-node publish PATH --edge URL [options]
peer-node publish --layers DIR --edge URL [options]

Publishes a file or folder on the edge: hashes it, uploads it in parts (any size; a second run
resumes an interrupted upload), and has the edge check every piece and start seeding it.
Writes the .torrent (tracker and web seeds pointing at the edge) and prints the magnet link.

With --layers, DIR is a layered asset (its layers.json and one file per layer; see
docs/LAYERED.md and peer-node make-layers): the manifest is checked first, the layer files
(only those) are published as one torrent named after DIR, and the layer info, each layer
pointing at its file's index in that torrent, is stored on the edge (PUT /layers/INFO-HASH).

Options:
  --layers DIR       publish the layered asset in DIR (instead of PATH)
  --edge URL         the edge (default http://127.0.0.1:8787)
  --token T          the publish token (default: $PUBLISH_TOKEN, else the local edge's
                     $EDGE_STATE_DIR/secrets.json as npm start wrote it)
  --out FILE         where to write the torrent (default: NAME.torrent here)
  --private          BEP 27 private torrent (announce needs a passkey)
  --piece-length N   bytes per piece, a power of two >= 16384 (default: chosen for the size)
  --json             print the result as one JSON object (torrent, infoHash, name, length,
                     magnet, webSeeds, announce; with --layers also layers, mode,
                     layerInfo); no progress
  --quiet            no progress (hashing, uploading, verifying) on stderr

Progress goes to stderr: one line redrawn in place on a terminal, otherwise a timestamped
line at each phase and every 5 s. An edge that does not answer is found before any hashing.

${envHelp('publish')}

Examples:
  PUBLISH_TOKEN=... npx peer-node publish ./talk.mp4 --edge http://127.0.0.1:8787
  npx peer-node publish --layers ./asset --edge http://127.0.0.1:8787
  EDGE_URL=https://edge.example npx peer-node publish ./album --private --json`;

export async function publishCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('publish', args, PUBLISH_OPTIONS);
  const layersDir = values.layers;
  if (layersDir !== undefined ? positionals.length !== 0 : positionals.length !== 1) {
    throw new UsageError(layersDir !== undefined ? 'publish --layers DIR takes no PATH' : 'publish takes exactly one PATH (or --layers DIR)');
  }
  let edge: URL;
  try {
    edge = new URL(values.edge ?? 'http://127.0.0.1:8787');
  } catch {
    throw new UsageError(`--edge is not a URL: ${values.edge}`);
  }
  if (edge.protocol !== 'http:' && edge.protocol !== 'https:') throw new UsageError(`--edge must be an http(s) URL, got ${values.edge}`);
  const token = values.token ?? (await localSecret('PUBLISH_TOKEN', '--token'));
  let pieceLength: number | undefined;
  if (values['piece-length'] !== undefined) {
    pieceLength = Number(values['piece-length']);
    if (!Number.isInteger(pieceLength) || pieceLength < 16384 || (pieceLength & (pieceLength - 1)) !== 0) {
      throw new UsageError(`--piece-length must be a power of two >= 16384, got ${values['piece-length']}`);
    }
  }
  // Hashing a large file takes a while: learn first that the edge is there at all.
  await checkEdgeReachable(edge);
  const progress = progressLine(process.stderr, !values.json && !values.quiet);
  let drawn = false;
  const common = {
    edge,
    token,
    private: values.private ?? false,
    ...(pieceLength !== undefined ? { pieceLength } : {}),
    onProgress: (phase: 'hashing' | 'uploading' | 'verifying', done: number, total: number) => {
      drawn = true;
      progress.update(phase, done, total);
    },
  };
  let result: PublishResult;
  let layerInfo: LayerInfo | undefined;
  try {
    if (layersDir !== undefined) ({ layerInfo, ...result } = await publishLayeredAsset({ ...common, dir: layersDir }));
    else result = await publishPath({ ...common, path: positionals[0]! });
  } catch (err) {
    throw explainPublishError(err, edge);
  } finally {
    // Ends the progress line, so that an error is printed on a line of its own.
    if (drawn) progress.done();
  }
  const out = values.out ?? `${result.name}.torrent`;
  await writeFile(out, result.torrent);
  const t = await parseTorrent(result.torrent);
  // xs= (exact source): the edge serves the .torrent, so the magnet works with no peer online yet.
  // (Private torrents carry a passkey: theirs come from the publisher API only.)
  const base = formatMagnet({ infoHash: t.infoHash, name: t.info.name, trackers: t.announceList.flat(), webSeeds: t.urlList, peers: [] });
  const magnet = t.info.private ? base : `${base}&xs=${encodeURIComponent(new URL(`/t/${t.infoHashHex}.torrent`, edge).href)}`;
  if (values.json) {
    const layers = layerInfo ? { layers: layerInfo.layers.length, mode: layerInfo.mode, layerInfo } : {};
    console.log(JSON.stringify({ torrent: out, infoHash: result.infoHash, name: result.name, length: result.length, magnet, webSeeds: t.urlList, announce: t.announce, ...layers }));
  } else {
    console.log(`published ${result.name} (${result.length} bytes)`);
    console.log(`  torrent    ${out}`);
    console.log(`  info-hash  ${result.infoHash}`);
    console.log(`  magnet     ${magnet}`);
    if (layerInfo) console.log(`layers: ${layerInfo.layers.length} (${layerInfo.mode})`);
  }
  return 0;
}

/** The edge's refusals and a lost connection, said with what to do next. */
function explainPublishError(err: unknown, edge: URL): unknown {
  if (isNetworkError(err)) return edgeUnreachable(edge, err);
  if (err instanceof PublishRequestError && /answered 40[13]\b|\(40[13]\)/.test(err.message)) {
    return new CliError(`${err.message}: check --token or PUBLISH_TOKEN (the local edge's is in .edge-state/secrets.json, written by npm start)`);
  }
  return err;
}
