import { toHex } from '../../shared/bytes.js';
import { formatMagnet, parseMagnet } from '../../shared/metainfo/index.js';
import { UsageError } from './args.js';
import { envHelp, parseCommandLine } from './env-config.js';
import { readTorrentFile } from './torrent-source.js';

/** The options `peer-node info` accepts. */
export const INFO_OPTIONS = { json: { type: 'boolean' } } as const;

export const INFO_HELP = `peer-node info TORRENT|MAGNET [--json]

Shows what a .torrent file or a magnet link holds: name, info-hash, files, trackers, seeds.
A missing or unreadable file, or one that is not a torrent, is one line on stderr and exit 1.

Options:
  --json               print it as one JSON object

${envHelp('info')}

Examples:
  peer-node info movie.torrent
  peer-node info 'magnet:?xt=urn:btih:...' --json
  peer-node info movie.torrent --json | jq -r .infoHash`;

export async function infoCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('info', args, INFO_OPTIONS);
  if (positionals.length !== 1) throw new UsageError('info takes exactly one TORRENT or MAGNET');
  const target = positionals[0]!;
  let summary: Record<string, unknown>;
  if (target.startsWith('magnet:')) {
    const link = parseMagnet(target);
    summary = { kind: 'magnet', infoHash: toHex(link.infoHash), name: link.name, trackers: link.trackers, webSeeds: link.webSeeds, peers: link.peers };
  } else {
    const t = await readTorrentFile(target);
    summary = {
      kind: 'torrent',
      infoHash: t.infoHashHex,
      name: t.info.name,
      length: t.info.length,
      pieceLength: t.info.pieceLength,
      pieces: t.info.pieceCount,
      private: t.info.private,
      merkle: t.info.rootHash !== undefined,
      files: t.info.files.map((f) => ({ path: f.path.join('/'), length: f.length, ...(f.padding ? { padding: true } : {}) })),
      trackers: t.announceList,
      webSeeds: t.urlList,
      httpSeeds: t.httpSeeds,
      magnet: formatMagnet({ infoHash: t.infoHash, name: t.info.name, trackers: t.announceList.flat(), webSeeds: t.urlList, peers: [] }),
    };
  }
  if (values.json) {
    console.log(JSON.stringify(summary));
    return 0;
  }
  for (const [key, value] of Object.entries(summary)) {
    if (value === undefined) continue;
    console.log(`${key.padEnd(12)} ${typeof value === 'object' ? JSON.stringify(value) : value}`);
  }
  return 0;
}
