/**
 * Global set-up of the Hub UI test (hub.config.js), once per run: a production cellgraph
 * server that signs JupyterHub users in, and a real JupyterHub (dev/src/services/jupyterhub.ts)
 * whose users' single-user servers reach that server with their own Hub identity
 * (CELLGRAPH_PRODUCTION_URL in the spawner's environment, no token). Hub groups map to roles in
 * project `ml`: alice edits, bob views, carol is no member. Returns the teardown, which stops
 * both by PID; the specs read what they need from the environment.
 */
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const repo = path.resolve(__dirname, '..', '..');
const { startJupyterHub } = require(path.join(repo, 'dev', 'dist', 'services', 'jupyterhub.js'));
const { freePort } = require(path.join(repo, 'dev', 'dist', 'services', 'registry.js'));
const { stopLeftovers } = require('../leftovers');

const SERVER_TOKEN = `ui-hub-admin-${process.pid}-0123456789`;

/** Waits for the server's `listening:` line (it listens once it resumed its state). */
async function waitForListening(child, log, ms = 60000) {
  const deadline = Date.now() + ms;
  while (!/^listening: /m.test(log())) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the production cellgraph server did not start:\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

module.exports = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-ui-hub-'));
  const prodDir = path.join(dir, 'production');
  fs.mkdirSync(prodDir);
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(prodDir, 'node_modules'), 'dir');
  const prodPort = await freePort();
  const prodUrl = `http://127.0.0.1:${prodPort}`;
  const hub = await startJupyterHub({
    users: ['alice', 'bob', 'carol'],
    groups: { 'ml-editors': ['alice'], 'ml-viewers': ['bob'] },
    homesDir: path.join(dir, 'homes'),
    spawnerArgs: [`--config=${path.join(__dirname, 'singleuser_config.py')}`],
    // The admin's production URL: the extension reaches it as the user, nothing pasted. The
    // root marker is what leftovers.js looks for: kernels run in sessions of their own and
    // outlive their single-user server, so the teardown ends them by it.
    spawnerEnvironment: { CELLGRAPH_PRODUCTION_URL: prodUrl, JUPYTERLAB_GALATA_ROOT_DIR: dir }
  });
  // Each user's Jupyter root: the hello example, and the repository's packages for its kernel and dev server.
  for (const user of ['alice', 'bob', 'carol']) {
    const home = hub.homeOf(user);
    fs.mkdirSync(home, { recursive: true });
    fs.copyFileSync(path.join(repo, 'examples', 'hello', 'hello.ipynb'), path.join(home, 'hello.ipynb'));
    fs.symlinkSync(path.join(repo, 'node_modules'), path.join(home, 'node_modules'), 'dir');
  }
  let log = '';
  const prod = spawn(process.execPath, [path.join(repo, 'server', 'dist', 'cli', 'main.js'), 'server', '--host', '127.0.0.1', '--port', String(prodPort), '--workdir', prodDir], {
    cwd: prodDir,
    env: {
      ...process.env,
      CELLGRAPH_TOKEN: SERVER_TOKEN,
      CELLGRAPH_HOME: '',
      XDG_STATE_HOME: path.join(dir, 'xdg'),
      JUPYTERHUB_API_URL: hub.apiUrl,
      JUPYTERHUB_API_TOKEN: hub.service.token,
      JUPYTERHUB_SERVICE_NAME: hub.service.name,
      CELLGRAPH_GROUP_ROLES: JSON.stringify({ 'ml-editors': { ml: 'editor' }, 'ml-viewers': { ml: 'viewer' } })
    },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  prod.stdout.on('data', (d) => (log += d));
  prod.stderr.on('data', (d) => (log += d));
  const stop = async () => {
    if (prod.exitCode === null) {
      const exited = new Promise((r) => prod.once('exit', r));
      prod.kill('SIGTERM');
      const t = setTimeout(() => prod.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(t);
    }
    await hub.stop();
    const left = await stopLeftovers(dir);
    if (left.length > 0) process.stderr.write(`[ui-tests hub] ended ${left.length} process(es) the single-user servers left running: ${left.join(', ')}\n`);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForListening(prod, () => log);
    // The admin creates the project; roles in it come from the Hub groups.
    const res = await fetch(`${prodUrl}/api/v1/projects`, { method: 'POST', headers: { authorization: `Bearer ${SERVER_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ml' }) });
    if (res.status !== 201) throw new Error(`creating project ml: HTTP ${res.status} ${await res.text()}`);
  } catch (err) {
    await stop();
    throw err;
  }
  process.env.CELLGRAPH_UI_HUB_URL = hub.url;
  process.env.CELLGRAPH_UI_HUB_PASSWORD = hub.password;
  process.env.CELLGRAPH_UI_HUB_PROD_URL = prodUrl;
  process.env.CELLGRAPH_UI_HUB_PROD_TOKEN = SERVER_TOKEN;
  return stop;
};
