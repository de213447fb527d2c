import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { RunRecord, TaskRunRecord } from '@cellgraph/schema';
import { SqliteStateStore } from '../sqlite-state-store';

const version = `sha256:${'a'.repeat(64)}`;

function run(id: string, createdAt = '2026-11-24T10:00:00.000Z'): RunRecord {
  return { id, workflow: 'wf', version, notebookPath: '/nb.ipynb', params: { n: 1 }, status: 'queued', executor: 'local', createdAt };
}
function task(runId: string, name: string): TaskRunRecord {
  return { runId, task: name, status: 'pending', attempts: 0, cached: false, outputs: [], metrics: {} };
}

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
