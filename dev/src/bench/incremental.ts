/**
 * Incremental compiler and quick CLI figures (issue 16, points 2 and 3): `POST /compile`
 * after a one-cell edit on the real server, a 500-task notebook's full compile, and the
 * `cellgraph` CLI in fresh processes (validate, edit-and-run, build --push after an edit),
 * with the user cache (V8 compiled code, per-task checks) empty and filled.
 * Printed, never asserted.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
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

/** Wall and CPU time of one `cellgraph` command in a fresh process, with `cache` as the user's cellgraph cache folder. */
function cliRun(cwd: string, cache: string, ...args: string[]): { wallMs: number; cpuMs: number } {
  const cpu0 = cpuMs('self', true);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CELLGRAPH_CACHE_DIR: cache, XDG_STATE_HOME: path.join(cwd, 'xdg'), CELLGRAPH_HOME: '' }
  });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`cellgraph ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { wallMs, cpuMs: cpuMs('self', true) - cpu0 };
}

/** Reports a fresh-process command's wall time, and its CPU time on the next row. */
function reportCli(report: Report, name: string, run: { wallMs: number; cpuMs: number }, target?: string): void {
  report(name, run.wallMs, 'ms', target);
  report('  CPU time of that process (user + system)', run.cpuMs, 'ms');
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
  const hello = path.join(ROOT, 'examples', 'hello', 'hello.ipynb');
  reportCli(report, '`cellgraph validate` hello, fresh process, empty user cache', cliRun(root, cache, 'validate', hello), '<= 1000 ms');
  const warm = [0, 1, 2].map(() => cliRun(root, cache, 'validate', hello));
  report('  with the user cache filled (median of 3)', median(warm.map((r) => r.wallMs)), 'ms', '<= 1000 ms');
  report('  CPU time of that process (median of 3)', median(warm.map((r) => r.cpuMs)), 'ms');
  const copy = path.join(project(path.join(root, 'hello')), 'hello.ipynb');
  fs.copyFileSync(hello, copy);
  cliRun(root, cache, 'validate', copy);
  fs.writeFileSync(copy, editCell(fs.readFileSync(hello, 'utf8'), 2, 'edit'));
  reportCli(report, '  after a one-cell edit (a compile: one task checked again)', cliRun(root, cache, 'validate', copy), '<= 1000 ms');

  const dir = project(path.join(root, 'chain'));
  const notebook = path.join(dir, 'chain.ipynb');
  const chain = chainNotebook(50);
  fs.writeFileSync(notebook, chain);
  cliRun(dir, cache, 'run', notebook);
  const edited = chain.replace('const v49 = v48 + 1;', 'const v49 = v48 + 2;');
  if (edited === chain) throw new Error('bench edit did not apply');
  fs.writeFileSync(notebook, edited);
  reportCli(report, 'edit the last task of a 50-task chain, `cellgraph run` again (fresh process)', cliRun(dir, cache, 'run', notebook), '<= 800 ms');
  const more = [0, 1, 2].map((i) => {
    fs.writeFileSync(notebook, editCell(edited, 50, `m${i}`));
    return cliRun(dir, cache, 'run', notebook);
  });
  report('  three more edits of it: median', median(more.map((r) => r.wallMs)), 'ms', '<= 800 ms');
  report('  CPU time of that process (median)', median(more.map((r) => r.cpuMs)), 'ms');
}

async function benchBuildAfterEdit(root: string, report: Report): Promise<void> {
  const registry = await startRegistry();
  try {
    const base = await pushMachineBaseImage(registry.host);
    const { notebook, text } = irisProject(root);
    const cache = path.join(root, 'user-cache');
    const push = `${registry.host}/bench/iris-cli`;
    const build = () => cliRun(path.dirname(notebook), cache, 'build', notebook, '--push', push, '--base', base);
    build();
    const edited = text.replace('const knnAccuracy = accuracy(testSet, knnPredictions);', 'const knnAccuracy = accuracy(testSet, knnPredictions); // edited');
    if (edited === text) throw new Error('bench edit did not apply');
    fs.writeFileSync(notebook, edited);
    reportCli(report, '`cellgraph build --push` iris after a one-cell edit (fresh process)', build(), '<= 1000 ms');
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
