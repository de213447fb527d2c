import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { RunRecord, TaskRunRecord } from '@cellgraph/schema';
import type { ServerStateStore } from '../open-state-store';
import { SqliteStateStore } from '../sqlite-state-store';
import { STATE_STORES, TestDatabase } from './state-stores';

const version = `sha256:${'a'.repeat(64)}`;

function run(id: string, createdAt = '2026-11-24T10:00:00.000Z'): RunRecord {
  return { id, workflow: 'wf', version, notebookPath: '/nb.ipynb', params: { n: 1 }, status: 'queued', executor: 'local', createdAt };
}
function task(runId: string, name: string): TaskRunRecord {
  return { runId, task: name, status: 'pending', attempts: 0, cached: false, outputs: [], metrics: {} };
}

describe.each(STATE_STORES)('state store on %s', (_dialect, database) => {
  let db: TestDatabase;
  let state: ServerStateStore;
  beforeEach(async () => {
    db = await database('state_store');
    state = await db.open();
    await state.saveWorkflow({ version, name: 'wf', notebookPath: '/nb.ipynb' });
  });
  afterEach(async () => {
    await state.close();
    db.dispose();
  });

  it('keeps runs and task records across reopen (durable), in task order', async () => {
    await state.createRun(run('r-1'), [task('r-1', 'b'), task('r-1', 'a')]);
    await state.updateRun('r-1', { status: 'running', startedAt: '2026-11-24T10:00:01.000Z' });
    await state.updateTaskRun('r-1', 'b', {
      status: 'succeeded',
      attempts: 2,
      outputs: [{ name: 'x', type: 'number', hash: `sha256:${'b'.repeat(64)}`, size: 1 }],
      metrics: { acc: 0.9 },
      error: { name: 'Error', message: 'first attempt failed', kind: 'error' }
    });
    await state.close();
    state = await db.open();
    expect((await state.getRun('r-1')).status).toBe('running');
    const tasks = await state.getTaskRuns('r-1');
    expect(tasks.map((t) => t.task)).toEqual(['b', 'a']);
    expect(tasks[0]).toMatchObject({ status: 'succeeded', attempts: 2, metrics: { acc: 0.9 }, error: { message: 'first attempt failed' } });
  });

  it('numbers events per run and lists them after a sequence number', async () => {
    await state.createRun(run('r-1'), [task('r-1', 'a')]);
    await state.createRun(run('r-2'), [task('r-2', 'a')]);
    const a = await state.appendEvent({ runId: 'r-1', kind: 'run', status: 'queued', time: 't' });
    const b = await state.appendEvent({ runId: 'r-1', kind: 'task', status: 'running', task: 'a', attempt: 1, time: 't' });
    const c = await state.appendEvent({ runId: 'r-2', kind: 'run', status: 'queued', time: 't' });
    expect([a.seq, b.seq, c.seq]).toEqual([0, 1, 0]);
    expect((await state.listEvents('r-1', 0)).map((e) => e.seq)).toEqual([1]);
  });

  it('throws NotFoundError for an unknown run', async () => {
    await expect(state.getRun('r-nope')).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('lists runs newest first, filtered by status and workflow', async () => {
    await state.createRun(run('r-old', '2026-11-24T09:00:00.000Z'), []);
    await state.createRun(run('r-new', '2026-11-24T11:00:00.000Z'), []);
    await state.updateRun('r-old', { status: 'failed' });
    expect((await state.listRuns()).map((r) => r.id)).toEqual(['r-new', 'r-old']);
    expect((await state.listRuns({ status: 'failed' })).map((r) => r.id)).toEqual(['r-old']);
    // One workflow's runs (the runs view of a workflow).
    await state.createRun({ ...run('r-other'), workflow: 'other' }, []);
    expect((await state.listRuns({ workflow: 'other' })).map((r) => r.id)).toEqual(['r-other']);
    expect((await state.listRuns({ workflow: 'wf', status: 'failed', limit: 5 })).map((r) => r.id)).toEqual(['r-old']);
  });

  it('stores and finds cache entries', async () => {
    const entry = { key: `sha256:${'c'.repeat(64)}`, task: 'a', outputs: [], metrics: { m: 1 }, runId: 'r-1', attempt: 1, createdAt: 't' };
    await state.putCacheEntry(entry);
    expect(await state.getCacheEntry(entry.key)).toEqual(entry);
    expect(await state.getCacheEntry('sha256:none')).toBeUndefined();
  });

  it('keeps the options a run was submitted with (a resume honours them)', async () => {
    await state.createRun({ ...run('r-1'), options: { noCache: true, scheduledFor: '2026-11-24T10:00:00.000Z', firedLateMs: 12 } }, []);
    await state.createRun(run('r-2'), []);
    expect((await state.getRun('r-1')).options).toEqual({ noCache: true, scheduledFor: '2026-11-24T10:00:00.000Z', firedLateMs: 12 });
    expect((await state.getRun('r-2')).options).toBeUndefined();
  });

  it('numbers concurrent events of one run without gaps or clashes', async () => {
    await state.createRun(run('r-1'), [task('r-1', 'a')]);
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => state.appendEvent({ runId: 'r-1', kind: 'task', status: 'running', task: 'a', attempt: i + 1, time: 't' })));
    expect(all.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect((await state.listEvents('r-1')).map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});

describe('SqliteStateStore', () => {
  let dir: string;
  let state: SqliteStateStore;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-state-'));
    state = SqliteStateStore.open(path.join(dir, 'state.db'));
    await state.saveWorkflow({ version, name: 'wf', notebookPath: '/nb.ipynb' });
  });
  afterEach(async () => {
    await state.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reports a database locked by another writer as a StateError and keeps earlier state', async () => {
    await state.createRun(run('r-1'), [task('r-1', 'a')]);
    // A short busy timeout keeps the test quick; the default is 5 s.
    const locked = SqliteStateStore.open(path.join(dir, 'state.db'), { busyTimeoutMs: 50 });
    const other = new Database(path.join(dir, 'state.db'));
    other.exec('BEGIN EXCLUSIVE');
    await expect(locked.updateRun('r-1', { status: 'failed' })).rejects.toMatchObject({ name: 'StateError' });
    other.exec('ROLLBACK');
    other.close();
    await locked.close();
    expect((await state.getRun('r-1')).status).toBe('queued');
  });
});
