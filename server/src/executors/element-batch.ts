/**
 * The task process's side of a batch of foreach elements (docs/dynamic-workflows.md,
 * "Elements in batches"): one process runs elements of one task one after another, each
 * an attempt of its own (its module evaluated afresh, its inputs decoded afresh, its result
 * and cells filed under its element), and marks the end of each element's output on stdout
 * and stderr so the executor files every element's log apart.
 *
 * What one element could leave for the next is put back or detected: environment variables
 * and the working directory are restored; a new global property or a handle still keeping
 * the process alive (a timer, a socket, a child process) ends the batch after that element,
 * so the next element starts in a fresh process.
 */
import { ElementAssignment, elementEndMarker } from './task-entry-protocol';

/** What the process looks like between elements: anything beyond it was left by an element. */
interface Baseline {
  globals: Set<string>;
  resources: Map<string, number>;
  env: Record<string, string | undefined>;
  cwd: string;
}

/**
 * Runs `first`, then each element arriving on stdin, with `runOne` (the task entry's
 * attempt: result filed in the store, exit code returned). Returns when an element left
 * state behind; an error of the store (not of user code) propagates and ends the process,
 * failing the element in flight as a cold process would.
 */
export async function runElementBatch(first: string, nonce: string, runOne: (invocation: string) => Promise<number>): Promise<number> {
  const lines = stdinLines();
  const baseline = snapshot();
  let invocation = first;
  for (;;) {
    await runOne(invocation);
    restore(baseline);
    const more = unchanged(baseline);
    await writeMarkers(elementEndMarker(nonce, more));
    if (!more) return 0;
    invocation = ElementAssignment.parse(JSON.parse(await lines.next())).invocation;
  }
}

function snapshot(): Baseline {
  return { globals: new Set(Object.getOwnPropertyNames(globalThis)), resources: countResources(), env: { ...process.env }, cwd: process.cwd() };
}

/** Environment and working directory as they were before the batch's first element. */
function restore(baseline: Baseline): void {
  for (const name of Object.keys(process.env)) if (!(name in baseline.env)) delete process.env[name];
  for (const [name, value] of Object.entries(baseline.env)) if (process.env[name] !== value) process.env[name] = value;
  if (process.cwd() !== baseline.cwd) process.chdir(baseline.cwd);
}

/** True when the element added no global and left no handle that keeps the process alive. */
function unchanged(baseline: Baseline): boolean {
  for (const name of Object.getOwnPropertyNames(globalThis)) if (!baseline.globals.has(name)) return false;
  for (const [type, n] of countResources()) if (n > (baseline.resources.get(type) ?? 0)) return false;
  return true;
}

/**
 * Handles keeping the event loop alive, by type (unref'd timers do not count). Requests in
 * flight (`FSReqPromise`, `GetAddrInfoReqWrap`, ...) end by themselves and are left out:
 * the runner's own store writes leave one behind now and then.
 */
function countResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) if (!/Req/.test(type)) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

function writeMarkers(marker: string): Promise<void> {
  const write = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write(marker, () => resolve()));
  return Promise.all([write(process.stdout), write(process.stderr)]).then(() => undefined);
}

/** Lines arriving on stdin from now on (the first assignment was read before). */
function stdinLines(): { next(): Promise<string> } {
  const ready: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let buffered = '';
  process.stdin.on('data', (chunk: string | Buffer) => {
    buffered += chunk.toString();
    for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      const take = waiting.shift();
      if (take !== undefined) take(line);
      else ready.push(line);
    }
  });
  return {
    next: () => {
      const line = ready.shift();
      return line !== undefined ? Promise.resolve(line) : new Promise((resolve) => waiting.push(resolve));
    }
  };
}
