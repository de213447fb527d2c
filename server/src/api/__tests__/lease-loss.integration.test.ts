/**
 * Lease loss on real components: two `cellgraph server` replicas on one real PostgreSQL.
 * The replica running a run is frozen (SIGSTOP) past its lease while a slow task runs; the
 * other adopts the run and finishes it; the frozen one is thawed (SIGCONT) while the
 * adopter's attempt still runs. The thawed replica must give the run up without acting:
 * every task executed once (counted by the side effect each appends to a file), the run's
 * record and events are the adopter's alone, and the stale replica says it gave the run up.
 * Every server is stopped by PID.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunDetail } from '@cellgraph/schema';
import { testDatabaseUrl } from '@cellgraph/dev/services/postgres';
import { TestCell, code, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { ServerProcess, readEvents, startServerProcess, stopAllServers, tempWorkDir, waitFor } from '@cellgraph/dev/test-support/server-process';

jest.setTimeout(240_000);

const TOKEN = 'lease-loss-token-0123456789abcdef';

/** first -> slow -> last; slow records its start, works 15 s, then marks its end; marks.txt counts executions. */
const cells: TestCell[] = [
  code('import * as fs from "fs";', { role: 'setup' }),
  code('const x: number = 1;\nfs.appendFileSync("marks.txt", "first\\n");', { task: 'first' }),
  code(
    'fs.appendFileSync("starts.txt", "slow\\n");\nAtomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 15000);\nconst y: number = x + 1;\nfs.appendFileSync("marks.txt", "slow\\n");',
    { task: 'slow' }
  ),
  code('const z: number = y + 1;\nfs.appendFileSync("marks.txt", "last\\n");', { task: 'last' })
];

function lines(dir: string, file: string): string[] {
  const p = path.join(dir, file);
  return fs.existsSync(p) ? fs.readFileSync(p, 'utf8').trim().split('\n').filter(Boolean) : [];
}

async function detail(s: ServerProcess, id: string): Promise<RunDetail> {
  const res = await s.api(`/api/v1/runs/${id}`);
  expect(res.status).toBe(200);
  return RunDetail.parse(await res.json());
}

afterAll(stopAllServers);

describe('a replica that stalls past its lease', () => {
  let dir: string;
  let a: ServerProcess;
  let b: ServerProcess;

  beforeAll(async () => {
    dir = tempWorkDir('cg-lease-loss-');
    const url = await testDatabaseUrl('lease_loss_it');
    const start = (id: string) => startServerProcess(dir, { token: TOKEN, env: { CELLGRAPH_DATABASE_URL: url, CELLGRAPH_REPLICA_ID: id } });
    [a, b] = await Promise.all([start('replica-a'), start('replica-b')]);
  });
  afterAll(() => {
    // Never leave a frozen process behind, whatever failed.
    a?.child.kill('SIGCONT');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives its run up on waking, recording nothing, while the adopter finishes it with each task executed once', async () => {
    const submitted = await a.api('/api/v1/runs', { method: 'POST', json: { notebook: JSON.parse(notebookText(cells)), notebookName: 'slow.ipynb' } });
    expect(submitted.status).toBe(201);
    const runId = RunDetail.parse(await submitted.json()).runId;
    await waitFor(async () => (lines(dir, 'starts.txt').length === 1 ? true : undefined), 60_000, 'task slow running on replica A');

    a.child.kill('SIGSTOP');
    await waitFor(async () => (b.stderr().includes(`adopting 1 run(s) of a replica that stopped: ${runId}`) ? true : undefined), 30_000, 'adoption by B').catch(
      (err: Error) => {
        throw new Error(`${err.message}\nB's log:\n${b.stderr()}`);
      }
    );
    // B stopped A's orphaned attempt and runs its own; A wakes while B's attempt still runs.
    await waitFor(async () => (lines(dir, 'starts.txt').length === 2 ? true : undefined), 30_000, 'task slow restarted on B');
    const adopted = await detail(b, runId);
    expect(adopted.tasks.find((t) => t.name === 'slow')).toMatchObject({ status: 'running', attempts: 2 });
    a.child.kill('SIGCONT');

    await waitFor(async () => (a.stderr().includes(`gave up run ${runId}`) ? true : undefined), 20_000, 'A giving the run up');
    expect(a.stderr()).toMatch(/gave up run \S+: run \S+ (given up: another replica holds its lease now|is no longer leased to replica-a \(epoch 1\))/);
    expect(a.stderr()).toContain('stopped here without recording anything');

    const done = await waitFor(async () => {
      const r = await detail(b, runId);
      return r.status === 'running' || r.status === 'queued' ? undefined : r;
    }, 90_000, 'the run to finish on B');
    expect(done.status).toBe('succeeded');
    expect(done.tasks.map((t) => [t.name, t.status, t.attempts])).toEqual([
      ['first', 'succeeded', 1],
      ['slow', 'succeeded', 2],
      ['last', 'succeeded', 1]
    ]);
    // Each task's side effect happened once: A's attempt of slow was stopped before its end, and A started nothing after waking.
    expect(lines(dir, 'marks.txt').sort()).toEqual(['first', 'last', 'slow']);
    expect(lines(dir, 'starts.txt')).toHaveLength(2);

    // The record is B's alone: no failure, cancellation or retry written by A, and nothing changes later.
    const events = (await readEvents(await b.api(`/api/v1/runs/${runId}/events`), (e) => e.kind === 'run' && e.status === 'succeeded')).map((e) => e.event);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    expect(events.filter((e) => e.status === 'failed' || e.status === 'cancelled')).toEqual([]);
    expect(events.filter((e) => e.kind === 'run' && e.status === 'succeeded')).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 5000));
    expect(await detail(a, runId)).toEqual(await detail(b, runId));
    expect((await detail(b, runId)).status).toBe('succeeded');
    expect(lines(dir, 'marks.txt')).toHaveLength(3);

    // A is well and serves requests.
    expect((await a.api('/api/v1/health')).status).toBe(200);
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
  });
});
