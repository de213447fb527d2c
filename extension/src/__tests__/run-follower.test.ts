/** Following a run live: events trigger fetches (coalesced), polling when there is no stream, nothing after the end. */
import { RunFollower } from '../run-follower';
import { FakeServer, runDetail, runEvent } from './fake-server';

const RUN = 'r-20261201t000000-abc123';
const DETAIL = `api/v1/runs/${RUN}`;

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

it('fetches the run at once, again after events (a burst costs one fetch), and stops when it finished', async () => {
  const server = new FakeServer();
  let status: 'running' | 'succeeded' = 'running';
  server.answers.set(DETAIL, () => runDetail(RUN, status, { greet: status === 'running' ? 'running' : 'succeeded' }));
  server.stream = { events: [runEvent(RUN, 0, 'greet', 'running'), runEvent(RUN, 1, 'greet', 'succeeded'), runEvent(RUN, 2, 'shout', 'running')], end: 'close' };
  const seen: string[] = [];
  const follower = new RunFollower(server, RUN, (run) => seen.push(run.status), (err) => seen.push(`error ${err.message}`));
  await jest.advanceTimersByTimeAsync(0);
  status = 'succeeded';
  await jest.advanceTimersByTimeAsync(2000);
  const fetches = server.calls.filter((c) => c === DETAIL).length;
  // One at the start, one or two for the burst of three events, one when the stream closed.
  expect(fetches).toBeGreaterThanOrEqual(2);
  expect(fetches).toBeLessThanOrEqual(4);
  expect(seen[0]).toBe('running');
  expect(seen[seen.length - 1]).toBe('succeeded');
  expect(follower.run?.status).toBe('succeeded');
  await jest.advanceTimersByTimeAsync(10_000);
  expect(server.calls.filter((c) => c === DETAIL).length).toBe(fetches);
  expect(server.streamsOpened).toBe(1);
  follower.dispose();
});

it('polls each second when the event stream cannot be opened, until the run ends', async () => {
  const server = new FakeServer();
  let polls = 0;
  server.answers.set(DETAIL, () => runDetail(RUN, ++polls >= 4 ? 'failed' : 'running', { greet: 'running' }));
  server.stream = { events: [], end: 'fail' };
  const statuses: string[] = [];
  const follower = new RunFollower(server, RUN, (run) => statuses.push(run.status), () => undefined);
  await jest.advanceTimersByTimeAsync(3500);
  expect(statuses).toEqual(['running', 'running', 'running', 'failed']);
  await jest.advanceTimersByTimeAsync(5000);
  expect(polls).toBe(4);
  follower.dispose();
});

it('reports a failed fetch and keeps following; nothing happens after dispose', async () => {
  const server = new FakeServer();
  let calls = 0;
  server.answers.set(DETAIL, () => (++calls === 2 ? new Error('HTTP 502') : runDetail(RUN, 'running', { greet: 'running' })));
  server.stream = { events: [], end: 'fail' };
  const errors: string[] = [];
  const follower = new RunFollower(server, RUN, () => undefined, (err) => errors.push(err.message));
  await jest.advanceTimersByTimeAsync(2500);
  expect(errors).toEqual(['HTTP 502']);
  expect(calls).toBe(3);
  follower.dispose();
  await jest.advanceTimersByTimeAsync(5000);
  expect(calls).toBe(3);
});

it('fetches each second while a foreach task has elements to run (its counts change without events), then stops', async () => {
  const server = new FakeServer();
  let fetches = 0;
  server.answers.set(DETAIL, () => {
    fetches += 1;
    const done = fetches >= 4;
    const detail = runDetail(RUN, 'running', { train: done ? 'succeeded' : 'running' });
    detail.tasks[0].elements = { total: 20, succeeded: done ? 20 : fetches * 5, cached: 0, failed: 0, running: done ? 0 : 2, pending: done ? 0 : 18 - fetches * 5 };
    return detail;
  });
  server.stream = { events: [], end: 'hang' };
  const counts: number[] = [];
  const follower = new RunFollower(server, RUN, (run) => counts.push(run.tasks[0].elements?.succeeded ?? -1), () => undefined);
  await jest.advanceTimersByTimeAsync(3500);
  expect(counts).toEqual([5, 10, 15, 20]);
  // No element left to run and no event: no more fetches.
  await jest.advanceTimersByTimeAsync(5000);
  expect(fetches).toBe(4);
  follower.dispose();
});
