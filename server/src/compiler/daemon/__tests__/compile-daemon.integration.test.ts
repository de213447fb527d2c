/**
 * The CLI's compile daemon with real processes, as users meet it: each command is a fresh
 * `cellgraph` process through the package's bin; the daemon is the detached process the
 * first one starts. What must hold: an answer identical to the in-process compile, one
 * daemon for concurrent CLIs, recovery from a killed daemon, and a CLI that still works
 * when the daemon cannot be used (unusable state folder, another build at the socket).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { TestCell, code, linkNodeModules, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { ask } from '../protocol';

jest.setTimeout(180_000);

const BIN = path.resolve(__dirname, '..', '..', '..', '..', 'bin', 'cellgraph');
let dir: string;
let daemonFolder: string;
const fakes: net.Server[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-daemon-'));
  linkNodeModules(dir);
  daemonFolder = path.join(dir, 'xdg', 'cellgraph', 'daemon');
});

afterEach(async () => {
  for (const f of fakes.splice(0)) f.close();
  // Stop the daemons this test started (by the pid each reports), then remove their folder.
  for (const pid of await daemonPids()) stop(pid);
  fs.rmSync(dir, { recursive: true, force: true });
});

function stop(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sockets(): string[] {
  if (!fs.existsSync(daemonFolder)) return [];
  return fs
    .readdirSync(daemonFolder)
    .filter((f) => f.endsWith('.sock'))
    .map((f) => path.join(daemonFolder, f));
}

async function daemonPids(): Promise<number[]> {
  const pids: number[] = [];
  for (const s of sockets()) {
    const reply = await ask(s, { kind: 'ping' }, 5000);
    if (typeof reply === 'object' && reply.kind === 'pong') pids.push(reply.pid);
  }
  return pids;
}

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

type Run = { code: number; stdout: string; stderr: string };

/** `cellgraph validate <file>` in a fresh process, with this test's cache and state folders. */
function validate(file: string, env: Record<string, string> = {}): Promise<Run> {
  return cellgraph(['validate', file], env);
}

/** `cellgraph <args>` in a fresh process, with this test's cache and state folders. */
function cellgraph(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: dir,
    env: { ...process.env, CELLGRAPH_CACHE_DIR: path.join(dir, 'user-cache'), XDG_STATE_HOME: path.join(dir, 'xdg'), CELLGRAPH_HOME: '', CELLGRAPH_COMPILE_DAEMON: '', ...env }
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // Resolves on exit, not on the pipes closing: a daemon holding them would be a bug the test must see as a hang.
  return new Promise((resolve) => child.on('exit', (c) => resolve({ code: c ?? -1, stdout, stderr })));
}

const cells = (x: string): TestCell[] => [code('function twice(n: number): number { return 2 * n; }', { role: 'setup' }), code(x, { task: 'a' }), code('const y: number = twice(x);', { task: 'b' })];

function write(name: string, x: string): string {
  fs.writeFileSync(path.join(dir, name), notebookText(cells(x)));
  return name;
}

it('answers edits from the daemon the first command started, exactly as the in-process compile does', async () => {
  expect(await validate(write('nb.ipynb', 'const x: number = 1;'))).toMatchObject({ code: 0, stdout: expect.stringContaining('2 tasks') });
  const [pid] = await daemonPids();
  expect(pid).toBeGreaterThan(0);

  write('nb.ipynb', 'const x: string = "one";');
  const viaDaemon = await validate('nb.ipynb');
  const inProcess = await validate('nb.ipynb', { CELLGRAPH_COMPILE_DAEMON: 'off', CELLGRAPH_CACHE_DIR: path.join(dir, 'other-cache') });
  expect(viaDaemon.code).toBe(1);
  // The relative path the user gave, not the absolute one the daemon compiled.
  expect(viaDaemon.stderr).toContain('nb.ipynb: cell 2 (task b):1:25: error type-error: TS2345');
  expect(viaDaemon).toEqual(inProcess);

  expect(await validate(write('nb.ipynb', 'const x: number = 2;'))).toMatchObject({ code: 0 });
  expect(await daemonPids()).toEqual([pid]);
  // The daemon files task checks in the CLI's cache folder, as the in-process compile does.
  expect(fs.readdirSync(path.join(dir, 'user-cache')).sort()).toEqual(['checks', 'compiled', 'v8']);
  expect(fs.statSync(daemonFolder).mode & 0o777).toBe(0o700);
});

it('starts one daemon for CLIs started at the same moment, and every one of them gets its answer', async () => {
  const names = [0, 1, 2, 3].map((i) => write(`nb${i}.ipynb`, `const x: number = ${i};`));
  const runs = await Promise.all(names.map((n) => validate(n)));
  for (const r of runs) expect(r).toMatchObject({ code: 0, stdout: expect.stringContaining('2 tasks') });
  expect(sockets()).toHaveLength(1);
  expect(await daemonPids()).toHaveLength(1);
  const log = fs.readFileSync(path.join(daemonFolder, 'daemon.log'), 'utf8');
  expect(log.match(/listening at/g)).toHaveLength(1);
});

