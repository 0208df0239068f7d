import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildTorrent, choosePieceLength, formatMagnet, MerkleTree, PieceHasher } from '../../shared/metainfo/index.js';
import { walkFiles } from '../storage/walk-files.js';
import { UsageError } from './args.js';
import { envHelp, parseCommandLine } from './env-config.js';
import { progressLine } from './progress.js';

/** The options `peer-node create` accepts. */
export const CREATE_OPTIONS = {
  out: { type: 'string' },
  announce: { type: 'string', multiple: true },
  tracker: { type: 'string', multiple: true },
  'web-seed': { type: 'string', multiple: true },
  'http-seed': { type: 'string', multiple: true },
  'piece-length': { type: 'string' },
  private: { type: 'boolean' },
  merkle: { type: 'boolean' },
  comment: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

export const CREATE_HELP = `peer-node create PATH [options]

Makes a .torrent for a file or a folder (files sorted by path; symlinks are not followed).

Options:
  --out FILE           where to write the torrent (default: NAME.torrent here)
  --announce URL       tracker URL; repeat for backups (each its own BEP 12 tier)
  --tracker URL        the same as --announce
  --web-seed URL       BEP 19 web seed (url-list); repeatable
  --http-seed URL      BEP 17 HTTP seed (httpseeds); repeatable
  --piece-length N     bytes per piece, a power of two >= 16384 (default: chosen for the size)
  --private            BEP 27 private torrent (peers only from its trackers)
  --merkle             BEP 30 Merkle torrent: one root hash instead of a hash per piece
                       (between peers only: no web seeds, and few clients besides ours)
  --comment TEXT       free text
  --json               print the result as one JSON object (torrent, infoHash, name, length,
                       pieceLength, pieces, magnet)
  --quiet              no hashing progress on stderr (none under --json either)

Hashing shows its progress on stderr: a bar redrawn on a terminal, otherwise a line at the
start, every 5 s and at the end.

${envHelp('create')}

Examples:
  peer-node create ./movie.mp4 --announce http://127.0.0.1:8787/announce --web-seed http://127.0.0.1:8787/seed/
  peer-node create ./album --out album.torrent --announce udp://127.0.0.1:6969/announce --private
  peer-node create ./clip.bin --merkle --piece-length 16384 --json`;

export async function createCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('create', args, CREATE_OPTIONS);
  if (positionals.length !== 1) throw new UsageError('create takes exactly one PATH');
  const source = await walkFiles(positionals[0]!);
  const total = source.files.reduce((sum, f) => sum + f.length, 0);
  let pieceLength = choosePieceLength(total);
  if (values['piece-length'] !== undefined) {
    pieceLength = Number(values['piece-length']);
    if (!Number.isInteger(pieceLength) || pieceLength < 16384 || (pieceLength & (pieceLength - 1)) !== 0) {
      throw new UsageError(`--piece-length must be a power of two >= 16384, got ${values['piece-length']}`);
    }
  }

  const hasher = new PieceHasher(pieceLength);
  // Hashing is the long part (gigabytes take minutes): progress on stderr keeps stdout clean.
  const progress = progressLine(process.stderr, !values.json && !values.quiet);
  let hashed = 0;
  progress.update('hashing', 0, total);
  for (const file of source.files) {
    for await (const chunk of createReadStream(file.absolute, { highWaterMark: 1 << 20 })) {
      await hasher.update(chunk as Buffer);
      hashed += (chunk as Buffer).length;
      progress.update('hashing', hashed, total);
    }
  }
  const pieces = await hasher.finish();
  progress.done();
  if (values.merkle && ((values['web-seed'] ?? []).length > 0 || (values['http-seed'] ?? []).length > 0)) {
    throw new UsageError('--merkle torrents cannot have web seeds (BEP 30: the proofs travel only between peers)');
  }
  const leaves = Array.from({ length: pieces.length / 20 }, (_, i) => pieces.subarray(i * 20, i * 20 + 20));
  const hashes = values.merkle ? { rootHash: (await MerkleTree.fromPieceHashes(leaves)).root } : { pieces };
  const built = await buildTorrent({
    name: source.name,
    pieceLength,
    ...hashes,
    ...(source.isDirectory ? { files: source.files.map((f) => ({ path: f.path, length: f.length })) } : { length: total }),
    announceList: [...(values.announce ?? []), ...(values.tracker ?? [])].map((url) => [url]),
    urlList: values['web-seed'] ?? [],
    httpSeeds: values['http-seed'] ?? [],
    private: values.private ?? false,
    ...(values.comment !== undefined ? { comment: values.comment } : {}),
    createdBy: 'peer-node 0.1',
    creationDate: Math.floor(Date.now() / 1000),
  });
  const out = values.out ?? `${source.name}.torrent`;
  await writeFile(out, built.bytes);
  const t = built.torrent;
  const magnet = formatMagnet({ infoHash: t.infoHash, name: t.info.name, trackers: t.announceList.flat(), webSeeds: t.urlList, peers: [] });
  if (values.json) {
    console.log(JSON.stringify({ torrent: path.resolve(out), infoHash: t.infoHashHex, name: t.info.name, length: total, pieceLength, pieces: t.info.pieceCount, magnet }));
  } else {
    console.log(`wrote ${out}`);
    console.log(`  info-hash  ${t.infoHashHex}`);
    console.log(`  content    ${t.info.name}: ${source.files.length} file(s), ${total} bytes, ${t.info.pieceCount} pieces of ${pieceLength}`);
    console.log(`  magnet     ${magnet}`);
  }
  return 0;
}
