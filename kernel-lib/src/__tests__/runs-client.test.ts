/**
 * The notebook's runs client over a stubbed fetch (no network): the requests it makes
 * through the route table's client, outputs decoded with their codecs, and errors that name
 * what is wrong. The same path against a real server: server/src/api/__tests__/runs-client.integration.test.ts.
 */
import { encodeValue } from '../codecs/value-codec';
import { CellgraphApiError, connect, serverConfigFromEnv } from '../index';

const HASH = `sha256:${'b'.repeat(64)}`;
const detail = {
  runId: 'r-1',
  workflow: 'iris',
  version: HASH,
  status: 'succeeded',
  params: { epochs: 200 },
  notebookPath: '/w/iris.ipynb',
  executor: 'local',
  createdAt: '2026-12-05T10:00:00.000Z',
  finishedAt: '2026-12-05T10:00:05.000Z',
  tasks: [{ name: 'softmax', status: 'succeeded', attempts: 1, cached: false, outputs: [{ name: 'model', type: 'SoftmaxModel' }], metrics: {} }],
  taskDetails: [{ name: 'softmax' }]
};
const model = { classes: ['a', 'b'], trained: new Date('2026-12-05T10:00:04.000Z'), counts: new Map([['a', 3]]) };
const outputs = {
  runId: 'r-1',
  task: 'softmax',
  status: 'succeeded',
  outputs: [{ name: 'model', type: 'SoftmaxModel', hash: HASH, size: 10, value: JSON.parse(encodeValue(model).toString('utf8')) }],
  metrics: { accuracy: 0.97 }
};

let requests: { method: string; url: string; auth: string | null }[];
const realFetch = global.fetch;

function answer(routes: Record<string, [number, unknown]>): void {
  global.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    requests.push({ method: init?.method ?? 'GET', url, auth: new Headers(init?.headers).get('authorization') });
    const key = Object.keys(routes).find((k) => url.endsWith(k));
    const [status, body] = key === undefined ? [404, { error: { code: 'not-found', message: `no route ${url}` } }] : routes[key];
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
}

beforeEach(() => (requests = []));
afterAll(() => (global.fetch = realFetch));

describe('runs client', () => {
  const client = connect({ url: 'http://127.0.0.1:9/', token: 't0k3n' });

  it('finds the latest run of a workflow and decodes a task output with its codecs', async () => {
    answer({
      '/api/v1/runs?workflow=iris&limit=1': [200, { runs: [{ id: 'r-1', workflow: 'iris', version: HASH, notebookPath: '/w/iris.ipynb', params: {}, status: 'succeeded', executor: 'local', createdAt: detail.createdAt, done: 1, total: 1 }] }],
      '/api/v1/runs/r-1': [200, detail],
      '/api/v1/runs/r-1/tasks/softmax/outputs': [200, outputs]
    });
    const run = await client.latest('iris');
    expect(run).toMatchObject({ id: 'r-1', workflow: 'iris', status: 'succeeded', params: { epochs: 200 } });
    const task = run.task('softmax');
    expect(await task.output('model')).toEqual(model);
    expect(await task.metrics()).toEqual({ accuracy: 0.97 });
    expect(await task.outputs()).toEqual({ model });
    // One request per thing: the task's outputs are fetched once.
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET http://127.0.0.1:9/api/v1/runs?workflow=iris&limit=1',
      'GET http://127.0.0.1:9/api/v1/runs/r-1',
      'GET http://127.0.0.1:9/api/v1/runs/r-1/tasks/softmax/outputs'
    ]);
    expect(requests.every((r) => r.auth === 'Bearer t0k3n')).toBe(true);
  });

  it('asks for succeeded runs only with latestSuccessful, and says when a workflow has none', async () => {
    answer({ '/api/v1/runs?workflow=nope&limit=1&status=succeeded': [200, { runs: [] }] });
    await expect(client.latestSuccessful('nope')).rejects.toThrow('workflow "nope" has no succeeded runs');
  });

  it('names a missing task or output, and passes on the server’s errors with their code', async () => {
    answer({ '/api/v1/runs/r-1': [200, detail], '/api/v1/runs/r-1/tasks/softmax/outputs': [200, outputs] });
    const run = await client.get('r-1');
    expect(() => run.task('knn')).toThrow('run r-1 has no task "knn" (its tasks: softmax)');
    await expect(run.task('softmax').output('weights')).rejects.toThrow('task softmax of run r-1 (succeeded) has no output "weights" (its outputs: model)');
    answer({ '/api/v1/runs/r-2': [401, { error: { code: 'unauthorized', message: 'missing or wrong bearer token' } }] });
    await expect(client.get('r-2')).rejects.toMatchObject({ name: 'CellgraphApiError', status: 401, code: 'unauthorized', message: 'missing or wrong bearer token' });
    await expect(client.get('r-2')).rejects.toBeInstanceOf(CellgraphApiError);
  });

  it('says the server cannot be reached, naming its URL', async () => {
    global.fetch = (async () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') });
    }) as typeof fetch;
    await expect(client.get('r-1')).rejects.toThrow('cannot reach the cellgraph server at http://127.0.0.1:9: connect ECONNREFUSED 127.0.0.1:9');
  });
});

describe('server configuration from the environment', () => {
  it('takes CELLGRAPH_SERVER and CELLGRAPH_TOKEN, and names what is missing or wrong', () => {
    expect(serverConfigFromEnv({ CELLGRAPH_SERVER: 'http://127.0.0.1:8788/', CELLGRAPH_TOKEN: 'x' })).toEqual({ url: 'http://127.0.0.1:8788', token: 'x' });
    expect(() => serverConfigFromEnv({ CELLGRAPH_TOKEN: 'x' })).toThrow(/CELLGRAPH_SERVER is not set/);
    expect(() => serverConfigFromEnv({ CELLGRAPH_SERVER: 'ftp://x', CELLGRAPH_TOKEN: 'x' })).toThrow('CELLGRAPH_SERVER must be an http(s) URL');
    expect(() => serverConfigFromEnv({ CELLGRAPH_SERVER: 'http://x', CELLGRAPH_TOKEN: '' })).toThrow(/CELLGRAPH_TOKEN is not set/);
  });
});
