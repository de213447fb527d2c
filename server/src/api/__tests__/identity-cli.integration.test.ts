/**
 * The identity commands of the CLI against a real server: the server token creates a project,
 * adds members and issues a personal token (shown once); the member works in the project with
 * it (whoami, --project promote, the audit trail of their own actions), a viewer is refused
 * with 403 (exit 2), a non-member sees nothing, and a revoked token stops working at once.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { code, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { CLI, ServerProcess, startServerProcess, stopAllServers, tempWorkDir } from '@cellgraph/dev/test-support/server-process';

jest.setTimeout(400_000);

const SERVER_TOKEN = 'identity-cli-server-token-0123456789';
let dir: string;
let s: ServerProcess;

beforeAll(async () => {
  dir = tempWorkDir('cg-identity-cli-');
  s = await startServerProcess(dir, { token: SERVER_TOKEN });
  fs.writeFileSync(path.join(dir, 'iris.ipynb'), notebookText([code('const n = 1;', { role: 'parameters' }), code('const doubled: number = n * 2;', { task: 'a' })]));
});
afterAll(async () => {
  await stopAllServers();
  fs.rmSync(dir, { recursive: true, force: true });
});

const cellgraph = (args: string[], token: string = SERVER_TOKEN) => {
  const r = spawnSync(process.execPath, [CLI, '--server', s.url, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, CELLGRAPH_TOKEN: token, XDG_STATE_HOME: path.join(dir, 'xdg'), CELLGRAPH_HOME: '' },
    timeout: 60_000
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};

it('manages projects, members and tokens; members work with their own token; revoked tokens stop at once', () => {
  expect(cellgraph(['project', 'create', 'ml'])).toMatchObject({ code: 0, stdout: 'project ml created\n' });
  expect(cellgraph(['member', 'add', 'ml', 'alice', 'editor'])).toMatchObject({ code: 0, stdout: 'alice is editor of ml\n' });
  expect(cellgraph(['member', 'add', 'ml', 'bob', 'viewer'])).toMatchObject({ code: 0 });
  expect(cellgraph(['member', 'add', 'ml', 'bob', 'owner'])).toMatchObject({ code: 2, stderr: expect.stringContaining('role must be viewer, editor or admin') });
  expect(cellgraph(['member', 'list', 'ml']).stdout).toMatch(/MEMBER\s+ROLE\s+SINCE\nalice\s+editor.*\nbob\s+viewer/);

  const issued = cellgraph(['token', 'create', 'laptop', '--user', 'alice', '--days', '7']);
  expect(issued.code).toBe(0);
  const alice = issued.stdout.trim();
  expect(alice).toMatch(/^cgt_[A-Za-z0-9_-]{43}$/);
  expect(issued.stderr).toMatch(/token [0-9a-f]{12} for alice \(read,run,promote\)/);
  const bob = cellgraph(['token', 'create', 'ci', '--user', 'bob', '--scopes', 'read']).stdout.trim();
  const carol = cellgraph(['token', 'create', 'x', '--user', 'carol']).stdout.trim();

  expect(cellgraph(['whoami'], alice)).toMatchObject({ code: 0, stdout: expect.stringMatching(/^alice \(user\) scopes read,run,promote\nPROJECT\s+ROLE\nml\s+editor\n$/) });
  expect(cellgraph(['--project', 'ml', 'promote', 'iris.ipynb'], alice)).toMatchObject({ code: 0, stdout: expect.stringMatching(/^iris version 1/) });
  expect(cellgraph(['versions', 'iris'], bob)).toMatchObject({ code: 0 });
  expect(cellgraph(['--project', 'ml', 'promote', 'iris.ipynb'], bob)).toMatchObject({ code: 2, stderr: expect.stringContaining('needs the editor role; bob is viewer') });
  // Carol is no member: ml and its workflow do not exist for her.
  expect(cellgraph(['versions', 'iris'], carol)).toMatchObject({ code: 2, stderr: expect.stringContaining('not found') });
  expect(cellgraph(['project', 'list'], carol).stdout).not.toContain('ml');
  expect(cellgraph(['project', 'create', 'mine'], alice)).toMatchObject({ code: 2, stderr: expect.stringContaining("only the server's own token") });

  const audit = cellgraph(['audit', '--project', 'ml']);
  expect(audit.stdout).toMatch(/alice\s+workflow\.promote\s+ml\s+iris/);
  expect(audit.stdout).toMatch(/server\s+member\.set\s+ml\s+ml\/alice/);
  expect(cellgraph(['audit'], bob).stdout).not.toContain('alice');

  const listed = cellgraph(['token', 'list'], alice);
  expect(listed.stdout).toMatch(/ID\s+NAME\s+USER\s+SCOPES\s+EXPIRES\s+LAST USED\s+STATE\n[0-9a-f]{12}\s+laptop\s+alice\s+read,run,promote\s+.*active/);
  const id = /^([0-9a-f]{12})/m.exec(listed.stdout.split('\n')[1])?.[1] ?? '';
  expect(cellgraph(['token', 'revoke', id], bob)).toMatchObject({ code: 2, stderr: expect.stringContaining(`no token ${id} of yours`) });
  expect(cellgraph(['token', 'revoke', id], alice)).toMatchObject({ code: 0, stdout: `token ${id} (laptop) revoked\n` });
  expect(cellgraph(['whoami'], alice)).toMatchObject({ code: 2, stderr: expect.stringContaining(`token ${id} was revoked`) });

  // The server token is admin of everything; a workflow stays in the project it was first promoted in.
  expect(cellgraph(['--project', 'ml', 'promote', 'iris.ipynb'])).toMatchObject({ code: 0, stdout: expect.stringContaining('unchanged') });
  expect(cellgraph(['promote', 'iris.ipynb'])).toMatchObject({ code: 1, stderr: expect.stringContaining('workflow iris belongs to another project') });
  // No secret in what the server logged.
  for (const secret of [alice, bob, carol]) expect(s.stderr()).not.toContain(secret);
});
