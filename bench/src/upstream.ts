// The application behind every pair: answers every request with a fixed 1 KiB body over
// keep-alive. `node upstream.js <port> [bytes]`.
import http from 'node:http';

const port = Number(process.argv[2] ?? 0);
const size = Number(process.argv[3] ?? 1024);
const body = Buffer.alloc(size, 'x');
const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  // Drain any request body, then answer.
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => { server.closeAllConnections(); server.close(() => process.exit(0)); });
