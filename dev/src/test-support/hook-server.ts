import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a test webhook received. */
export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  /** When the request arrived (ms since epoch). */
  at: number;
}

/**
 * A webhook receiver on 127.0.0.1 for tests: `answer` decides each response from the
 * request's index (a status code, or 'hang' to never answer).
 */
export interface HookServer {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

export async function startHookServer(answer: (index: number, req: Received) => number | 'hang'): Promise<HookServer> {
  const received: Received[] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString('utf8')));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
      const r: Received = { path: req.url ?? '', headers: req.headers, body, at: Date.now() };
      received.push(r);
      const a = answer(received.length - 1, r);
      if (a === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(a, { 'content-type': 'text/plain' }).end(`status ${a}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      })
  };
}
