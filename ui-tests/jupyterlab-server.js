/**
 * The UI tests' JupyterLab, as Playwright's webServer runs it: `.venv/bin/jupyter lab` with
 * Galata's test configuration, its output relayed. On SIGTERM it stops JupyterLab, then ends
 * whatever JupyterLab left running for this root (see leftovers.js) before exiting, so the
 * test run neither leaks kernels nor waits on a pipe an orphaned kernel still holds.
 */
const { spawn } = require('child_process');
const path = require('path');
const { stopLeftovers } = require('./leftovers');

const repo = path.resolve(__dirname, '..');
const root = process.env.JUPYTERLAB_GALATA_ROOT_DIR;
if (!root) throw new Error('JUPYTERLAB_GALATA_ROOT_DIR is not set (playwright.config.js sets it)');
const lab = spawn(path.join(repo, '.venv', 'bin', 'jupyter'), ['lab', '--config', path.join(__dirname, 'jupyter_server_test_config.py')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
lab.stdout.pipe(process.stdout);
lab.stderr.pipe(process.stderr);
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => lab.kill('SIGTERM'));
lab.on('exit', (code, sig) => {
  void stopLeftovers(root).then((pids) => {
    if (pids.length > 0) process.stderr.write(`[ui-tests] ended ${pids.length} process(es) JupyterLab left running: ${pids.join(', ')}\n`);
    process.exit(code ?? (sig ? 1 : 0));
  });
});
