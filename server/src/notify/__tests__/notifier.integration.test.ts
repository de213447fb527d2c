/**
 * Webhook deliveries against real HTTP receivers on 127.0.0.1: retried with backoff after
 * a 500, not retried after a 4xx refusal, bounded by a per-attempt timeout against a
 * receiver that never answers, cut short on stop and resumed by the next notifier.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunEvent, RunRecord, TaskRunRecord } from '@cellgraph/schema';
import { RunNotification } from '@cellgraph/schema';
import { SqliteStateStore } from '../../state/sqlite-state-store';
import { RunNotifier } from '../notifier';
import { postJson, redactUrl } from '../webhook';
import { HookServer, startHookServer } from '@cellgraph/dev/test-support/hook-server';

const VERSION = `sha256:${'c'.repeat(64)}`;

let dir: string;
let state: SqliteStateStore;
let hooks: HookServer[];
let logs: string[];

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-notify-'));
  state = SqliteStateStore.open(path.join(dir, 'state.db'));
  await state.saveWorkflow({ version: VERSION, name: 'wf', notebookPath: '/nb.ipynb' });
  hooks = [];
  logs = [];
});
afterEach(async () => {
  await Promise.all(hooks.map((h) => h.close()));
  await state.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function hook(answer: (i: number) => number | 'hang'): Promise<HookServer> {
  const h = await startHookServer(answer);
  hooks.push(h);
  return h;
}

/** A finished run as the engine records it, and its final event. */
async function finishedRun(id: string, status: 'succeeded' | 'failed' | 'cancelled'): Promise<RunEvent> {
  const run: RunRecord = {
    id,
    workflow: 'wf',
    version: VERSION,
    notebookPath: '/nb.ipynb',
    params: { n: 2 },
    status,
    executor: 'local',
    createdAt: '2026-11-24T10:00:00.000Z',
    startedAt: '2026-11-24T10:00:01.000Z',
    finishedAt: '2026-11-24T10:00:09.000Z',
    ...(status === 'failed' ? { error: 'task b failed' } : {})
  };
  const task = (name: string, s: TaskRunRecord['status']): TaskRunRecord => ({ runId: id, task: name, status: s, attempts: s === 'skipped' ? 0 : 1, cached: false, outputs: [], metrics: {} });
  await state.createRun(run, [task('a', 'succeeded'), task('b', status === 'failed' ? 'failed' : 'succeeded')]);
  return { seq: 9, runId: id, kind: 'run', status, time: run.finishedAt ?? '' };
}

function notifier(options: Partial<ConstructorParameters<typeof RunNotifier>[0]> = {}): RunNotifier {
  return new RunNotifier({ store: state, attempts: 4, timeoutMs: 2000, backoffMs: 50, log: (l) => logs.push(l), ...options });
}

describe('postJson', () => {
  it('classifies answers: 2xx delivered, 5xx/429 retryable, other 4xx refused, a refused connection retryable', async () => {
    const codes = [204, 503, 429, 404];
    const h = await hook((i) => codes[i]);
    const results = [];
    for (let i = 0; i < codes.length; i++) results.push(await postJson(`${h.url}/x`, '{}', { timeoutMs: 2000 }));
    expect(results).toEqual([
      { ok: true, statusCode: 204 },
      expect.objectContaining({ ok: false, retryable: true, statusCode: 503 }),
      expect.objectContaining({ ok: false, retryable: true, statusCode: 429 }),
      expect.objectContaining({ ok: false, retryable: false, statusCode: 404 })
    ]);
    const gone = await startHookServer(() => 200);
    await gone.close();
    expect(await postJson(`${gone.url}/x`, '{}', { timeoutMs: 2000 })).toEqual(expect.objectContaining({ ok: false, retryable: true, error: expect.stringContaining('ECONNREFUSED') }));
  });

  it('gives up on a receiver that never answers after the timeout', async () => {
    const h = await hook(() => 'hang');
    const t0 = Date.now();
    const r = await postJson(h.url, '{}', { timeoutMs: 300 });
    // It gave up (a hang would last until the test's timeout); the bound allows for a loaded machine.
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r).toEqual({ ok: false, retryable: true, error: 'no answer within 300 ms' });
  });

  it('redacts URLs for logs', () => {
    expect(redactUrl('https://user:pw@hooks.example.com/a/b?token=secret')).toBe('https://hooks.example.com/a/b');
  });
});

