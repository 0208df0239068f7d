/**
 * Publish a file on the edge, then download it with the embeddable Client.
 *
 *   npm start                                   # the edge, in another terminal
 *   PUBLISH_TOKEN=... node --import tsx docs/examples/publish-and-download.ts FILE [EDGE-URL]
 *
 * (`npm start` prints where its token is: .edge-state/secrets.json.) With no other peer online,
 * every piece comes from the edge's web seed; `stats` says so (`bytesFromWebSeeds`).
 */
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, type ClientOptions } from '../../peer-node/client.js';
import type { TorrentStats } from '../../peer-node/engine/torrent.js';
import { publishPath } from '../../peer-node/publish/publish-client.js';
import { parseTorrent } from '../../shared/metainfo/index.js';

export interface PublishAndDownloadResult {
  infoHash: string;
  /** Where the downloaded copy is: `outDir/NAME`. */
  downloaded: string;
  stats: TorrentStats;
}

/** Publishes `file` on `edge`, downloads it into `outDir` with a fresh Client, and returns where it went and the stats. */
export async function publishAndDownload(file: string, edge: URL, token: string, outDir: string, clientOptions: ClientOptions = {}): Promise<PublishAndDownloadResult> {
  // 1. Publish: hash here, upload in parts, the edge checks every piece and answers the .torrent.
  const published = await publishPath({ path: file, edge, token });
  const torrent = await parseTorrent(published.torrent);
  console.log(`published ${published.name}: ${published.infoHash}, web seeds ${torrent.urlList.join(' ')}`);

  // 2. Download: one Client (one port, one peer id) can run many torrents.
  const client = new Client({ port: 0, dht: false, ...clientOptions });
  try {
    await client.listen();
    const download = await client.add(torrent, { dir: outDir });
    download.on('piece', (index: number) => console.log(`piece ${index} verified`));
    if (!download.complete) await once(download, 'done');
    const stats = download.statsSnapshot();
    console.log(`done: ${stats.bytesFromPeers} bytes from peers, ${stats.bytesFromWebSeeds} from the edge`);
    return { infoHash: published.infoHash, downloaded: path.join(outDir, torrent.info.name), stats };
  } finally {
    await client.close(); // says `stopped` to the tracker, closes peers and files
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, edge = 'http://127.0.0.1:8787'] = process.argv.slice(2);
  const token = process.env.PUBLISH_TOKEN;
  if (!file || !token) {
    console.error('usage: PUBLISH_TOKEN=... node --import tsx docs/examples/publish-and-download.ts FILE [EDGE-URL]');
    process.exit(2);
  }
  const out = await mkdtemp(path.join(tmpdir(), 'example-download-'));
  const result = await publishAndDownload(file, new URL(edge), token, out, { host: '127.0.0.1' });
  console.log(`downloaded to ${result.downloaded}`);
}
