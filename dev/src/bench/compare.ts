/**
 * Issue 16's side-by-side: the same 50-task chain (each task adds one to its upstream's
 * integer) run by `cellgraph run --no-cache`, Flyte local (`pyflyte run`, tasks in one
 * process) and Metaflow local (`python flow.py run`, a process per step), each a fresh
 * process timed from start to exit, in one bench invocation. Flytekit and Metaflow come
 * from PyPI into a venv of their own, installed on first use and reused after.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chainNotebook } from './notebooks';

type Report = (name: string, value: number, unit: string, target?: string) => void;

const TASKS = 50;
const PACKAGES = ['flytekit', 'metaflow'];

/** The venv the comparison tools live in (CELLGRAPH_BENCH_VENV, else ~/.cache/cellgraph/bench-venv). */
function venvDir(): string {
  return process.env.CELLGRAPH_BENCH_VENV ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'cellgraph', 'bench-venv');
}

/** Creates the venv and installs the tools unless a previous bench did; returns why not when it cannot. */
function ensureVenv(dir: string): string | undefined {
  const stamp = path.join(dir, '.cellgraph-bench-stamp');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === PACKAGES.join(' ')) return undefined;
  process.stdout.write(`  installing ${PACKAGES.join(', ')} from PyPI into ${dir} (once)\n`);
  const steps: [string, string[]][] = [
    ['python3', ['-m', 'venv', dir]],
    [path.join(dir, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...PACKAGES]]
  ];
  for (const [cmd, args] of steps) {
    const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) return `${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').trim().slice(-600)}`;
  }
  fs.writeFileSync(stamp, PACKAGES.join(' '));
  return undefined;
}

function flyteChain(n: number): string {
  return [
    'from flytekit import task, workflow',
    '',
    '@task',
    'def inc(x: int) -> int:',
    '    return x + 1',
    '',
    '@workflow',
    'def chain(start: int = 1) -> int:',
    '    v = start',
    `    for _ in range(${n}):`,
    '        v = inc(x=v)',
    '    return v',
    ''
  ].join('\n');
}

function metaflowChain(n: number): string {
  const lines = ['from metaflow import FlowSpec, step', '', 'class ChainFlow(FlowSpec):', '    @step', '    def start(self):', '        self.v = 1', '        self.next(self.s0)'];
  for (let i = 0; i < n; i++) {
    lines.push('    @step', `    def s${i}(self):`, '        self.v = self.v + 1', `        self.next(self.${i + 1 < n ? `s${i + 1}` : 'end'})`);
  }
  lines.push('    @step', '    def end(self):', '        print("v=%d" % self.v)', '', "if __name__ == '__main__':", '    ChainFlow()', '');
  return lines.join('\n');
}

/** Wall time of one command run to its end, or why it failed. */
function timed(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): { ms: number } | { error: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - t0;
  if (r.status !== 0) return { error: `${path.basename(cmd)} ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout || r.error?.message || '').trim().slice(-800)}` };
  return { ms };
}

/** Issue 16's comparison: per-task wall time of the 50-task chain in cellgraph, Flyte and Metaflow, and the ratios. */
export async function benchCompare(root: string, report: Report): Promise<void> {
  const cliPath = require.resolve('@cellgraph/server/dist/cli/main.js');
  const cgDir = path.join(root, 'cellgraph');
  fs.mkdirSync(cgDir);
  fs.writeFileSync(path.join(cgDir, 'chain.ipynb'), chainNotebook(TASKS));
  const cgEnv = { ...process.env, XDG_STATE_HOME: path.join(cgDir, 'xdg') };
  // First run compiles and fills the compile cache; the timed one is a no-cache re-run, as the issue measured.
  const warm = timed(process.execPath, [cliPath, 'run', 'chain.ipynb'], cgDir, cgEnv);
  if ('error' in warm) throw new Error(warm.error);
  const cg = timed(process.execPath, [cliPath, 'run', '--no-cache', 'chain.ipynb'], cgDir, cgEnv);
  if ('error' in cg) throw new Error(cg.error);
  report(`\`cellgraph run --no-cache\`, ${TASKS}-task chain, fresh process: per task (wall / ${TASKS})`, cg.ms / TASKS, 'ms', '<= 30 ms');

  const venv = venvDir();
  const why = ensureVenv(venv);
  if (why !== undefined) {
    process.stdout.write(`  Flyte and Metaflow not measured: ${why}\n`);
    return;
  }
  const py = path.join(venv, 'bin', 'python');
  const env = { ...process.env, USER: process.env.USER ?? 'bench', USERNAME: process.env.USERNAME ?? 'bench', PYTHONDONTWRITEBYTECODE: undefined };
  const others: [string, number | string][] = [];

  const flyteDir = path.join(root, 'flyte');
  fs.mkdirSync(flyteDir);
  fs.writeFileSync(path.join(flyteDir, 'warmup.py'), flyteChain(2));
  fs.writeFileSync(path.join(flyteDir, 'chain.py'), flyteChain(TASKS));
  const pyflyte = path.join(venv, 'bin', 'pyflyte');
  timed(pyflyte, ['run', 'warmup.py', 'chain'], flyteDir, env);
  const flyte = timed(pyflyte, ['run', 'chain.py', 'chain'], flyteDir, env);
  others.push(['Flyte local (`pyflyte run`, tasks in one process)', 'error' in flyte ? flyte.error : flyte.ms]);

  const mfDir = path.join(root, 'metaflow');
  fs.mkdirSync(mfDir);
  fs.writeFileSync(path.join(mfDir, 'warmup.py'), metaflowChain(2));
  fs.writeFileSync(path.join(mfDir, 'chain.py'), metaflowChain(TASKS));
  const mfEnv = { ...env, METAFLOW_HOME: mfDir, METAFLOW_DEFAULT_DATASTORE: 'local', METAFLOW_DEFAULT_METADATA: 'local' };
  timed(py, ['warmup.py', '--no-pylint', 'run'], mfDir, mfEnv);
  const mf = timed(py, ['chain.py', '--no-pylint', 'run'], mfDir, mfEnv);
  others.push([`Metaflow local (\`python flow.py run\`, ${TASKS} steps + start + end, a process per step)`, 'error' in mf ? mf.error : mf.ms]);

  for (const [name, ms] of others) {
    if (typeof ms === 'string') {
      process.stdout.write(`  ${name}: not measured: ${ms}\n`);
      continue;
    }
    report(`${name}: per task (wall / ${TASKS})`, ms / TASKS, 'ms');
    report(`  ratio cellgraph / ${name.split(' (')[0]} (per task; < 1 means cellgraph is faster)`, cg.ms / ms, 'x');
  }
}
