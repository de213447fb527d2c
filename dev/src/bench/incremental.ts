/**
 * Incremental compiler and quick CLI figures (issue 16, points 2 and 3): `POST /compile`
 * after a one-cell edit on the real server, a 500-task notebook's full compile, and the
 * `cellgraph` CLI in fresh processes (validate, edit-and-run, build --push after an edit),
 * with the user cache (V8 compiled code, per-task checks) empty and filled, and each
 * compile in the command's own process (as before the compile daemon) beside the same
 * through the daemon, warm and truly cold (docs/cli-speed.md). Printed, never asserted.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ask } from '@cellgraph/server/dist/compiler/daemon/protocol';
import { pushMachineBaseImage, startRegistry } from '../services/registry';
import { irisProject } from './images';
import { median } from './median';
import { chainNotebook, typedNotebook } from './notebooks';
import { percentile, project, startServer, stopServer, type BenchServer, type Report } from './server';

const ROOT = path.resolve(__dirname, '..', '..', '..');
/** The CLI as users start it: the package's bin, which turns on V8's compile cache. */
const BIN = path.join(path.dirname(require.resolve('@cellgraph/server/package.json')), 'bin', 'cellgraph');

/**
 * CPU time (user + system, ms) a process has used, from /proc: `children` counts its
 * finished children instead. The machine is shared, so wall times move with the load;
 * CPU time is the steadier figure and is printed beside them.
 */
function cpuMs(pid: number | 'self', children = false): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  // After the command name: utime, stime, cutime, cstime are fields 14-17 of stat(5), here 11-14.
  const [user, system] = children ? [fields[13], fields[14]] : [fields[11], fields[12]];
  return ((Number(user) + Number(system)) * 1000) / 100;
}

/** The users' state folder of every CLI command in the bench (the compile daemon's socket lives there). */
function stateDir(cache: string): string {
  return path.join(path.dirname(cache), 'state');
}

/** How a command compiles: through the compile daemon (the default), or in its own process as before it. */
type CompileMode = 'daemon' | 'in-process';

/** This bench's compile daemons (one per build), by the pid each reports. */
async function daemonPids(cache: string): Promise<number[]> {
  const folder = path.join(stateDir(cache), 'cellgraph', 'daemon');
  if (!fs.existsSync(folder)) return [];
  const pids: number[] = [];
  for (const f of fs.readdirSync(folder).filter((n) => n.endsWith('.sock'))) {
    const reply = await ask(path.join(folder, f), { kind: 'ping' }, 5000);
    if (typeof reply === 'object' && reply.kind === 'pong') pids.push(reply.pid);
  }
  return pids;
}

/** CPU time the daemons have used so far (they are not the command's children, so the command's CPU misses it). */
async function daemonCpuMs(cache: string): Promise<number> {
  let total = 0;
  for (const pid of await daemonPids(cache)) {
    try {
      total += cpuMs(pid);
    } catch {
      // It exited meanwhile.
    }
  }
  return total;
}

