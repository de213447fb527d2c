/**
 * The install-outside test's JupyterLab, as Playwright's webServer runs it. First it installs
 * cellgraph the way a user outside this repository would, into JUPYTERLAB_GALATA_ROOT_DIR (a
 * fresh directory outside the repository) and nothing else:
 *   - the npm packages as `npm pack` makes them (@cellgraph/schema, @cellgraph/kernel,
 *     @cellgraph/server) and tslab from the registry: `npm install` in the root;
 *   - a fresh venv with the wheel `python -m build` makes and JupyterLab from PyPI;
 *   - tslab's kernelspec into that venv;
 *   - a data file in analysis/ (the test creates the notebook next to it).
 * Then it starts that venv's `jupyter lab` (Galata's test configuration) in the root, with a
 * PATH holding Node but none of the repository's packages, and stops it (and what it left
 * running) on SIGTERM like ../jupyterlab-server.js. npm's and pip's caches are reused.
 */
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { stopLeftovers } = require('../leftovers');

const repo = path.resolve(__dirname, '..', '..');
const root = process.env.JUPYTERLAB_GALATA_ROOT_DIR;
if (!root) throw new Error('JUPYTERLAB_GALATA_ROOT_DIR is not set (install-outside.config.js sets it)');
if (!path.relative(repo, root).startsWith('..')) throw new Error(`${root} is inside the repository`);

const log = (msg) => process.stderr.write(`[install-outside] ${msg}\n`);
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...opts });

/** Node first on PATH, the system's tools after it; nothing from the repository's node_modules. */
const cleanPath = [path.dirname(process.execPath), ...(process.env.PATH || '').split(':').filter((p) => p && !p.startsWith(repo))].join(':');
const env = { ...process.env, PATH: cleanPath };
delete env.CELLGRAPH_CLI;

function prepare() {
  const artifacts = path.join(root, '.artifacts');
  fs.mkdirSync(artifacts, { recursive: true });
  const started = Date.now();
  log('packing @cellgraph/schema, @cellgraph/kernel, @cellgraph/server');
  const tarballs = ['schema', 'kernel-lib', 'server'].map((p) => {
    const out = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', artifacts], { cwd: path.join(repo, p), env }));
    return path.join(artifacts, out[0].filename);
  });
  log('building the cellgraph-jupyterlab wheel (python -m build)');
  const buildVenv = path.join(artifacts, 'build-venv');
  sh('python3', ['-m', 'venv', buildVenv]);
  sh(path.join(buildVenv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', 'build==1.2.2.post1']);
  sh(path.join(buildVenv, 'bin', 'python'), ['-m', 'build', '--outdir', artifacts, repo], { stdio: ['ignore', 'ignore', 'inherit'] });
  const wheel = path.join(artifacts, fs.readdirSync(artifacts).find((f) => f.endsWith('.whl')));

  log('npm install (the packs and tslab) in the root');
  sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs, 'tslab@1.0.22'], { cwd: root, env });
  log('a fresh venv with the wheel and JupyterLab');
  const venv = path.join(root, '.venv');
  sh('python3', ['-m', 'venv', venv]);
  sh(path.join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', wheel, 'jupyterlab==4.6.4']);
  log("tslab's kernelspec into the venv");
  sh(path.join(root, 'node_modules', '.bin', 'tslab'), ['install', `--python=${path.join(venv, 'bin', 'python')}`, '--sys-prefix', `--binary=${path.join(root, 'node_modules', '.bin', 'tslab')}`], { cwd: root, env });

  fs.mkdirSync(path.join(root, 'analysis'), { recursive: true });
  fs.copyFileSync(path.join(__dirname, 'analysis', 'data.json'), path.join(root, 'analysis', 'data.json'));
  log(`installed in ${Math.round((Date.now() - started) / 1000)} s`);
}

prepare();
const lab = spawn(path.join(root, '.venv', 'bin', 'jupyter'), ['lab', '--config', path.join(__dirname, '..', 'jupyter_server_test_config.py')], {
  cwd: root,
  env,
  stdio: ['ignore', 'pipe', 'pipe']
});
lab.stdout.pipe(process.stdout);
lab.stderr.pipe(process.stderr);
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => lab.kill('SIGTERM'));
lab.on('exit', (code, sig) => {
  void stopLeftovers(root).then((pids) => {
    if (pids.length > 0) log(`ended ${pids.length} process(es) JupyterLab left running: ${pids.join(', ')}`);
    process.exit(code ?? (sig ? 1 : 0));
  });
});
