/**
 * The compile pool: one flight per identical compile, a cache by content, and compiles
 * past their time or memory limit stopped with an error naming the limit. Runs the built
 * worker (dist/), as the server does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CompileLimitError } from '../../../errors';
import { code, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { cleanup, notebookDir } from '../../__tests__/helpers';
import { CompilePool } from '../compile-pool';
import { typeBombNotebook } from '@cellgraph/dev/bench/notebooks';

const pools: CompilePool[] = [];
function pool(options: ConstructorParameters<typeof CompilePool>[0]): CompilePool {
  const p = new CompilePool(options);
  pools.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});
afterAll(cleanup);

const small = (n: number) => notebookText([code(`const x: number = ${n};`, { task: 'a' }), code('const y: number = x + 1;', { task: 'b' })]);
const input = (text: string, name = 'nb.ipynb') => ({ path: path.join(notebookDir(), name), text });

it('shares one compile among identical concurrent requests, then answers from its cache', async () => {
  const p = pool({ workers: 2 });
  const results = await Promise.all(Array.from({ length: 5 }, () => p.compile(input(small(1)))));
  expect(p.stats).toMatchObject({ compiled: 1, joined: 4, cacheHits: 0 });
  expect(results.every((r) => r.ok && r.ir.tasks.map((t) => t.name).join() === 'a,b')).toBe(true);
  expect(new Set(results).size).toBe(1);

  await p.compile(input(small(1)));
  expect(p.stats).toMatchObject({ compiled: 1, cacheHits: 1 });
  // Another text, or the same text at another path (another workflow name), is another compile.
  await p.compile(input(small(2)));
  await p.compile(input(small(1), 'other.ipynb'));
  expect(p.stats.compiled).toBe(3);
});

it('compiles again when a file the checker read has changed since', async () => {
  const helper = path.join(notebookDir(), 'pool-helper.ts');
  fs.writeFileSync(helper, 'export function double(n: number): number { return n * 2; }\n');
  const text = notebookText([code('import { double } from "./pool-helper";', { role: 'setup' }), code('const x: number = double(2);', { task: 'a' })]);
  const p = pool({ workers: 1 });
  expect((await p.compile(input(text, 'helper-nb.ipynb'))).ok).toBe(true);
  fs.writeFileSync(helper, 'export function double(n: number): string { return String(n * 2); }\n');
  const after = await p.compile(input(text, 'helper-nb.ipynb'));
  expect(p.stats).toMatchObject({ compiled: 2, cacheHits: 0 });
  expect(after.ok).toBe(false);
});

it('stops a compile past its time limit with an error naming the limit, and keeps compiling with a new worker', async () => {
  const p = pool({ workers: 1, timeoutMs: 1500, settings: { time: '--compile-timeout-seconds', memory: '--compile-memory-mb' } });
  const started = Date.now();
  const bomb = p.compile(input(typeBombNotebook(), 'bomb.ipynb'));
  const after = p.compile(input(small(3)));
  await expect(bomb).rejects.toThrow(new CompileLimitError('time', 1.5, '--compile-timeout-seconds'));
  await expect(bomb).rejects.toThrow('the compile ran past its time limit of 1.5 s (--compile-timeout-seconds) and was stopped; nothing was run');
  expect((await after).ok).toBe(true);
  expect(p.stats).toMatchObject({ limited: 1, compiled: 2 });
  // The limit counts the compile, not the worker's start: well under the bomb's ~50 s.
  expect(Date.now() - started).toBeLessThan(30_000);
});

it('stops a compile past its memory limit with an error naming the limit', async () => {
  const p = pool({ workers: 1, memoryMb: 160 });
  const bomb = p.compile(input(typeBombNotebook(), 'bomb.ipynb'));
  await expect(bomb).rejects.toMatchObject({ name: 'CompileLimitError', limit: 'memory', value: 160 });
  expect((await p.compile(input(small(4)))).ok).toBe(true);
});

it('rejects compiles still waiting when closed, as unavailable', async () => {
  const p = pool({ workers: 1 });
  const waiting = p.compile(input(small(5)));
  await p.close();
  await expect(waiting).rejects.toMatchObject({ name: 'CompileUnavailableError', message: 'the compile pool is closed: the server is stopping' });
  await expect(p.compile(input(small(5)))).rejects.toThrow('the compile pool is closed');
});

it('refuses a compile when the queue is full, and still joins one already in flight', async () => {
  const p = pool({ workers: 1, maxQueue: 2 });
  const queued = [p.compile(input(small(10))), p.compile(input(small(11)))];
  await expect(p.compile(input(small(12)))).rejects.toMatchObject({ name: 'CompileUnavailableError' });
  const joined = p.compile(input(small(11)));
  expect(p.stats.joined).toBe(1);
  expect((await Promise.all([...queued, joined])).every((r) => r.ok)).toBe(true);
});

it("sends a notebook's next compile to the worker that compiled it (its programs and checks are there)", async () => {
  const p = pool({ workers: 2 });
  const [a1, b1] = await Promise.all([p.compile(input(small(10), 'affinity-a.ipynb')), p.compile(input(small(20), 'affinity-b.ipynb'))]);
  expect(a1.ok && b1.ok).toBe(true);
  expect(p.stats).toMatchObject({ compiled: 2, sameWorker: 0 });
  // One after the other, both workers idle: each edit goes where its notebook was compiled.
  expect((await p.compile(input(small(11), 'affinity-a.ipynb'))).ok).toBe(true);
  expect((await p.compile(input(small(21), 'affinity-b.ipynb'))).ok).toBe(true);
  expect((await p.compile(input(small(12), 'affinity-a.ipynb'))).ok).toBe(true);
  expect(p.stats).toMatchObject({ compiled: 5, sameWorker: 3 });
});