/** Stops the bench's daemons (the next command starts one: a truly cold compile) and waits until they are gone. */
async function stopDaemons(cache: string): Promise<void> {
  const pids = await daemonPids(cache);
  const folder = path.join(stateDir(cache), 'cellgraph', 'daemon');
  for (const f of fs.readdirSync(folder).filter((n) => n.endsWith('.sock'))) await ask(path.join(folder, f), { kind: 'stop' }, 5000);
  for (const pid of pids) {
    while (fs.existsSync(`/proc/${pid}`)) await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Waits (up to 3 minutes) until the daemon has built its startup snapshot into the user
 * cache (it does once idle for 10 s after a compile), then stops the daemons, so the next
 * command starts one from the snapshot.
 */
async function coldWithSnapshot(cache: string): Promise<boolean> {
  const folder = path.join(cache, 'v8');
  const deadline = Date.now() + 180_000;
  const built = () => fs.existsSync(folder) && fs.readdirSync(folder).some((f) => f.endsWith('.blob'));
  while (!built() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
  await stopDaemons(cache);
  return built();
}

/**
 * Wall and CPU time of one `cellgraph` command in a fresh process, with `cache` as the
 * user's cellgraph cache folder. With the daemon, the CPU time includes what the daemon
 * spent meanwhile.
 */
async function cliRun(cwd: string, cache: string, mode: CompileMode, ...args: string[]): Promise<{ wallMs: number; cpuMs: number }> {
  const daemon0 = mode === 'daemon' ? await daemonCpuMs(cache) : 0;
  const cpu0 = cpuMs('self', true);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      CELLGRAPH_CACHE_DIR: cache,
      XDG_STATE_HOME: stateDir(cache),
      CELLGRAPH_HOME: '',
      CELLGRAPH_COMPILE_DAEMON: mode === 'daemon' ? '' : 'off'
    }
  });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`cellgraph ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const daemon = mode === 'daemon' ? (await daemonCpuMs(cache)) - daemon0 : 0;
  return { wallMs, cpuMs: cpuMs('self', true) - cpu0 + Math.max(0, daemon) };
}

/** Reports a fresh-process command's wall time, and its CPU time on the next row. */
function reportCli(report: Report, name: string, run: { wallMs: number; cpuMs: number }, target?: string): void {
  report(name, run.wallMs, 'ms', target);
  report('  CPU time (user + system) of that process and of the compile daemon meanwhile', run.cpuMs, 'ms');
}

/** A notebook's text with one cell's source changed (a new constant in it). */
function editCell(text: string, cell: number, tag: string): string {
  const nb = JSON.parse(text) as { cells: { source: string | string[] }[] };
  const source = nb.cells[cell].source;
  nb.cells[cell].source = `${Array.isArray(source) ? source.join('') : source}\nconst edited_${tag} = ${JSON.stringify(tag)};`;
  return JSON.stringify(nb);
}

async function compileMs(s: BenchServer, text: string): Promise<number> {
  const t0 = performance.now();
  const res = await s.api('/api/v1/compile', { method: 'POST', json: { notebook: JSON.parse(text) } });
  const body = (await res.json()) as { ok?: boolean };
  if (res.status !== 200 || body.ok !== true) throw new Error(`bench notebook does not compile (${res.status}): ${JSON.stringify(body).slice(0, 400)}`);
  return performance.now() - t0;
}

async function benchServerCompiles(root: string, report: Report): Promise<void> {
  const s = await startServer(project(path.join(root, 'server')), randomBytes(24).toString('hex'));
  try {
    const base = typedNotebook(50);
    // Both workers see the notebook once (a live DAG's first compile), then edits follow.
    await Promise.all([compileMs(s, base), compileMs(s, editCell(base, 4, 'first'))]);
    const edits: number[] = [];
    const pid = s.child.pid ?? 0;
    const cpu0 = cpuMs(pid);
    for (let i = 0; i < 20; i++) edits.push(await compileMs(s, editCell(base, 5 + 2 * (i % 10), `e${i}`)));
    report('POST /compile after a one-cell edit, 50-cell notebook: p50 (20 edits)', percentile(edits, 50), 'ms', '<= 80 ms');
    report('  p90', percentile(edits, 90), 'ms');
    report('  server CPU time per edit (all threads)', (cpuMs(pid) - cpu0) / 20, 'ms');
    const big = typedNotebook(1000);
    let cpu = cpuMs(pid);
    report('POST /compile of a 500-task notebook (1,000 cells), first compile', await compileMs(s, big), 'ms', '<= 3000 ms');
    report('  server CPU time', cpuMs(pid) - cpu, 'ms');
    cpu = cpuMs(pid);
    report('  the same after a one-cell edit', await compileMs(s, editCell(big, 501, 'big')), 'ms', '<= 300 ms');
    report('  server CPU time', cpuMs(pid) - cpu, 'ms');
  } finally {
    await stopServer(s);
  }
}

async function benchCli(root: string, report: Report): Promise<void> {
  const cache = path.join(root, 'user-cache');
  const before = path.join(root, 'user-cache-in-process');
  const hello = path.join(ROOT, 'examples', 'hello', 'hello.ipynb');
  reportCli(report, '`cellgraph validate` hello, fresh process, empty user cache, in-process compile (CELLGRAPH_COMPILE_DAEMON=off, as before)', await cliRun(root, before, 'in-process', 'validate', hello), '<= 1000 ms');
  reportCli(report, '  the same, no daemon running and no startup snapshot yet: this command starts it (truly cold first call)', await cliRun(root, cache, 'daemon', 'validate', hello), '<= 1000 ms');
  // What a user meets after setup: scripts/setup.sh ran `cellgraph daemon prepare examples/iris/iris.ipynb examples/hello/hello.ipynb`.
  const prepared = path.join(root, 'user-cache-prepared');
  const readme = [path.join(ROOT, 'examples', 'iris', 'iris.ipynb'), hello];
  reportCli(report, '  `cellgraph daemon prepare` of iris and hello (setup.sh runs it once per build; no daemon started)', await cliRun(root, prepared, 'daemon', 'daemon', 'prepare', ...readme));
  reportCli(report, '  the same validate after that setup step, empty user cache otherwise: this command starts the daemon from the prepared snapshot', await cliRun(root, prepared, 'daemon', 'validate', hello), '<= 1000 ms');
  await stopDaemons(prepared);
  const warm: { wallMs: number; cpuMs: number }[] = [];
  for (let i = 0; i < 3; i++) warm.push(await cliRun(root, cache, 'daemon', 'validate', hello));
  report('  with the user cache filled, unchanged notebook (median of 3; no compile)', median(warm.map((r) => r.wallMs)), 'ms', '<= 1000 ms');
  report('  CPU time of that process (median of 3)', median(warm.map((r) => r.cpuMs)), 'ms');
  const copy = path.join(project(path.join(root, 'hello')), 'hello.ipynb');
  fs.copyFileSync(hello, copy);
  await cliRun(root, before, 'in-process', 'validate', copy);
  await cliRun(root, cache, 'daemon', 'validate', copy);
  fs.writeFileSync(copy, editCell(fs.readFileSync(hello, 'utf8'), 2, 'edit'));
  reportCli(report, '  after a one-cell edit, in-process compile (as before; one task checked again)', await cliRun(root, before, 'in-process', 'validate', copy), '<= 1000 ms');
  fs.writeFileSync(copy, editCell(fs.readFileSync(hello, 'utf8'), 2, 'edit2'));
  reportCli(report, '  after a one-cell edit, through the compile daemon (warm: started by an earlier command)', await cliRun(root, cache, 'daemon', 'validate', copy), '<= 1000 ms');
  const snapshot = await coldWithSnapshot(cache);
  fs.writeFileSync(copy, editCell(fs.readFileSync(hello, 'utf8'), 2, 'edit3'));
  reportCli(
    report,
    `  after a one-cell edit, no daemon running: this command starts it${snapshot ? ' from its startup snapshot (user cache filled)' : ' (no snapshot was built: plain start)'}`,
    await cliRun(root, cache, 'daemon', 'validate', copy),
    '<= 1000 ms'
  );

  const dir = project(path.join(root, 'chain'));
  const notebook = path.join(dir, 'chain.ipynb');
  const chain = chainNotebook(50);
  fs.writeFileSync(notebook, chain);
  await cliRun(dir, cache, 'daemon', 'run', notebook);
  const edit = (to: string) => {
    const edited = chain.replace('const v49 = v48 + 1;', `const v49 = v48 + ${to};`);
    if (edited === chain) throw new Error('bench edit did not apply');
    fs.writeFileSync(notebook, edited);
  };
  edit('2');
  reportCli(report, 'edit the last task of a 50-task chain, `cellgraph run` again (fresh process), in-process compile (as before)', await cliRun(dir, cache, 'in-process', 'run', notebook), '<= 800 ms');
  edit('3');
  reportCli(report, '  the same through the compile daemon (warm: it compiled this notebook before)', await cliRun(dir, cache, 'daemon', 'run', notebook), '<= 800 ms');
  const more: { wallMs: number; cpuMs: number }[] = [];
  for (let i = 0; i < 3; i++) {
    edit(String(10 + i));
    more.push(await cliRun(dir, cache, 'daemon', 'run', notebook));
  }
  report('  three more edits of it through the warm daemon: median', median(more.map((r) => r.wallMs)), 'ms', '<= 800 ms');
  report('  CPU time of that process and the daemon (median)', median(more.map((r) => r.cpuMs)), 'ms');
  const chainSnapshot = await coldWithSnapshot(cache);
  edit('20');
  reportCli(
    report,
    `  an edit with no daemon running (after its idle exit): this command starts it${chainSnapshot ? ' from its startup snapshot' : ' (no snapshot was built: plain start)'}`,
    await cliRun(dir, cache, 'daemon', 'run', notebook),
    '<= 800 ms'
  );
}

async function benchBuildAfterEdit(root: string, report: Report): Promise<void> {
  const registry = await startRegistry();
  try {
    const base = await pushMachineBaseImage(registry.host);
    const { notebook, text } = irisProject(root);
    const cache = path.join(root, 'user-cache');
    const push = `${registry.host}/bench/iris-cli`;
    const build = (mode: CompileMode) => cliRun(path.dirname(notebook), cache, mode, 'build', notebook, '--push', push, '--base', base);
    await build('daemon');
    const edit = (comment: string) => {
      const edited = text.replace('const knnAccuracy = accuracy(testSet, knnPredictions);', `const knnAccuracy = accuracy(testSet, knnPredictions); // ${comment}`);
      if (edited === text) throw new Error('bench edit did not apply');
      fs.writeFileSync(notebook, edited);
    };
    edit('edited');
    reportCli(report, '`cellgraph build --push` iris after a one-cell edit (fresh process), in-process compile (as before)', await build('in-process'), '<= 1000 ms');
    edit('edited again');
    reportCli(report, '  the same through the compile daemon (warm: it compiled iris before)', await build('daemon'), '<= 1000 ms');
    const snapshot = await coldWithSnapshot(cache);
    edit('edited with no daemon');
    reportCli(report, `  an edit with no daemon running: this command starts it${snapshot ? ' from its startup snapshot' : ' (no snapshot was built: plain start)'}`, await build('daemon'), '<= 1000 ms');
    await stopDaemons(cache);
  } finally {
    await registry.stop();
  }
}

/** Every figure of the incremental compiler and the quick CLI. */
export async function benchIncremental(root: string, report: Report): Promise<void> {
  await benchServerCompiles(root, report);
  await benchCli(root, report);
  await benchBuildAfterEdit(root, report);
}
