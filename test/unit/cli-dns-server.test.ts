/**
 * `--dns-server` / PEER_NODE_DNS_SERVER of download, seed and stream: the DNS servers BEP 22 local
 * tracker discovery asks. The variable stands in for the flag (the flag wins), bad entries are
 * usage errors naming the flag or the variable, `--no-local-tracker` still turns discovery off,
 * and the list reaches the Client in the form node's Resolver takes: a lookup built from it asks
 * our test DNS server on 127.0.0.1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { UsageError } from '../../peer-node/cli/args.js';
import { parseCommandLine } from '../../peer-node/cli/env-config.js';
import { peerClientOptions } from '../../peer-node/cli/peer-client.js';
import { STREAM_OPTIONS } from '../../peer-node/cli/stream.js';
import { DOWNLOAD_OPTIONS, SEED_OPTIONS } from '../../peer-node/cli/transfer.js';
import { LocalTrackerDiscovery, type LocalTrackerDiscoveryOptions } from '../../peer-node/tracker/local-tracker-discovery.js';
import { DNS_TYPE, startDnsServer } from '../helpers/dns-server.js';

const discoveryOf = (values: Parameters<typeof peerClientOptions>[0]) => peerClientOptions(values, 0, []).localTrackerDiscovery;

test('PEER_NODE_DNS_SERVER stands in for --dns-server in download, seed and stream; the flag wins', () => {
  const env = { PEER_NODE_DNS_SERVER: '127.0.0.1:5353, [::1]:53,192.0.2.53' };
  for (const [command, options] of [['download', DOWNLOAD_OPTIONS], ['seed', SEED_OPTIONS], ['stream', STREAM_OPTIONS]] as const) {
    const values = parseCommandLine(command, ['x.torrent'], options, env).values;
    assert.equal(values['dns-server'], env.PEER_NODE_DNS_SERVER, command);
    assert.deepEqual(discoveryOf(values), { resolver: ['127.0.0.1:5353', '[::1]:53', '192.0.2.53'] }, command);
  }
  const flag = parseCommandLine('download', ['x.torrent', '--dns-server', '2001:db8::53'], DOWNLOAD_OPTIONS, env).values;
  assert.deepEqual(discoveryOf(flag), { resolver: ['2001:db8::53'] }, 'a bare IPv6 address, port 53');
  assert.equal(discoveryOf(parseCommandLine('download', ['x.torrent'], DOWNLOAD_OPTIONS, {}).values), undefined, "unset: the Client's default (the system's servers)");
  const off = parseCommandLine('seed', ['x.torrent', '--no-local-tracker'], SEED_OPTIONS, env).values;
  assert.equal(discoveryOf(off), false, '--no-local-tracker turns discovery off whatever the servers');
});

test('a bad DNS server is a usage error naming the variable or the flag', () => {
  const bad: [string, RegExp][] = [
    ['dns.example', /^PEER_NODE_DNS_SERVER: "dns.example": expected IP, IPv4:PORT or \[IPv6\]:PORT/],
    ['127.0.0.1:0', /^PEER_NODE_DNS_SERVER: "127.0.0.1:0"/],
    ['127.0.0.1:70000', /^PEER_NODE_DNS_SERVER: "127.0.0.1:70000"/],
    ['[127.0.0.1]:53', /^PEER_NODE_DNS_SERVER: "\[127.0.0.1\]:53"/],
    ['127.0.0.1,', /^PEER_NODE_DNS_SERVER: "":/],
  ];
  for (const [text, message] of bad) {
    assert.throws(
      () => parseCommandLine('download', [], DOWNLOAD_OPTIONS, { PEER_NODE_DNS_SERVER: text }),
      (err: Error) => err instanceof UsageError && message.test(err.message),
      text,
    );
  }
  const values = parseCommandLine('stream', ['x.torrent', '--dns-server', '300.1.1.1'], STREAM_OPTIONS, {}).values;
  assert.throws(() => peerClientOptions(values, 0, []), (err: Error) => err instanceof UsageError && /^--dns-server: "300.1.1.1"/.test(err.message));
});

test('the servers given reach the resolver: a lookup built from them asks that server', { timeout: 30_000 }, async () => {
  const dns = await startDnsServer([]);
  try {
    const values = parseCommandLine('download', ['x.torrent'], DOWNLOAD_OPTIONS, { PEER_NODE_DNS_SERVER: `127.0.0.1:${dns.port}` }).values;
    const options = discoveryOf(values) as LocalTrackerDiscoveryOptions;
    // Loopback is never looked up by default (`public`): accepted here so that the lookup runs.
    const discovery = new LocalTrackerDiscovery({ ...options, acceptAddress: 'any', timeoutMs: 400 });
    const done = once(discovery, 'lookup');
    discovery.want();
    discovery.observe('127.0.0.1', 'tracker');
    await done;
    discovery.close();
    assert.deepEqual(
      dns.questions.map((q) => `${q.type} ${q.name}`),
      [`${DNS_TYPE.PTR} 1.0.0.127.in-addr.arpa`],
    );
  } finally {
    await dns.close();
  }
});