describe('RunNotifier', () => {
  it('POSTs the run summary when a run succeeds, retrying a 500 with backoff, and records the delivery', async () => {
    const h = await hook((i) => (i === 0 ? 500 : 200));
    const n = notifier();
    const runId = 's-nightly-20261124t100000z';
    await state.addRunWebhooks(runId, [{ url: `${h.url}/hook?k=1`, source: 'schedule' }]);
    n.listener(await finishedRun(runId, 'succeeded'));
    await n.idle();
    expect(h.received).toHaveLength(2);
    // Full jitter: the wait is drawn from [0, 50 ms]; never the minute of the default policy.
    expect(h.received[1].at - h.received[0].at).toBeLessThan(1000);
    const body = RunNotification.parse(h.received[1].body);
    expect(body).toEqual({
      event: 'run.finished',
      runId,
      workflow: 'wf',
      version: VERSION,
      status: 'succeeded',
      scheduleId: 'nightly',
      params: { n: 2 },
      tasks: [
        { name: 'a', status: 'succeeded', attempts: 1, cached: false },
        { name: 'b', status: 'succeeded', attempts: 1, cached: false }
      ],
      startedAt: '2026-11-24T10:00:01.000Z',
      finishedAt: '2026-11-24T10:00:09.000Z'
    });
    expect(h.received[0].headers).toMatchObject({ 'content-type': 'application/json', 'x-cellgraph-event': 'run.finished' });
    expect(h.received[0].headers['x-cellgraph-delivery']).toBe(h.received[1].headers['x-cellgraph-delivery']);
    expect(await state.listDeliveries(runId)).toEqual([
      expect.objectContaining({ url: `${h.url}/hook?k=1`, source: 'schedule', status: 'delivered', attempts: 2, statusCode: 200, error: 'HTTP 500 Internal Server Error' })
    ]);
    expect(logs).toEqual([expect.stringMatching(/webhook http:\/\/127\.0\.0\.1:\d+\/hook for run s-nightly-20261124t100000z: attempt 1 of 4 failed \(HTTP 500/)]);
    expect(logs.join('\n')).not.toContain('k=1');
  });

  it('notifies a failure with the error and per-task status; not a cancel; no webhook, no delivery', async () => {
    const h = await hook(() => 200);
    const n = notifier();
    await state.addRunWebhooks('r-1', [{ url: h.url, source: 'run' }]);
    await state.addRunWebhooks('r-2', [{ url: h.url, source: 'run' }]);
    n.listener(await finishedRun('r-1', 'failed'));
    n.listener(await finishedRun('r-2', 'cancelled'));
    n.listener(await finishedRun('r-3', 'succeeded'));
    n.listener({ seq: 1, runId: 'r-1', kind: 'task', task: 'a', status: 'succeeded', time: 'x' });
    await n.idle();
    expect(h.received.map((r) => RunNotification.parse(r.body))).toEqual([
      expect.objectContaining({ runId: 'r-1', status: 'failed', error: 'task b failed', tasks: [expect.objectContaining({ status: 'succeeded' }), expect.objectContaining({ name: 'b', status: 'failed' })] })
    ]);
    expect(RunNotification.parse(h.received[0].body).scheduleId).toBeUndefined();
    expect(await state.listDeliveries('r-2')).toEqual([]);
    expect(await state.listDeliveries('r-3')).toEqual([]);
  });

  it('does not retry a 4xx refusal; gives up after the last attempt against a receiver that hangs, without holding anything', async () => {
    const refusing = await hook(() => 410);
    const hanging = await hook(() => 'hang');
    const n = notifier({ attempts: 3, timeoutMs: 200 });
    await state.addRunWebhooks('r-1', [
      { url: refusing.url, source: 'run' },
      { url: hanging.url, source: 'schedule' }
    ]);
    const run = await finishedRun('r-1', 'succeeded');
    const t0 = Date.now();
    n.listener(run);
    // Returned at once: nothing was delivered yet, the deliveries run in the background.
    expect(refusing.received).toHaveLength(0);
    await n.idle();
    // The hanging receiver held nothing longer than its attempts (3 x 200 ms and backoff).
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(refusing.received).toHaveLength(1);
    expect(hanging.received).toHaveLength(3);
    expect(await state.listDeliveries('r-1')).toEqual([
      expect.objectContaining({ url: refusing.url, status: 'failed', attempts: 1, statusCode: 410 }),
      expect.objectContaining({ url: hanging.url, status: 'failed', attempts: 3, error: 'no answer within 200 ms' })
    ]);
    expect(logs.filter((l) => / failed (after|\(not)/.test(l))).toHaveLength(2);
  });

  it('on stop, leaves a delivery in its backoff pending; the next notifier sends it with the attempts it had left', async () => {
    let up = false;
    const h = await hook(() => (up ? 200 : 503));
    const first = notifier({ backoffMs: 60_000 });
    await state.addRunWebhooks('r-1', [{ url: h.url, source: 'run' }]);
    first.listener(await finishedRun('r-1', 'succeeded'));
    const { waitFor } = await import('@cellgraph/dev/test-support/server-process');
    await waitFor(async () => ((await state.listDeliveries('r-1'))[0]?.attempts === 1 ? true : undefined), 30_000, 'first attempt');
    const t0 = Date.now();
    await first.stop(100);
    // Not the 60 s backoff: stop gives up the wait (the bound leaves room for a loaded machine).
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await state.listDeliveries('r-1')).toEqual([expect.objectContaining({ status: 'pending', attempts: 1 })]);
    first.listener(await finishedRun('r-2', 'succeeded')); // stopped: ignored

    up = true;
    const second = notifier({ backoffMs: 10 });
    expect(await second.resumePending()).toBe(1);
    await second.idle();
    expect(h.received).toHaveLength(2);
    expect(await state.listDeliveries('r-1')).toEqual([expect.objectContaining({ status: 'delivered', attempts: 2, statusCode: 200 })]);
    expect(await state.listDeliveries('r-2')).toEqual([]);
  });
});
