/**
 * What a request and a task can reach on the server, against the real `cellgraph server`
 * process (issue 13): a task's environment holds what it declares and never the server's
 * token or credentials; `notebookPath` cannot leave the work directory through a symlink;
 * webhooks to the cloud metadata address are refused.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiError, PromoteResponse, RunDetail, RunLogsResponse } from '@cellgraph/schema';
import { testDatabaseUrl } from '@cellgraph/dev/services/postgres';
import { code, notebookText } from '@cellgraph/dev/test-support/notebooks';
import { ServerProcess, startServerProcess, stopAllServers, tempWorkDir, waitFor } from '@cellgraph/dev/test-support/server-process';

jest.setTimeout(120_000);

const TOKEN = 'isolation-token-0123456789abcdef';
/** The server's own credentials; CELLGRAPH_DATABASE_URL names a real database (the server opens it). */
const SERVER_SECRETS: Record<string, string> = {
  AWS_ACCESS_KEY_ID: 'AKIASERVERONLY',
  AWS_SECRET_ACCESS_KEY: 'server-only-secret-key',
  JUPYTERHUB_API_TOKEN: 'hub-token-server-only'
};

let dir: string;
let outside: string;
let s: ServerProcess;

beforeAll(async () => {
  dir = tempWorkDir('cg-isolation-');
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-outside-'));
  SERVER_SECRETS.CELLGRAPH_DATABASE_URL = await testDatabaseUrl('isolation');
  s = await startServerProcess(dir, { token: TOKEN, env: SERVER_SECRETS });
});
afterAll(async () => {
  await stopAllServers();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(outside, { recursive: true, force: true });
});

async function expectError(res: Response, status: number, code: string, field: string): Promise<ApiError> {
  const text = await res.text();
  expect({ status: res.status, text }).toEqual({ status, text: expect.any(String) });
  const body = ApiError.parse(JSON.parse(text));
  expect(body.error).toMatchObject({ code, field });
  return body;
}

it('a task that prints its environment shows what it declared, and no token or server credential', async () => {
  const cells = [code('const dump: string = JSON.stringify(process.env);\nconsole.log(`ENV ${dump}`);', { task: 'printenv', env: { MODE: 'declared' } })];
  fs.writeFileSync(path.join(dir, 'printenv.ipynb'), notebookText(cells));
  const created = await s.api('/api/v1/runs', { method: 'POST', json: { notebookPath: 'printenv.ipynb', noCache: true } });
  expect(created.status).toBe(201);
  const run = RunDetail.parse(await created.json());
  const done = await waitFor(async () => {
    const d = RunDetail.parse(await (await s.api(`/api/v1/runs/${run.runId}`)).json());
    return d.status === 'succeeded' || d.status === 'failed' ? d : undefined;
  }, 60_000, 'the run to finish');
  expect(done.status).toBe('succeeded');
  const logs = RunLogsResponse.parse(await (await s.api(`/api/v1/runs/${run.runId}/logs?task=printenv`)).json());
  const line = /^ENV (.*)$/m.exec(logs.tasks[0].attempts[0].text)?.[1];
  const env = JSON.parse(line ?? 'null') as Record<string, string>;
  expect(env).toMatchObject({ MODE: 'declared', PATH: expect.any(String) });
  expect(env.CELLGRAPH_TOKEN).toBeUndefined();
  for (const name of Object.keys(SERVER_SECRETS)) expect(env[name]).toBeUndefined();
  const text = JSON.stringify(env);
  expect(text).not.toContain(TOKEN);
  for (const value of Object.values(SERVER_SECRETS)) expect(text).not.toContain(value);
});

it('refuses a notebookPath that leaves the work directory through a symlink, without showing the file', async () => {
  fs.symlinkSync('/etc/passwd', path.join(dir, 'passwd.ipynb'));
  fs.writeFileSync(path.join(outside, 'elsewhere.ipynb'), notebookText([code('const x: number = 1;', { task: 'a' })]));
  fs.symlinkSync(outside, path.join(dir, 'linked-dir'));
  for (const notebookPath of ['passwd.ipynb', 'linked-dir/elsewhere.ipynb', path.join(outside, 'elsewhere.ipynb')]) {
    for (const route of ['/api/v1/runs', '/api/v1/compile', '/api/v1/workflows/promote']) {
      const body = await expectError(await s.api(route, { method: 'POST', json: { notebookPath } }), 422, 'invalid', 'body.notebookPath');
      expect(body.error.message).toBe(`notebookPath: ${notebookPath}: outside the server's work directory (symlinks resolved); only notebooks under it can be run`);
    }
  }
  // A symlink that stays inside the work directory is fine.
  fs.mkdirSync(path.join(dir, 'notebooks'));
  fs.writeFileSync(path.join(dir, 'notebooks', 'real.ipynb'), notebookText([code('const x: number = 1;', { task: 'a' })]));
  fs.symlinkSync(path.join(dir, 'notebooks', 'real.ipynb'), path.join(dir, 'alias.ipynb'));
  expect((await s.api('/api/v1/compile', { method: 'POST', json: { notebookPath: 'alias.ipynb' } })).status).toBe(200);
});

it('refuses webhooks to the cloud metadata address: on runs, version runs and schedules', async () => {
  const metadata = 'http://169.254.169.254/latest/meta-data/iam/security-credentials/';
  const message = 'body.webhookUrl: 169.254.169.254 is a link-local or cloud metadata address; webhooks may not reach it (allow it with --allow-webhook-host)';
  fs.writeFileSync(path.join(dir, 'hook.ipynb'), notebookText([code('const x: number = 1;', { task: 'a' })]));
  const run = await expectError(await s.api('/api/v1/runs', { method: 'POST', json: { notebookPath: 'hook.ipynb', webhookUrl: metadata } }), 422, 'invalid', 'body.webhookUrl');
  expect(run.error.message).toBe(message);

  const promoted = PromoteResponse.parse(await (await s.api('/api/v1/workflows/promote', { method: 'POST', json: { notebookPath: 'hook.ipynb' } })).json());
  const { workflow, version } = promoted.version;
  await expectError(await s.api(`/api/v1/workflows/${workflow}/versions/1/runs`, { method: 'POST', json: { webhookUrl: metadata } }), 422, 'invalid', 'body.webhookUrl');
  const schedule = await expectError(
    await s.api('/api/v1/schedules', { method: 'POST', json: { workflow, version, cron: '0 * * * *', webhookUrl: metadata } }),
    422,
    'invalid',
    'body.webhookUrl'
  );
  expect(schedule.error.message).toBe(message);
  const created = await s.api('/api/v1/schedules', { method: 'POST', json: { workflow, version, cron: '0 * * * *', webhookUrl: 'http://127.0.0.1:9/hook' } });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  await expectError(await s.api(`/api/v1/schedules/${id}`, { method: 'PATCH', json: { webhookUrl: 'http://[fe80::1]/x' } }), 422, 'invalid', 'body.webhookUrl');
  const runs = ((await (await s.api('/api/v1/runs')).json()) as { runs: { workflow: string }[] }).runs;
  expect(runs.filter((r) => r.workflow === workflow)).toEqual([]);
});
