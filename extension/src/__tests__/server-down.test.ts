/**
 * What the server-down banner says: the proxy's HTML error page only by its status, and the
 * plain-text answer of cellgraph-jupyterlab's stand-in (no `cellgraph` CLI installed) in full,
 * since it names what to install. Through callRoute and JupyterLab's own server connection,
 * with fetch answering as the proxy would.
 */
import { PageConfig } from '@jupyterlab/coreutils';
import { apiRoutes } from '@cellgraph/schema';
import { ServerDownError, callRoute, serverBase } from '../api';

const HINT = 'cellgraph-jupyterlab starts the cellgraph server from the npm package @cellgraph/server, and found none. Install it (`npm install @cellgraph/server tslab`)';
const realFetch = globalThis.fetch;
// JupyterLab's connection builds absolute Requests from the page's base URL.
beforeAll(() => PageConfig.setOption('baseUrl', 'http://127.0.0.1:8888/'));
afterEach(() => {
  globalThis.fetch = realFetch;
});

function answer(status: number, body: string, contentType: string): void {
  globalThis.fetch = (async () => new Response(body, { status, headers: { 'content-type': contentType } })) as typeof fetch;
}

async function downError(): Promise<ServerDownError> {
  const err: unknown = await callRoute(serverBase(''), apiRoutes.health).then(
    () => undefined,
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(ServerDownError);
  return err as ServerDownError;
}

test("the stand-in's 503 reaches the banner with what to install", async () => {
  answer(503, HINT, 'text/plain; charset=utf-8');
  expect((await downError()).message).toContain(`(HTTP 503: ${HINT})`);
});

test("the proxy's HTML error page is reduced to its status", async () => {
  answer(502, '<html><title>502: Bad Gateway</title><body>could not connect</body></html>', 'text/html');
  const err = await downError();
  expect(err.message).toMatch(/\(HTTP 502\)$/);
  expect(err.message).not.toContain('<html>');
});
