import type { ParamSpec, RunDetail } from '@cellgraph/schema';
import { prefilledParams, recall, remember } from '../remembered';
import { noticeRunEnd, runEndMessage } from '../run-notifications';

const run = (over: Partial<RunDetail>): RunDetail =>
  ({
    runId: 'r-1',
    workflow: 'analysis--stats',
    version: `sha256:${'a'.repeat(64)}`,
    status: 'succeeded',
    params: {},
    durationMs: 1234,
    tasks: [
      { name: 'load', status: 'cached', attempts: 0, cached: true, outputs: [], metrics: {} },
      { name: 'total', status: 'succeeded', attempts: 1, cached: false, outputs: [], metrics: {} }
    ],
    notebookPath: '/w/analysis/stats.ipynb',
    executor: 'local',
    createdAt: '2026-12-05T00:00:00Z',
    taskDetails: [],
    ...over
  }) as RunDetail;

describe('runEndMessage: what the notification says when a run ends', () => {
  it('a success, with its duration and cached tasks', () => {
    expect(runEndMessage(run({}))).toEqual({ kind: 'success', message: 'cellgraph: analysis--stats run r-1 succeeded in 1.2 s (1/2 tasks cached)' });
  });
  it('a failure names the failed task and the first line of its error, and the production server', () => {
    const failed = run({ status: 'failed', tasks: [{ name: 'total', status: 'failed', attempts: 1, cached: false, outputs: [], metrics: {}, error: 'boom at 60\nmore' }] });
    expect(runEndMessage(failed, 'prod.example')).toEqual({ kind: 'error', message: 'cellgraph: analysis--stats run r-1 on prod.example failed in 1.2 s: task total: boom at 60' });
  });
  it('a cancelled run is a warning', () => {
    expect(runEndMessage(run({ status: 'cancelled', durationMs: undefined })).kind).toBe('warning');
  });
});

/** The browser's localStorage, as far as remembered.ts uses it (these tests run in Node). */
class MemoryStorage {
  private readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  clear(): void {
    this.items.clear();
  }
}
Object.assign(globalThis, { localStorage: new MemoryStorage() });

describe('remembered choices: the dialogs prefill the last values per workflow', () => {
  const specs: ParamSpec[] = [
    { name: 'factor', kind: 'number', type: 'number', default: 2, constrained: false, cell: 1 },
    { name: 'label', kind: 'string', type: 'string', default: 'x', constrained: false, cell: 1 }
  ];
  beforeEach(() => localStorage.clear());

  it('prefills remembered values of parameters still declared, defaults for the rest', () => {
    remember('wf', { params: { factor: 5, gone: 1 } });
    expect(prefilledParams('wf', specs).map((p) => p.default)).toEqual([5, 'x']);
    expect(prefilledParams('other', specs).map((p) => p.default)).toEqual([2, 'x']);
  });
  it('merges choices and ignores what is not its shape', () => {
    remember('wf', { params: { factor: 5 } });
    remember('wf', { cron: '0 6 * * *' });
    expect(recall('wf')).toEqual({ params: { factor: 5 }, cron: '0 6 * * *' });
    localStorage.setItem('cellgraph:last-choice:bad', '{"params": 3}');
    expect(recall('bad')).toEqual({});
  });
});

describe('noticeRunEnd: a run started from the runs sidebar is announced once, when it ends', () => {
  it('says nothing while it runs, once at its end, and stops following', async () => {
    let deliver: (r: RunDetail) => void = () => undefined;
    const disposed: boolean[] = [];
    const said: string[] = [];
    noticeRunEnd(
      (onRun) => {
        deliver = onRun;
        return { dispose: () => disposed.push(true) };
      },
      (message, kind) => said.push(`${kind}: ${message}`),
      () => []
    );
    deliver(run({ status: 'running', durationMs: undefined }));
    expect(said).toEqual([]);
    deliver(run({ status: 'failed', tasks: [{ name: 'total', status: 'failed', attempts: 1, cached: false, outputs: [], metrics: {}, error: 'boom' }] }));
    deliver(run({ status: 'failed' }));
    expect(said).toEqual(['error: cellgraph: analysis--stats run r-1 failed in 1.2 s: task total: boom']);
    await new Promise((r) => setTimeout(r, 5));
    expect(disposed).toEqual([true]);
  });
});
