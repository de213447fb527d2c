/**
 * The CLI's caches between processes (the user's cache folder: compiled code, whole
 * compiles, per-task checks) never answer for a notebook that changed: each command here
 * is a fresh `cellgraph` process, as users run it, through the package's bin.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TestCell, code, linkNodeModules, notebookText } from '@cellgraph/dev/test-support/notebooks';

jest.setTimeout(120_000);

const BIN = path.resolve(__dirname, '..', '..', '..', 'bin', 'cellgraph');
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-inc-cli-'));
  linkNodeModules(dir);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function validate(cells: TestCell[]): { code: number; stdout: string; stderr: string } {
  fs.writeFileSync(path.join(dir, 'nb.ipynb'), notebookText(cells));
  const r = spawnSync(process.execPath, [BIN, 'validate', 'nb.ipynb'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, CELLGRAPH_CACHE_DIR: path.join(dir, 'user-cache'), XDG_STATE_HOME: path.join(dir, 'xdg'), CELLGRAPH_HOME: '' }
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const chain = (x: string): TestCell[] => [
  code('function twice(n: number): number { return 2 * n; }', { role: 'setup' }),
  code(x, { task: 'a' }),
  code('const y: number = twice(x);', { task: 'b' })
];

it('sees an upstream type change in the next process, and the fix after it', () => {
  expect(validate(chain('const x: number = 1;'))).toMatchObject({ code: 0, stdout: expect.stringContaining('2 tasks') });
  expect(validate(chain('const x: number = 1;'))).toMatchObject({ code: 0, stdout: expect.stringContaining('2 tasks') });
  const broken = validate(chain('const x: string = "one";'));
  expect(broken.code).toBe(1);
  expect(broken.stderr).toContain('cell 2 (task b):1:25: error type-error: TS2345');
  expect(validate(chain('const x: number = 1;'))).toMatchObject({ code: 0 });
  // The user's cache holds compiled code, whole compiles and per-task checks; nothing lands beside the notebook.
  expect(fs.readdirSync(path.join(dir, 'user-cache')).sort()).toEqual(['checks', 'compiled', 'v8']);
  // `xdg` is this test's user state folder (XDG_STATE_HOME): only the compile daemon, when it is
  // on (tests run with CELLGRAPH_COMPILE_DAEMON=off unless they set it), puts its socket there.
  expect(fs.readdirSync(dir).filter((f) => f !== 'xdg').sort()).toEqual(['nb.ipynb', 'node_modules', 'user-cache']);
  if (fs.existsSync(path.join(dir, 'xdg'))) expect(fs.readdirSync(path.join(dir, 'xdg', 'cellgraph'))).toEqual(['daemon']);
});
