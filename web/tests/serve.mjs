// A tiny static server for a built UI (dist/), forwarding /graphql (HTTP and WebSocket) to
// the gateway and /auth to AuthApi, as nginx does in the containers. No dependencies.
//
//   node serve.mjs <dist> <port> <gateway-url> <auth-url>
import { createReadStream, existsSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
};

function forward(request, response, target) {
  const url = new URL(request.url, target);
  const upstream = http.request(
    url,
    { method: request.method, headers: { ...request.headers, host: url.host, 'x-forwarded-for': request.socket.remoteAddress ?? '' } },
    (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    },
  );
  upstream.on('error', (error) => {
    response.writeHead(502, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ detail: `upstream unreachable: ${error.message}` }));
  });
  request.pipe(upstream);
}

function sendFile(root, request, response) {
  const path = decodeURIComponent(new URL(request.url, 'http://x').pathname);
  let file = normalize(join(root, path));
  if (!file.startsWith(root)) {
    response.writeHead(403).end();
    return;
  }
  // Client-side routes (/plans, /c/{slug}...) load the app.
  if (!existsSync(file) || statSync(file).isDirectory()) file = join(root, 'index.html');
  response.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'cache-control': 'no-cache',
  });
  createReadStream(file).pipe(response);
}

/** Serves `dist` on `port` (0: any free port); resolves with the listening server. */
export function serve({ dist, port = 0, gateway, auth }) {
  const root = resolve(dist);
  const server = http.createServer((request, response) => {
    if (request.url.startsWith('/graphql')) forward(request, response, gateway);
    else if (request.url.startsWith('/auth/') || request.url === '/auth') forward(request, response, auth);
    else sendFile(root, request, response);
  });
  server.on('upgrade', (request, socket, head) => {
    if (!request.url.startsWith('/graphql')) {
      socket.destroy();
      return;
    }
    const target = new URL(gateway);
    const upstream = net.connect(Number(target.port || 80), target.hostname, () => {
      const lines = [`${request.method} ${request.url} HTTP/1.1`];
      for (let i = 0; i < request.rawHeaders.length; i += 2) {
        const name = request.rawHeaders[i];
        lines.push(`${name}: ${name.toLowerCase() === 'host' ? target.host : request.rawHeaders[i + 1]}`);
      }
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head?.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  return new Promise((done) => server.listen(port, '127.0.0.1', () => done(server)));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [dist, port, gateway, auth] = process.argv.slice(2);
  const server = await serve({ dist, port: Number(port), gateway, auth });
  console.log(`serving ${dist} on http://127.0.0.1:${server.address().port}`);
}
