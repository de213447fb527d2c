import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SecretRef, StoreConfig } from '@cellgraph/schema';

/**
 * What a local task process may see of the server's environment: enough to run node and
 * the tools a notebook shells out to (PATH, HOME, locale, time zone, temp dir, CA bundle,
 * proxies), nothing that grants access. Everything else (CELLGRAPH_TOKEN, the database
 * URL, cloud credentials, whatever the operator exported) stays with the server.
 */
const PASSED = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TMPDIR',
  'TERM',
  'NODE_OPTIONS',
  'NODE_PATH',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy'
]);

/**
 * The variables of the AWS SDK's default credential chain and S3 client settings. A task
 * writes its outputs to the run's S3 store itself, so with an S3 store it gets these, and
 * only then: by default the server's own (the store's credentials), or, when the operator
 * sets CELLGRAPH_TASK_<NAME> (e.g. CELLGRAPH_TASK_AWS_ACCESS_KEY_ID), that narrower value
 * instead, so tasks can hold a key that reaches the store's bucket and nothing else.
 */
const STORE_CREDENTIALS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_PROFILE',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_CA_BUNDLE',
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_SESSION_NAME'
];

/** The prefix of a store credential set aside for tasks (see STORE_CREDENTIALS). */
export const TASK_CREDENTIAL_PREFIX = 'CELLGRAPH_TASK_';

/** Where the local executor reads the values of secrets tasks declare: `<dir>/<secret>/<key>`. */
export const SECRETS_DIR_ENV = 'CELLGRAPH_SECRETS_DIR';

/** A secret a task declares that its configured source does not hold. */
export class MissingSecretError extends Error {
  override name = 'MissingSecretError';
}

/**
 * The environment of a local task process (or parameters check): the few variables of
 * `serverEnv` a process needs to run, the store's credentials when the store is S3, the
 * task's declared `env`, and its declared secrets resolved from the secrets directory.
 * The caller adds cellgraph's own invocation variables.
 */
export function taskEnvironment(options: {
  serverEnv: NodeJS.ProcessEnv;
  store: StoreConfig;
  env?: Record<string, string>;
  secrets?: readonly SecretRef[];
}): Record<string, string> {
  const { serverEnv } = options;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(serverEnv)) {
    if (value !== undefined && (PASSED.has(name) || name.startsWith('LC_'))) out[name] = value;
  }
  if (options.store.kind === 's3') {
    for (const name of STORE_CREDENTIALS) {
      const value = serverEnv[`${TASK_CREDENTIAL_PREFIX}${name}`] ?? serverEnv[name];
      if (value !== undefined && value !== '') out[name] = value;
    }
  }
  Object.assign(out, options.env ?? {});
  for (const s of options.secrets ?? []) out[s.env] = readSecret(serverEnv[SECRETS_DIR_ENV], s);
  return out;
}

/**
 * A secret's value from the secrets directory, laid out as Kubernetes mounts a secret
 * (one file per key), so the same references work on both executors.
 */
function readSecret(dir: string | undefined, ref: SecretRef): string {
  const what = `secret ${ref.secret} key ${ref.key} (for ${ref.env})`;
  if (dir === undefined || dir === '') {
    throw new MissingSecretError(`${what}: the local executor reads secrets from ${SECRETS_DIR_ENV}/<secret>/<key>, and ${SECRETS_DIR_ENV} is not set on the server`);
  }
  if (ref.key.includes('/') || ref.key.includes('\\') || ref.key === '..' || ref.key === '.') {
    throw new MissingSecretError(`${what}: a key must be one file name`);
  }
  try {
    return fs.readFileSync(path.join(dir, ref.secret, ref.key), 'utf8');
  } catch {
    throw new MissingSecretError(`${what}: no file ${path.join(ref.secret, ref.key)} in ${SECRETS_DIR_ENV}`);
  }
}
