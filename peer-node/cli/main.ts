import { ProtocolError } from '../../shared/errors.js';
import { UsageError } from './args.js';
import { CREATE_HELP, createCommand } from './create.js';
import { INFO_HELP, infoCommand } from './info.js';
import { UDP_GATEWAY_HELP, udpGatewayCommand } from './udp-gateway.js';
import { PUBLISH_HELP, publishCommand } from './publish.js';
import { MAKE_LAYERS_HELP, makeLayersCommand } from './make-layers.js';
import { DOWNLOAD_HELP, downloadCommand, SEED_HELP, seedCommand } from './transfer.js';
import { DHT_HELP, dhtCommand } from './dht.js';
import { STREAM_HELP, streamCommand } from './stream.js';
import { PublishRequestError } from '../publish/publish-client.js';

const COMMANDS: Record<string, { summary: string; help: string; run: (args: string[]) => Promise<number> }> = {
  create: { summary: 'make a .torrent for a file or folder', help: CREATE_HELP, run: createCommand },
  info: { summary: 'show what a .torrent or magnet holds', help: INFO_HELP, run: infoCommand },
  download: { summary: 'download a torrent (file, URL or magnet), then exit or seed', help: DOWNLOAD_HELP, run: downloadCommand },
  seed: { summary: 'seed a torrent from a folder that holds its content', help: SEED_HELP, run: seedCommand },
  stream: { summary: 'play a file over localhost HTTP while it downloads', help: STREAM_HELP, run: streamCommand },
  dht: { summary: 'run a DHT node, or look an info-hash up in the DHT', help: DHT_HELP, run: dhtCommand },
  publish: { summary: 'publish a file, folder or layered asset on the edge', help: PUBLISH_HELP, run: publishCommand },
  'make-layers': { summary: 'write a synthetic layered asset (test data)', help: MAKE_LAYERS_HELP, run: makeLayersCommand },
  'udp-gateway': { summary: 'relay UDP tracker datagrams to the edge', help: UDP_GATEWAY_HELP, run: udpGatewayCommand },
};

const HELP = `peer-node: the Node peer of the edge-assisted P2P delivery service

Usage: peer-node COMMAND [options]      peer-node COMMAND --help

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`)
  .join('\n')}

Examples:
  peer-node create ./video.mp4 --announce http://127.0.0.1:8787/announce
  peer-node info video.mp4.torrent
  peer-node seed video.mp4.torrent --dir .
  peer-node download video.mp4.torrent --out ./downloads
  peer-node stream video.mp4.torrent`;

/** Runs one CLI invocation and returns the exit code; errors become one line on stderr. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(HELP);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`peer-node: unknown command ${JSON.stringify(name)}; run peer-node --help for the list`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.help);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`peer-node ${name}: ${err.message} (see peer-node ${name} --help)`);
      return 2;
    }
    if (err instanceof ProtocolError || err instanceof PublishRequestError || isFileError(err)) {
      const cause = (err as Error).cause as Error | undefined;
      const detail = cause?.message && !(err as Error).message.includes(cause.message) ? ` (${cause.message})` : '';
      console.error(`peer-node ${name}: ${(err as Error).message}${detail}`);
      return 1;
    }
    throw err;
  }
}

/** File and network errors (ENOENT, ECONNREFUSED, undici's UND_ERR_*): said in one line. */
function isFileError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code ?? ((err.cause as NodeJS.ErrnoException | undefined)?.code);
  return typeof code === 'string';
}
