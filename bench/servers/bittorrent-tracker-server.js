// The bittorrent-tracker package's server as the reference, in its own process:
// node bench/servers/bittorrent-tracker-server.js HTTP_PORT UDP_PORT
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const jsClients = path.join(import.meta.dirname, '..', '..', 'test', 'interop', 'js-clients', 'node_modules');
const { Server } = await import(pathToFileURL(path.join(jsClients, 'bittorrent-tracker', 'index.js')).href);
const [httpPort, udpPort] = process.argv.slice(2).map(Number);
const server = new Server({ http: true, udp: true, ws: false, stats: false });
server.on('error', (err) => console.error('server error', err.message));
// udp6 stays bound to ::1 so that nothing listens beyond loopback.
server.listen({ http: httpPort, udp: udpPort }, { http: '127.0.0.1', udp: '127.0.0.1', udp6: '::1' }, () => console.log('ready'));
