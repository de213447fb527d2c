/**
 * Targets: development always, production once the Jupyter server says one is configured;
 * Promote's default is production then; each target's calls go to its own base URL (production's
 * through the Jupyter server's token-adding proxy); runs announced on either reach the sidebar.
 */
import { PageConfig } from '@jupyterlab/coreutils';
import { apiRoutes } from '@cellgraph/schema';
import { type ProductionSettings, type ProductionSettingsStore, productionBase, serverBase } from '../api';
import { CellgraphServer } from '../server';
import { CellgraphTargets, targetLabel } from '../targets';
import { FakeServer } from './fake-server';

/** The Jupyter server's production settings, in memory; `refuse` makes the next write fail as the server does. */
class MemoryStore implements ProductionSettingsStore {
  settings: ProductionSettings = { configured: false, url: null, hasToken: false, source: 'none' };
  refuse?: Error;
  async read(): Promise<ProductionSettings> {
    return this.settings;
  }
  async write(url: string, token: string): Promise<ProductionSettings> {
    if (this.refuse) throw this.refuse;
    this.settings = { configured: true, url, hasToken: token !== '', source: 'file' };
    return this.settings;
  }
  async forget(): Promise<void> {
    this.settings = { configured: false, url: null, hasToken: false, source: 'none' };
  }
}

function targets(store = new MemoryStore()) {
  const dev = new FakeServer();
  const made: string[] = [];
  const t = new CellgraphTargets(dev, store, (label) => {
    made.push(label);
    return new FakeServer('production', label);
  });
  return { t, dev, store, made };
}

test('without a production server: development only, and Promote goes there', async () => {
  const { t, dev } = targets();
  await t.refresh();
  expect(t.production).toBeUndefined();
  expect(t.all).toEqual([dev]);
  expect(t.preferred).toBe(dev);
  expect(t.get('production')).toBeUndefined();
  expect(t.get('development')).toBe(dev);
});

test('a configured production server is preferred, named by its host, and listed after development', async () => {
  const { t, dev, store, made } = targets();
  store.settings = { configured: true, url: 'https://cg.example.org:8443/', hasToken: true, source: 'environment' };
  let changes = 0;
  t.changed.connect(() => changes++);
  await t.refresh();
  expect(made).toEqual(['cg.example.org:8443']);
  expect(t.preferred).toBe(t.production);
  expect(t.preferred.target).toBe('production');
  expect(t.preferred.label).toBe('cg.example.org:8443');
  expect(t.all).toEqual([dev, t.production]);
  expect(t.get('production')).toBe(t.production);
  // The same settings again: the same server (a follower on it keeps following).
  const before = t.production;
  await t.refresh();
  expect(t.production).toBe(before);
  expect(changes).toBe(1);
});

test('configuring, then forgetting, switches Promote between production and development', async () => {
  const { t, dev } = targets();
  await t.configure('http://127.0.0.1:9000/', 'secret-token');
  expect(t.preferred.label).toBe('127.0.0.1:9000');
  await t.forget();
  expect(t.production).toBeUndefined();
  expect(t.preferred).toBe(dev);
});

test('a refused configuration (the server names the field) leaves the targets as they were', async () => {
  const { t, dev, store } = targets();
  store.refuse = new Error('token: refused by http://127.0.0.1:9000/ (HTTP 401)');
  await expect(t.configure('http://127.0.0.1:9000/', 'wrong')).rejects.toThrow('token: refused');
  expect(t.production).toBeUndefined();
  expect(t.preferred).toBe(dev);
});

test('runs announced on either target reach the sidebar with the server they are on', async () => {
  const { t, dev, store } = targets();
  store.settings = { configured: true, url: 'http://127.0.0.1:9000/', hasToken: true, source: 'file' };
  await t.refresh();
  const heard: [string, string][] = [];
  t.runsChanged.connect((_t, { server, runId }) => heard.push([server.target, runId]));
  dev.announceRun('r-dev');
  t.production?.announceRun('r-prod');
  expect(heard).toEqual([
    ['development', 'r-dev'],
    ['production', 'r-prod']
  ]);
});

test('a production server is named by its host, or by what was given when that is no URL', () => {
  expect(targetLabel('https://cellgraph.prod.example.org/')).toBe('cellgraph.prod.example.org');
  expect(targetLabel('not a url')).toBe('not a url');
});

describe('the client per target', () => {
  const realFetch = globalThis.fetch;
  const seen: { url: string; auth: string | null }[] = [];
  // JupyterLab served under a base URL, as JupyterHub serves it.
  beforeAll(() => PageConfig.setOption('baseUrl', 'http://127.0.0.1:8888/user/ada/'));
  beforeEach(() => {
    seen.length = 0;
    globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      seen.push({ url: request.url, auth: request.headers.get('authorization') });
      return new Response(JSON.stringify({ status: 'ok', version: '0.1.0', executor: request.url.includes('production') ? 'kubernetes' : 'local' }), { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
  });
  afterEach(() => (globalThis.fetch = realFetch));

  test('each target calls its own base URL; production goes through the Jupyter server, without a token from the browser', async () => {
    const dev = new CellgraphServer(() => serverBase(''));
    const prod = new CellgraphServer(productionBase, 'production', 'cg.example.org');
    expect((await dev.call(apiRoutes.health)).executor).toBe('local');
    expect((await prod.call(apiRoutes.health)).executor).toBe('kubernetes');
    expect(seen.map((s) => s.url)).toEqual(['http://127.0.0.1:8888/user/ada/cellgraph/api/v1/health', 'http://127.0.0.1:8888/user/ada/cellgraph-targets/production/api/v1/health']);
    expect(seen.every((s) => s.auth === null || !/^Bearer /.test(s.auth))).toBe(true);
  });

  test('a production server that cannot be reached says so, naming the production server, not the proxy set-up', async () => {
    globalThis.fetch = (async () => new Response('production server http://127.0.0.1:9/ cannot be reached: [Errno 111] Connection refused', { status: 502, headers: { 'content-type': 'text/plain' } })) as typeof fetch;
    const prod = new CellgraphServer(productionBase, 'production', '127.0.0.1:9');
    await expect(prod.call(apiRoutes.health)).rejects.toThrow('cannot be reached');
    expect(prod.reachability).toMatchObject({ reachable: false });
    const message = prod.reachability?.reachable === false ? prod.reachability.message : '';
    expect(message).toContain('Connection refused');
    expect(message).toContain('production server 127.0.0.1:9');
    expect(message).not.toContain('jupyter-server-proxy');
  });
});
