/**
 * Configuration by environment variables: one table says which variable stands for which flag
 * of which command. A flag on the command line wins over its variable; an empty variable counts
 * as unset; a value that does not parse is a usage error naming the variable (exit 2). The help
 * of each command lists its variables from this table, so the two cannot drift apart.
 */
import { parseCommandArgs, parsePort, parseRate, UsageError, type OptionTable } from './args.js';
import { parseAddressList } from './torrent-source.js';
import { parseDnsServers } from './peer-client.js';

/** How a variable's text is checked before it stands in for its flag. */
export type EnvKind = 'port' | 'rate' | 'addresses' | 'dns-servers' | 'url' | 'text' | 'switch';

/** One variable: the flag (`option`, without dashes) it stands for in `commands`. */
export interface EnvVar {
  name: string;
  option: string;
  commands: readonly string[];
  kind: EnvKind;
  about: string;
}

const PEER_COMMANDS = ['download', 'seed', 'stream'] as const;

/** Every variable the commands read in place of a flag. */
export const ENV_VARS: readonly EnvVar[] = [
  { name: 'PEER_NODE_PORT', option: 'port', commands: ['download', 'seed'], kind: 'port', about: 'TCP port for peers' },
  { name: 'PEER_NODE_PORT', option: 'port', commands: ['dht'], kind: 'port', about: 'UDP port of the node' },
  { name: 'PEER_NODE_PORT', option: 'peer-port', commands: ['stream'], kind: 'port', about: 'TCP port for peers' },
  { name: 'PEER_NODE_HOST', option: 'host', commands: [...PEER_COMMANDS, 'dht'], kind: 'text', about: 'address to listen on' },
  { name: 'PEER_NODE_OUT', option: 'out', commands: ['download', 'stream'], kind: 'text', about: 'where the download goes' },
  { name: 'PEER_NODE_DIR', option: 'dir', commands: ['seed'], kind: 'text', about: 'the folder that holds the content' },
  { name: 'PEER_NODE_BOOTSTRAP', option: 'bootstrap', commands: [...PEER_COMMANDS, 'dht'], kind: 'addresses', about: 'DHT nodes to start from' },
  { name: 'PEER_NODE_NO_DHT', option: 'no-dht', commands: PEER_COMMANDS, kind: 'switch', about: '1 to turn the DHT off' },
  { name: 'PEER_NODE_NO_LSD', option: 'no-lsd', commands: PEER_COMMANDS, kind: 'switch', about: '1 to turn local service discovery (BEP 14) off' },
  { name: 'PEER_NODE_NO_LOCAL_TRACKER', option: 'no-local-tracker', commands: PEER_COMMANDS, kind: 'switch', about: '1 to turn local tracker discovery (BEP 22) off' },
  { name: 'PEER_NODE_DNS_SERVER', option: 'dns-server', commands: PEER_COMMANDS, kind: 'dns-servers', about: 'DNS servers for local tracker discovery (BEP 22)' },
  { name: 'PEER_NODE_NO_WEB_SEEDS', option: 'no-web-seeds', commands: PEER_COMMANDS, kind: 'switch', about: '1 to fetch from peers only' },
  { name: 'PEER_NODE_UPLOAD_LIMIT', option: 'upload-limit', commands: PEER_COMMANDS, kind: 'rate', about: 'upload cap, e.g. 2M' },
  { name: 'PEER_NODE_DOWNLOAD_LIMIT', option: 'download-limit', commands: PEER_COMMANDS, kind: 'rate', about: 'download cap, e.g. 1M' },
  { name: 'EDGE_URL', option: 'edge', commands: ['publish', 'udp-gateway'], kind: 'url', about: 'the edge' },
  { name: 'PUBLISH_TOKEN', option: 'token', commands: ['publish'], kind: 'text', about: 'the publish token' },
  { name: 'GATEWAY_SECRET', option: 'secret', commands: ['udp-gateway'], kind: 'text', about: "the edge's gateway secret" },
];

/** Variables read by commands that stand for no flag. */
export const OTHER_ENV_VARS: readonly { name: string; commands: readonly string[]; about: string }[] = [
  { name: 'EDGE_STATE_DIR', commands: ['publish', 'udp-gateway'], about: "where npm start keeps the local edge's secrets (./.edge-state)" },
];

const SWITCH_ON = new Set(['1', 'true', 'yes', 'on']);
const SWITCH_OFF = new Set(['0', 'false', 'no', 'off']);

/**
 * A command's parsed command line with its environment variables filled in where the flag was
 * not given. Only variables whose flag is in `options` are read.
 */
export function parseCommandLine<T extends OptionTable>(command: string, args: string[], options: T, env: NodeJS.ProcessEnv = process.env) {
  const parsed = parseCommandArgs(args, options);
  const values = parsed.values as Record<string, string | boolean | (string | boolean)[] | undefined>;
  for (const v of ENV_VARS) {
    if (!v.commands.includes(command) || !(v.option in options) || values[v.option] !== undefined) continue;
    const text = env[v.name]?.trim();
    if (!text) continue;
    const value = checkEnv(v, text);
    if (value === false) continue;
    values[v.option] = options[v.option]!.multiple ? [value as string] : value;
  }
  return parsed;
}

function checkEnv(v: EnvVar, text: string): string | boolean {
  switch (v.kind) {
    case 'port':
      parsePort(text, v.name);
      return text;
    case 'rate':
      parseRate(text, v.name);
      return text;
    case 'addresses':
      try {
        parseAddressList(text);
      } catch (err) {
        throw new UsageError(`${v.name}: ${(err as Error).message}`);
      }
      return text;
    case 'dns-servers':
      parseDnsServers(text, v.name);
      return text;
    case 'url':
      if (!/^https?:\/\//i.test(text) || !URL.canParse(text)) throw new UsageError(`${v.name} must be an http(s) URL, got ${JSON.stringify(text)}`);
      return text;
    case 'switch': {
      const lower = text.toLowerCase();
      if (SWITCH_ON.has(lower)) return true;
      if (SWITCH_OFF.has(lower)) return false;
      throw new UsageError(`${v.name} must be 1 or 0 (true/false, yes/no), got ${JSON.stringify(text)}`);
    }
    case 'text':
      return text;
  }
}

/** The "Environment:" section of a command's help, from the table. */
export function envHelp(command: string): string {
  const rows = [
    ...ENV_VARS.filter((v) => v.commands.includes(command)).map((v) => [v.name, `--${v.option}: ${v.about}`]),
    ...OTHER_ENV_VARS.filter((v) => v.commands.includes(command)).map((v) => [v.name, v.about]),
  ];
  if (rows.length === 0) return 'Environment: none (flags only)';
  return `Environment (a flag wins over its variable):\n${rows.map(([name, about]) => `  ${name!.padEnd(25)} ${about}`).join('\n')}`;
}
