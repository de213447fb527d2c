/**
 * A compile worker thread: loads the compiler once, warms TypeScript's library parsing with
 * a trivial notebook (the parsed lib files stay cached in this thread, see
 * typescript-host.ts), then compiles one job at a time. The pool enforces the limits: it
 * terminates this thread when a job runs too long, and V8 ends it when its heap is full.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { stamp, type InputStamp } from '../compile-cache';
import { compileNotebook } from '../index';
import { forgetPrograms } from '../program-reuse';
import type { CompileJob, WorkerMessage } from './protocol';

/** How much lower than the server's thread a compile runs (nice values, 0..19). */
const COMPILE_NICENESS = 10;

const port = parentPort;
if (port === null) throw new Error('compile-worker.js runs as a worker thread of the compile pool');

/**
 * Compiles yield the CPU to the server's event loop: on Linux a nice value belongs to a
 * thread (setpriority(2), "BUGS"), so this lowers only this worker, and health checks and
 * request routing win any contention with a type check. Elsewhere it may apply to the
 * whole process or fail; both are harmless, so failure is ignored.
 */
if (os.platform() === 'linux') {
  try {
    os.setPriority(0, COMPILE_NICENESS);
  } catch {
    // Not permitted here (a sandbox); compiles then share the CPU evenly.
  }
}

const WARM_UP = JSON.stringify({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [{ cell_type: 'code', source: 'const warm: number = 1;', metadata: { cellgraph: { task: 'warm' } }, outputs: [], execution_count: null }]
});
compileNotebook({ path: path.join(os.tmpdir(), 'cellgraph-warm-up.ipynb'), text: WARM_UP });
// The parsed libraries stay (typescript-host.ts); the warm-up's programs would only hold memory.
forgetPrograms();

const send = (m: WorkerMessage) => port.postMessage(m);
port.on('message', (job: CompileJob) => {
  try {
    const result = compileNotebook(job.input);
    const stamps = result.ok ? result.inputs.map(stamp).filter((s): s is InputStamp => s !== undefined) : [];
    send({ kind: 'done', id: job.id, result, stamps });
  } catch (e) {
    send({ kind: 'failed', id: job.id, message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
send({ kind: 'ready' });
