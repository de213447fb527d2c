/** The DAG panel's model: debounced compiles, the newest answer wins, the last DAG survives a broken edit. */
import { Signal } from '@lumino/signaling';
import type { CompileResponse, WorkflowIR } from '@cellgraph/schema';
import { DagModel } from '../model';
import { FakeServer, runDetail } from './fake-server';

const HASH = `sha256:${'b'.repeat(64)}`;

function ir(tasks: string[]): WorkflowIR {
  return {
    irVersion: 1,
    name: 'hello',
    version: HASH,
    source: { path: 'hello.ipynb', notebookHash: HASH },
    params: [],
    paramsModule: '',
    tasks: tasks.map((name, i) => ({
      name,
      cells: [i],
      inputs: [],
      outputs: [],
      params: [],
      after: [],
      upstream: i === 0 ? [] : [tasks[i - 1]],
      policy: { retries: 0, cache: true, resources: {}, env: {}, secrets: [] },
      module: '',
      codeHash: HASH
    })),
    edges: tasks.slice(1).map((name, i) => ({ from: tasks[i], to: name, kind: 'order' as const, values: [] })),
    cells: tasks.map((task, i) => ({ cell: i, kind: 'task' as const, task }))
  } as WorkflowIR;
}

function notebook() {
  const changed = new Signal<object, void>({});
  return { source: { name: 'hello.ipynb', toJSON: () => ({ cells: [] }), contentChanged: changed }, edit: () => changed.emit() };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

it('compiles a moment after the last of several edits, once', async () => {
  const server = new FakeServer();
  const compiled: CompileResponse = { ok: true, ir: ir(['greet', 'shout']), diagnostics: [] };
  server.answers.set('api/v1/compile', compiled);
  const nb = notebook();
  const model = new DagModel(nb.source, server, () => 600);
  let redraws = 0;
  model.graphChanged.connect(() => redraws++);
  for (let i = 0; i < 5; i++) {
    nb.edit();
    await jest.advanceTimersByTimeAsync(100);
  }
  expect(server.calls).toEqual([]);
  await jest.advanceTimersByTimeAsync(600);
  expect(server.calls).toEqual(['api/v1/compile']);
  expect(redraws).toBe(1);
  expect(model.layout?.nodes.map((n) => n.id)).toEqual(['greet', 'shout']);
  model.dispose();
});

it('keeps the last DAG when an edit stops compiling, marking the task at fault', async () => {
  const server = new FakeServer();
  const nb = notebook();
  const model = new DagModel(nb.source, server, () => 10);
  server.answers.set('api/v1/compile', { ok: true, ir: ir(['greet', 'shout']), diagnostics: [] });
  await model.refresh();
  server.answers.set('api/v1/compile', { ok: false, diagnostics: [{ severity: 'error', code: 'cycle', message: 'cycle: greet -> shout -> greet', notebook: 'hello.ipynb', cell: 0, task: 'greet' }] });
  await model.refresh();
  expect(model.layout?.nodes.map((n) => n.id)).toEqual(['greet', 'shout']);
  expect([...model.tasksWithErrors]).toEqual(['greet']);
  expect(model.problems[0]).toMatchObject({ code: 'cycle', cell: 0 });
  model.dispose();
});

it('never lets an older compile answer overwrite a newer one', async () => {
  const server = new FakeServer();
  const nb = notebook();
  const model = new DagModel(nb.source, server, () => 10);
  const answers = [
    { ok: true, ir: ir(['old']), diagnostics: [] },
    { ok: true, ir: ir(['new']), diagnostics: [] }
  ];
  let n = 0;
  const resolvers: (() => void)[] = [];
  server.answers.set('api/v1/compile', async () => {
    const answer = answers[n++];
    await new Promise<void>((resolve) => resolvers.push(resolve));
    return answer;
  });
  const first = model.refresh();
  const second = model.refresh();
  await Promise.resolve();
  resolvers[1]();
  await second;
  resolvers[0]();
  await first;
  expect(model.layout?.nodes.map((n) => n.id)).toEqual(['new']);
  model.dispose();
});

it('forgets the selected task when an edit removes it; follows, cancels and retries runs', async () => {
  const server = new FakeServer();
  const nb = notebook();
  const model = new DagModel(nb.source, server, () => 10);
  server.answers.set('api/v1/compile', { ok: true, ir: ir(['greet', 'shout']), diagnostics: [] });
  await model.refresh();
  model.selectedTask = 'shout';
  server.answers.set('api/v1/compile', { ok: true, ir: ir(['greet']), diagnostics: [] });
  await model.refresh();
  expect(model.selectedTask).toBeUndefined();

  const run = 'r-20261201t000000-aaaaaa';
  const retry = 'r-20261201t000100-bbbbbb';
  let cancelled = false;
  server.answers.set(`api/v1/runs/${run}`, () => runDetail(run, cancelled ? 'cancelled' : 'running', { greet: cancelled ? 'cancelled' : 'running' }));
  server.answers.set(`api/v1/runs/${run}/cancel`, () => {
    cancelled = true;
    return runDetail(run, 'cancelled', { greet: 'cancelled' });
  });
  server.answers.set(`api/v1/runs/${run}/retry`, runDetail(retry, 'queued', { greet: 'pending' }));
  server.answers.set(`api/v1/runs/${retry}`, runDetail(retry, 'succeeded', { greet: 'succeeded' }));
  server.stream = { events: [], end: 'hang' };
  const announced: string[] = [];
  server.runsChanged.connect((_s, id) => announced.push(id));
  const states: string[] = [];
  model.runChanged.connect((_m, r) => states.push(r?.status ?? 'none'));
  model.follow(run);
  await jest.advanceTimersByTimeAsync(0);
  await model.cancelRun();
  expect(model.run?.status).toBe('cancelled');
  await model.retryRun();
  await jest.advanceTimersByTimeAsync(0);
  expect(model.run?.runId).toBe(retry);
  expect(states).toEqual(['running', 'cancelled', 'succeeded']);
  expect(announced).toEqual([run, retry]);
  model.unfollow();
  expect(model.run).toBeUndefined();
  model.dispose();
});

test('a run on production is followed, cancelled and retried on production, while the DAG still compiles on development', async () => {
  const dev = new FakeServer();
  const prod = new FakeServer('production', 'cg.example.org');
  dev.answers.set('api/v1/compile', { ok: true, ir: ir(['greet']), diagnostics: [] } satisfies CompileResponse);
  const nb = notebook();
  const model = new DagModel(nb.source, dev, () => 10);
  await model.refresh();
  const run = 'r-20261201t000000-cccccc';
  const retry = 'r-20261201t000100-dddddd';
  prod.answers.set(`api/v1/runs/${run}`, runDetail(run, 'failed', { greet: 'failed' }));
  prod.answers.set(`api/v1/runs/${run}/retry`, runDetail(retry, 'queued', { greet: 'pending' }));
  prod.answers.set(`api/v1/runs/${retry}`, runDetail(retry, 'succeeded', { greet: 'succeeded' }));
  prod.stream = { events: [], end: 'hang' };
  model.follow(run, prod);
  await jest.advanceTimersByTimeAsync(0);
  expect(model.run?.status).toBe('failed');
  expect(model.runServer).toBe(prod);
  await model.retryRun();
  await jest.advanceTimersByTimeAsync(0);
  expect(model.run?.runId).toBe(retry);
  expect(model.runServer).toBe(prod);
  expect(dev.calls).toEqual(['api/v1/compile']);
  nb.edit();
  await jest.advanceTimersByTimeAsync(20);
  expect(dev.calls).toEqual(['api/v1/compile', 'api/v1/compile']);
  expect(prod.calls.every((c) => c.startsWith('api/v1/runs/'))).toBe(true);
  model.dispose();
});
