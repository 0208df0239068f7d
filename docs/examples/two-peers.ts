/**
 * Two peers on this machine, no tracker and no edge: one seeds bytes it has, the other
 * downloads them by dialling it (BEP 3 wire, Fast and Extension protocols).
 *
 *   node --import tsx docs/examples/two-peers.ts
 */
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '../../peer-node/client.js';
import type { TorrentStats } from '../../peer-node/engine/torrent.js';
import { buildTorrent, hashPieces } from '../../shared/metainfo/index.js';

/** Seeds `data` from one Client and downloads it with another under `root`; the copy and the downloader's stats. */
export async function twoPeers(data: Uint8Array, root: string): Promise<{ copy: Uint8Array; stats: TorrentStats }> {
  // A single-file torrent for the bytes, with no announce URL.
  const pieceLength = 32 * 1024;
  const { torrent } = await buildTorrent({ name: 'hello.bin', pieceLength, pieces: await hashPieces(data, pieceLength), length: data.length });
  const seedDir = path.join(root, 'seed');
  const downloadDir = path.join(root, 'download');
  await mkdir(seedDir, { recursive: true });
  await writeFile(path.join(seedDir, 'hello.bin'), data);

  const seeder = new Client({ port: 0, host: '127.0.0.1', dht: false });
  const leecher = new Client({ port: 0, host: '127.0.0.1', dht: false });
  try {
    await seeder.listen();
    await leecher.listen();
    // add() checks what the folder holds first: the seeder finds every piece and seeds.
    const seeding = await seeder.add(torrent, { dir: seedDir, trackers: false });
    console.log(`seeder holds ${seeding.have.count}/${seeding.geometry.pieceCount} pieces on port ${seeder.port}`);
    const download = await leecher.add(torrent, { dir: downloadDir, trackers: false });
    download.on('peer', () => console.log('connected to the seeder'));
    download.addPeers([{ host: '127.0.0.1', port: seeder.port }]);
    if (!download.complete) await once(download, 'done');
    const stats = download.statsSnapshot();
    return { copy: new Uint8Array(await readFile(path.join(downloadDir, 'hello.bin'))), stats };
  } finally {
    await leecher.close();
    await seeder.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = await mkdtemp(path.join(tmpdir(), 'example-two-peers-'));
  const data = new TextEncoder().encode('hello, swarm\n'.repeat(50_000));
  const { copy, stats } = await twoPeers(data, root);
  console.log(`copied ${copy.length} bytes (${stats.bytesFromPeers} from peers), identical: ${Buffer.compare(copy, data) === 0}`);
  await rm(root, { recursive: true, force: true });
}
