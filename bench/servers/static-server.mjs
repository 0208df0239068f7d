// Node's own static file server with single byte ranges, as a second reference for the seed
// benchmark: node bench/servers/static-server.mjs PORT FILE
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';

const [port, file] = [Number(process.argv[2]), process.argv[3]];
const size = statSync(file).size;
createServer((req, res) => {
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (!m) {
    res.writeHead(200, { 'content-length': size, 'accept-ranges': 'bytes' });
    createReadStream(file).pipe(res);
    return;
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size) {
    res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
    return;
  }
  res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1, 'accept-ranges': 'bytes' });
  createReadStream(file, { start, end, highWaterMark: 1 << 20 }).pipe(res);
}).listen(port, '127.0.0.1', () => console.log('ready'));
