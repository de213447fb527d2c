import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fault-injecting front for the real test registry: adds basic or token auth (as
 * private registries and Docker Hub do) and fails uploads with 5xx on demand. Everything
 * it lets through is answered by the real registry behind it.
 */
export interface ProxyOptions {
  /** `host:port` of the real registry. */
  upstream: string;
  auth?: { kind: 'basic' | 'token'; username: string; password: string };
  /** Answer 500 to this many blob upload requests (PUT/PATCH) before passing them through. */
  failUploads?: number;
}

export interface RegistryProxy {
  host: string;
  /** Requests seen, as `METHOD path`. */
  requests: string[];
  stop(): Promise<void>;
}

const TOKEN = 'test-token-42';

export async function startRegistryProxy(options: ProxyOptions): Promise<RegistryProxy> {
  let failuresLeft = options.failUploads ?? 0;
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push(`${req.method} ${url.split('?')[0]}`);
    const auth = options.auth;
    const header = req.headers.authorization ?? '';
    const basic = auth ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` : '';
    if (auth?.kind === 'token' && url.startsWith('/token')) {
      if (header !== basic) {
        res.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: TOKEN }));
      return;
    }
    if (auth && header !== (auth.kind === 'basic' ? basic : `Bearer ${TOKEN}`)) {
      const challenge = auth.kind === 'basic' ? 'Basic realm="test"' : `Bearer realm="http://${req.headers.host}/token",service="test-registry"`;
      res.writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    if ((req.method === 'PUT' || req.method === 'PATCH') && url.includes('/blobs/uploads/') && failuresLeft > 0) {
      failuresLeft -= 1;
      req.resume();
      req.on('end', () => res.writeHead(500).end('{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}'));
      return;
    }
    const { authorization: _drop, ...headers } = req.headers;
    const upstream = http.request({ host: options.upstream.split(':')[0], port: Number(options.upstream.split(':')[1]), method: req.method, path: url, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { host, requests, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}
