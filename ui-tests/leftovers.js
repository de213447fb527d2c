/**
 * Processes a test JupyterLab left behind: kernels run in sessions of their own, so stopping
 * JupyterLab's process group does not reach them, and a kernel JupyterLab lost track of (one
 * shut down while it was still starting) outlives it. Every process JupyterLab starts for a
 * root inherits JUPYTERLAB_GALATA_ROOT_DIR=<root>; those, and only those, are ended here, by PID.
 */
const fs = require('fs');

/** PIDs of live processes started for `root` (read from /proc; none elsewhere). */
function processesOf(root) {
  const marker = `JUPYTERLAB_GALATA_ROOT_DIR=${root}\0`;
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/environ`, 'latin1').includes(marker)) pids.push(Number(entry));
    } catch {
      // gone already, or not ours to read
    }
  }
  return pids;
}

/** SIGTERM to each leftover of `root`, SIGKILL to those still there after `graceMs`. */
async function stopLeftovers(root, graceMs = 3000) {
  const signal = (pids, sig) => pids.forEach((pid) => { try { process.kill(pid, sig); } catch { /* already gone */ } });
  const first = processesOf(root);
  if (first.length === 0) return [];
  signal(first, 'SIGTERM');
  for (let waited = 0; waited < graceMs && processesOf(root).length > 0; waited += 100) await new Promise((r) => setTimeout(r, 100));
  signal(processesOf(root), 'SIGKILL');
  return first;
}

module.exports = { processesOf, stopLeftovers };