it('replaces a killed daemon: its socket file is left behind, the next command starts a new one', async () => {
  expect(await validate(write('nb.ipynb', 'const x: number = 1;'))).toMatchObject({ code: 0 });
  const [old] = await daemonPids();
  stop(old);
  await waitFor('the daemon to die', () => !alive(old));
  expect(sockets()).toHaveLength(1); // stale: nothing listens there
  expect(await validate(write('nb.ipynb', 'const x: number = 3;'))).toMatchObject({ code: 0 });
  const [fresh] = await daemonPids();
  expect(fresh).toBeGreaterThan(0);
  expect(fresh).not.toBe(old);
});

it('compiles in the CLI process when the state folder cannot be written (a read-only home)', async () => {
  // A file where the state folder should be: mkdir fails as it does on a read-only home (root ignores modes).
  const blocked = path.join(dir, 'not-a-folder');
  fs.writeFileSync(blocked, '');
  expect(await validate(write('nb.ipynb', 'const x: number = 1;'), { XDG_STATE_HOME: blocked })).toMatchObject({ code: 0 });
  write('nb.ipynb', 'const x: string = "one";');
  expect(await validate('nb.ipynb', { XDG_STATE_HOME: blocked })).toMatchObject({ code: 1, stderr: expect.stringContaining('TS2345') });
  expect(fs.existsSync(path.join(dir, 'xdg'))).toBe(false);
});

it('does not use a socket folder other users can write', async () => {
  fs.mkdirSync(daemonFolder, { recursive: true });
  fs.chmodSync(daemonFolder, 0o777);
  expect(await validate(write('nb.ipynb', 'const x: number = 1;'))).toMatchObject({ code: 0 });
  expect(sockets()).toEqual([]);
});

/** A stand-in for another build's daemon at `socket`: answers every request with `reply`, records what it was asked. */
async function fakeDaemon(socket: string, reply: object): Promise<string[]> {
  const asked: string[] = [];
  const server = net.createServer((conn) => {
    conn.setEncoding('utf8');
    conn.on('data', (line: string) => {
      asked.push((JSON.parse(line.trim()) as { kind: string }).kind);
      conn.end(`${JSON.stringify(reply)}\n`);
    });
  });
  fakes.push(server);
  await new Promise<void>((r) => server.listen(socket, r));
  return asked;
}

it('never uses an answer from another build: a daemon of another version at its socket is bypassed', async () => {
  expect(await validate(write('nb.ipynb', 'const x: number = 1;'))).toMatchObject({ code: 0 });
  const [socket] = sockets();
  const [pid] = await daemonPids();
  stop(pid);
  await waitFor('the daemon to die', () => !alive(pid));
  fs.rmSync(socket);
  const asked = await fakeDaemon(socket, { kind: 'wrong-version', version: 'f'.repeat(64) });
  write('nb.ipynb', 'const x: string = "one";');
  const r = await validate('nb.ipynb');
  expect(asked).toEqual(['compile']);
  expect(r).toMatchObject({ code: 1, stderr: expect.stringContaining('TS2345') });
});

it('a new build asks the daemon of an older build in the same folder to stop', async () => {
  fs.mkdirSync(daemonFolder, { recursive: true, mode: 0o700 });
  const asked = await fakeDaemon(path.join(daemonFolder, `compile-${'0'.repeat(16)}.sock`), { kind: 'stopping' });
  expect(await validate(write('nb.ipynb', 'const x: number = 1;'))).toMatchObject({ code: 0 });
  await waitFor('the stop request', () => asked.includes('stop'));
});

it('exits after its idle time and removes its socket', async () => {
  expect(await validate(write('nb.ipynb', 'const x: number = 1;'), { CELLGRAPH_COMPILE_DAEMON_IDLE_SECONDS: '1' })).toMatchObject({ code: 0 });
  const [pid] = await daemonPids();
  await waitFor('the idle daemon to exit', () => !alive(pid) && sockets().length === 0);
  expect(fs.readFileSync(path.join(daemonFolder, 'daemon.log'), 'utf8')).toContain('exiting: idle for 1 s');
});

it('a rebuilt package gets a new daemon, and the old build\'s daemon is asked to stop', async () => {
  expect(await validate(write('nb.ipynb', 'const x: number = 1;'))).toMatchObject({ code: 0 });
  const [old] = await daemonPids();
  const [oldSocket] = sockets();
  // A rebuild of any built file the daemon loaded (here one outside the compiler) is another build.
  const built = path.resolve(__dirname, '..', '..', '..', '..', 'dist', 'cli', 'output.js');
  const { atime, mtime } = fs.statSync(built);
  try {
    fs.utimesSync(built, atime, new Date(mtime.getTime() + 60_000));
    expect(await validate(write('nb.ipynb', 'const x: number = 2;'))).toMatchObject({ code: 0 });
    await waitFor('the old daemon to stop', () => !alive(old));
  } finally {
    fs.utimesSync(built, atime, mtime);
  }
  const [fresh] = await daemonPids();
  expect(fresh).not.toBe(old);
  expect(sockets()).toHaveLength(1);
  expect(sockets()[0]).not.toBe(oldSocket);
});

