/**
 * A collector stand-in for `npm run bench -- --tracing`: accepts OTLP/HTTP exports on any
 * path, answers 200 at once and keeps nothing, so the apps pay the whole cost of tracing
 * (recording, batching, serialising, sending) and no more. Run as its own process, off the
 * load generator's event loop: `node otlp-sink.mjs <port>`. On SIGTERM it prints what it
 * received.
 */
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
let exports = 0;
let bytes = 0;
const server = createServer((request, response) => {
  request.on('data', (chunk) => (bytes += chunk.length));
  request.on('end', () => {
    if (request.method === 'POST') exports++;
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => {
  console.log(JSON.stringify({ exports, bytes }));
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
