/** What a local task process sees of the server's environment. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { StoreConfig } from '@cellgraph/schema';
import { MissingSecretError, taskEnvironment } from '../task-env';

const serverEnv: NodeJS.ProcessEnv = {
  PATH: '/usr/bin',
  HOME: '/home/srv',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  TZ: 'Europe/Paris',
  CELLGRAPH_TOKEN: 'server-token-0123456789',
  CELLGRAPH_DATABASE_URL: 'postgres://cellgraph:pw@db/cellgraph',
  AWS_ACCESS_KEY_ID: 'AKIASERVER',
  AWS_SECRET_ACCESS_KEY: 'server-secret',
  AWS_REGION: 'eu-west-3',
  JUPYTERHUB_API_TOKEN: 'hub-token',
  GITHUB_TOKEN: 'ghp_x'
};
const filesystem: StoreConfig = { kind: 'filesystem', root: '/tmp/home' };
const s3: StoreConfig = { kind: 's3', bucket: 'b', prefix: '', region: 'eu-west-3', forcePathStyle: false };

it('passes what a process needs to run and nothing that grants access', () => {
  expect(taskEnvironment({ serverEnv, store: filesystem })).toEqual({ PATH: '/usr/bin', HOME: '/home/srv', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', TZ: 'Europe/Paris' });
});

it("adds the task's declared env, which wins", () => {
  expect(taskEnvironment({ serverEnv, store: filesystem, env: { MODE: 'fast', TZ: 'UTC' } })).toMatchObject({ MODE: 'fast', TZ: 'UTC' });
});

it("gives the S3 store's credentials only with an S3 store, or the narrower ones set aside for tasks", () => {
  const env = taskEnvironment({ serverEnv, store: s3 });
  expect(env).toMatchObject({ AWS_ACCESS_KEY_ID: 'AKIASERVER', AWS_SECRET_ACCESS_KEY: 'server-secret', AWS_REGION: 'eu-west-3' });
  expect(env.CELLGRAPH_TOKEN).toBeUndefined();
  const narrowed = taskEnvironment({ serverEnv: { ...serverEnv, CELLGRAPH_TASK_AWS_ACCESS_KEY_ID: 'AKIATASK', CELLGRAPH_TASK_AWS_SECRET_ACCESS_KEY: 'task-secret' }, store: s3 });
  expect(narrowed).toMatchObject({ AWS_ACCESS_KEY_ID: 'AKIATASK', AWS_SECRET_ACCESS_KEY: 'task-secret' });
  expect(Object.keys(narrowed).filter((k) => k.startsWith('CELLGRAPH_'))).toEqual([]);
});

it('resolves declared secrets from the secrets directory, and names a missing one', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-secrets-'));
  try {
    fs.mkdirSync(path.join(dir, 'db-creds'));
    fs.writeFileSync(path.join(dir, 'db-creds', 'password'), 's3cret');
    const secrets = [{ env: 'DB_PASSWORD', secret: 'db-creds', key: 'password' }];
    expect(taskEnvironment({ serverEnv: { ...serverEnv, CELLGRAPH_SECRETS_DIR: dir }, store: filesystem, secrets })).toMatchObject({ DB_PASSWORD: 's3cret' });
    expect(() => taskEnvironment({ serverEnv: { ...serverEnv, CELLGRAPH_SECRETS_DIR: dir }, store: filesystem, secrets: [{ env: 'X', secret: 'db-creds', key: 'user' }] })).toThrow(
      new MissingSecretError('secret db-creds key user (for X): no file db-creds/user in CELLGRAPH_SECRETS_DIR')
    );
    expect(() => taskEnvironment({ serverEnv, store: filesystem, secrets })).toThrow(/CELLGRAPH_SECRETS_DIR is not set on the server/);
    expect(() => taskEnvironment({ serverEnv: { ...serverEnv, CELLGRAPH_SECRETS_DIR: dir }, store: filesystem, secrets: [{ env: 'X', secret: 'db-creds', key: '../../etc/passwd' }] })).toThrow(/one file name/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