/** This build's startup snapshots in the test's user cache folder. */
function blobs(): string[] {
  const folder = path.join(dir, 'user-cache', 'v8');
  return fs.existsSync(folder) ? fs.readdirSync(folder).filter((f) => f.endsWith('.blob')).map((f) => path.join(folder, f)) : [];
}

async function stopDaemons(): Promise<void> {
  const pids = await daemonPids();
  for (const s of sockets()) await ask(s, { kind: 'stop' }, 5000);
  await waitFor('the daemons to stop', () => pids.every((p) => !alive(p)));
}

it('builds a startup snapshot after its first compile; the next daemon starts from it and answers the same', async () => {
  expect(await validate(write('nb.ipynb', 'const x: number = 1;'))).toMatchObject({ code: 0 });
  await waitFor('the startup snapshot', () => blobs().length === 1, 120_000);
  await stopDaemons();
  await expectEditAnsweredFromSnapshot();
});

/**
 * An edit that breaks task b, compiled by a daemon that starts from the snapshot (the
 * compiler's modules and the earlier compile of nb.ipynb come from it, not from disk):
 * answered exactly as the in-process compile answers.
 */
async function expectEditAnsweredFromSnapshot(): Promise<void> {
  write('nb.ipynb', 'const x: string = "one";');
  const fromSnapshot = await validate('nb.ipynb');
  const inProcess = await validate('nb.ipynb', { CELLGRAPH_COMPILE_DAEMON: 'off', CELLGRAPH_CACHE_DIR: path.join(dir, 'other-cache') });
  expect(fromSnapshot).toEqual(inProcess);
  expect(fromSnapshot.stderr).toContain('TS2345');
  const log = fs.readFileSync(path.join(daemonFolder, 'daemon.log'), 'utf8');
  expect(log).toMatch(/started from a (prepared )?startup snapshot \(\d+ modules, \d+ declaration files, 1 compile\)/);
}

it('drops a damaged startup snapshot and starts the daemon plainly', async () => {
  expect(await validate(write('nb.ipynb', 'const x: number = 1;'))).toMatchObject({ code: 0 });
  await waitFor('the startup snapshot', () => blobs().length === 1, 120_000);
  await stopDaemons();
  const [blob] = blobs();
  fs.writeFileSync(blob, 'not a snapshot');
  write('nb.ipynb', 'const x: string = "one";');
  expect(await validate('nb.ipynb')).toMatchObject({ code: 1, stderr: expect.stringContaining('TS2345') });
  expect(await daemonPids()).toHaveLength(1);
  const log = fs.readFileSync(path.join(daemonFolder, 'daemon.log'), 'utf8');
  expect(log.match(/started from a plain start/g)).toHaveLength(2);
  // The plain daemon builds a good one again.
  await waitFor('a new startup snapshot', () => blobs().length === 1 && fs.statSync(blobs()[0]).size > 1_000_000, 120_000);
});

it('`cellgraph daemon prepare` builds the startup snapshot ahead and leaves no process behind; the first compile starts from it', async () => {
  const prepared = await cellgraph(['daemon', 'prepare', write('nb.ipynb', 'const x: number = 1;')]);
  expect(prepared).toMatchObject({ code: 0, stdout: expect.stringContaining('compile daemon snapshot ready') });
  expect(blobs()).toHaveLength(1);
  expect(sockets()).toEqual([]);
  // Idempotent: a second prepare keeps the snapshot this build has.
  const mtime = fs.statSync(blobs()[0]).mtimeMs;
  expect(await cellgraph(['daemon', 'prepare', 'nb.ipynb'])).toMatchObject({ code: 0 });
  expect(fs.statSync(blobs()[0]).mtimeMs).toBe(mtime);

  await expectEditAnsweredFromSnapshot();
  expect(fs.readFileSync(path.join(daemonFolder, 'daemon.log'), 'utf8')).toContain('started from a prepared startup snapshot');
  // Setup's snapshot is another project's, likely: once idle, the daemon replaces it with one of the user's own compile.
  await waitFor('the snapshot built from the user\'s compile', () => fs.readFileSync(path.join(daemonFolder, 'daemon.log'), 'utf8').includes('built the startup snapshot'), 120_000);
  expect(blobs()).toHaveLength(1);
  expect(fs.statSync(blobs()[0]).mtimeMs).toBeGreaterThan(mtime);
});

it('`cellgraph daemon prepare` refuses a missing notebook and does nothing with the daemon switched off', async () => {
  expect(await cellgraph(['daemon', 'prepare', 'missing.ipynb'])).toMatchObject({ code: 2, stderr: expect.stringContaining('missing.ipynb: no such file') });
  expect(await cellgraph(['daemon', 'prepare'], { CELLGRAPH_COMPILE_DAEMON: 'off' })).toMatchObject({ code: 0, stdout: expect.stringContaining('switched off') });
  expect(blobs()).toEqual([]);
  expect(sockets()).toEqual([]);
});
