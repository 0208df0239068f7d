import { ProtocolError } from '../../shared/errors.js';
import { CliError, type OptionTable, UsageError } from './args.js';
import { describeFileError, errorCode, isNetworkError, networkReason, oneLine } from './cli-errors.js';
import { CREATE_HELP, CREATE_OPTIONS, createCommand } from './create.js';
import { ENV_VARS, OTHER_ENV_VARS } from './env-config.js';
import { INFO_HELP, INFO_OPTIONS, infoCommand } from './info.js';
import { UDP_GATEWAY_HELP, UDP_GATEWAY_OPTIONS, udpGatewayCommand } from './udp-gateway.js';
import { PUBLISH_HELP, PUBLISH_OPTIONS, publishCommand } from './publish.js';
import { MAKE_LAYERS_HELP, MAKE_LAYERS_OPTIONS, makeLayersCommand } from './make-layers.js';
import { DOWNLOAD_HELP, DOWNLOAD_OPTIONS, downloadCommand, SEED_HELP, SEED_OPTIONS, seedCommand } from './transfer.js';
import { DHT_HELP, DHT_OPTIONS, dhtCommand } from './dht.js';
import { STREAM_HELP, STREAM_OPTIONS, streamCommand } from './stream.js';
import { PublishRequestError } from '../publish/publish-client.js';

/** One command: its line in the list, its help, the options its parser accepts, and its code. */
export interface Command {
  summary: string;
  help: string;
  options: OptionTable;
  run: (args: string[]) => Promise<number>;
}

/** Every command of peer-node (the help test walks this table). */
export const COMMANDS: Record<string, Command> = {
  create: { summary: 'make a .torrent for a file or folder', help: CREATE_HELP, options: CREATE_OPTIONS, run: createCommand },
  info: { summary: 'show what a .torrent or magnet holds', help: INFO_HELP, options: INFO_OPTIONS, run: infoCommand },
  download: { summary: 'download a torrent (file, URL or magnet), then exit or seed', help: DOWNLOAD_HELP, options: DOWNLOAD_OPTIONS, run: downloadCommand },
  seed: { summary: 'seed a torrent from a folder that holds its content', help: SEED_HELP, options: SEED_OPTIONS, run: seedCommand },
  stream: { summary: 'play a file over localhost HTTP while it downloads', help: STREAM_HELP, options: STREAM_OPTIONS, run: streamCommand },
  dht: { summary: 'run a DHT node, or look an info-hash up in the DHT', help: DHT_HELP, options: DHT_OPTIONS, run: dhtCommand },
  publish: { summary: 'publish a file, folder or layered asset on the edge', help: PUBLISH_HELP, options: PUBLISH_OPTIONS, run: publishCommand },
  'make-layers': { summary: 'write a synthetic layered asset (test data)', help: MAKE_LAYERS_HELP, options: MAKE_LAYERS_OPTIONS, run: makeLayersCommand },
  'udp-gateway': { summary: 'relay UDP tracker datagrams to the edge', help: UDP_GATEWAY_HELP, options: UDP_GATEWAY_OPTIONS, run: udpGatewayCommand },
};

/** Each variable once, with the flag it stands for and the commands that read it. */
function envTable(): string {
  const flags = new Map<string, Map<string, string[]>>();
  for (const v of ENV_VARS) {
    const byOption = flags.get(v.name) ?? new Map<string, string[]>();
    byOption.set(v.option, [...(byOption.get(v.option) ?? []), ...v.commands]);
    flags.set(v.name, byOption);
  }
  const rows = new Map<string, string>();
  for (const [name, byOption] of flags) rows.set(name, [...byOption].map(([option, commands]) => `--${option} of ${commands.join(', ')}`).join('; '));
  for (const v of OTHER_ENV_VARS) rows.set(v.name, `${v.about} (${v.commands.join(', ')})`);
  rows.set('PEER_NODE_DEBUG', '1: print the stack trace of an unexpected error');
  return [...rows].map(([name, text]) => `  ${name.padEnd(25)} ${text}`).join('\n');
}

const HELP = `peer-node: the Node peer of the edge-assisted P2P delivery service

Usage: peer-node COMMAND [options]      peer-node COMMAND --help      peer-node help COMMAND

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`)
  .join('\n')}

Output: results on stdout (--json: JSON for scripts), progress and messages on stderr (a line
redrawn in place on a terminal, timestamped lines every 5 s otherwise; --quiet: none).
Errors are one line on stderr. Exit codes: 0 done, 1 failed, 2 wrong usage, 130 stopped.

Environment (a flag wins over its variable; an empty one counts as unset):
${envTable()}

Examples:
  peer-node create ./video.mp4 --announce http://127.0.0.1:8787/announce
  peer-node info video.mp4.torrent
  peer-node seed video.mp4.torrent --dir .
  peer-node download video.mp4.torrent --out ./downloads
  peer-node stream video.mp4.torrent
  peer-node help publish`;

/** Runs one CLI invocation and returns the exit code; errors become one line on stderr. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    console.log(HELP);
    return 0;
  }
  if (name === 'help') {
    const command = COMMANDS[rest[0]!];
    if (!command || rest.length > 1) {
      console.error(`peer-node help: unknown command ${JSON.stringify(rest.join(' '))}; run peer-node --help for the list`);
      return 2;
    }
    console.log(command.help);
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
    return reportError(name, err);
  }
}

/**
 * One line on stderr for any error, and the exit code: 2 for a usage mistake, 1 for the rest.
 * Never a stack trace, unless PEER_NODE_DEBUG=1; errors that look like bugs say so.
 */
function reportError(name: string, err: unknown): number {
  const say = (text: string) => console.error(`peer-node ${name}: ${oneLine(text)}`);
  if (err instanceof UsageError) {
    say(`${err.message} (see peer-node ${name} --help)`);
    return 2;
  }
  if (err instanceof CliError) {
    say(err.message);
    return 1;
  }
  if (isNetworkError(err)) {
    say(`${networkReason(err)}: check the address, and that the server is running (the local edge: npm start)`);
    return 1;
  }
  const fileError = describeFileError(err);
  if (fileError !== undefined) {
    say(fileError);
    return 1;
  }
  if (err instanceof ProtocolError || err instanceof PublishRequestError || errorCode(err) !== undefined) {
    const e = err as Error;
    const cause = e.cause as Error | undefined;
    const detail = cause?.message && !e.message.includes(cause.message) ? ` (${cause.message})` : '';
    say(`${e.message}${detail}`);
    return 1;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (process.env.PEER_NODE_DEBUG && process.env.PEER_NODE_DEBUG !== '0') {
    say(message);
    console.error(err instanceof Error ? err.stack : err);
    return 1;
  }
  // A plain Error is a failure its thrower described; these kinds are bugs.
  const bug = !(err instanceof Error) || err instanceof TypeError || err instanceof ReferenceError || err instanceof SyntaxError;
  say(bug ? `${message} (unexpected; set PEER_NODE_DEBUG=1 for the stack trace)` : message);
  return 1;
}
