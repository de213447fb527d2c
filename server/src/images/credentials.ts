import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { ValidationError } from '../errors';

/** Username and password (or token) for a registry's basic or token auth. */
export interface RegistryCredentials {
  username: string;
  password: string;
}

const DockerConfig = z
  .object({
    auths: z.record(z.object({ auth: z.string().optional(), username: z.string().optional(), password: z.string().optional() }).passthrough()).optional(),
    credHelpers: z.record(z.string()).optional(),
    credsStore: z.string().optional()
  })
  .passthrough();

/** Where docker keeps its config: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.DOCKER_CONFIG || path.join(os.homedir(), '.docker'), 'config.json');
}

/**
 * Credentials for a registry, from the environment (CELLGRAPH_REGISTRY_USERNAME /
 * CELLGRAPH_REGISTRY_PASSWORD) or the `auths` of docker's config.json, matched by host the
 * way `docker login` writes it (with or without scheme). Credential helpers are not run:
 * a registry that only has one gets a clear error instead of an anonymous attempt.
 */
export function registryCredentials(registry: string, env: NodeJS.ProcessEnv = process.env): RegistryCredentials | undefined {
  if (env.CELLGRAPH_REGISTRY_USERNAME && env.CELLGRAPH_REGISTRY_PASSWORD) {
    return { username: env.CELLGRAPH_REGISTRY_USERNAME, password: env.CELLGRAPH_REGISTRY_PASSWORD };
  }
  const file = dockerConfigPath(env);
  if (!fs.existsSync(file)) return undefined;
  let config: z.infer<typeof DockerConfig>;
  try {
    config = DockerConfig.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
  } catch (e) {
    throw new ValidationError(`${file}: not a valid docker config (${(e as Error).message.split('\n')[0]})`, 'docker-config');
  }
  const hosts = registry === 'docker.io' ? ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'] : [registry, `https://${registry}`, `http://${registry}`];
  for (const host of hosts) {
    const entry = config.auths?.[host];
    if (!entry) continue;
    if (entry.username && entry.password) return { username: entry.username, password: entry.password };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
  }
  const helper = config.credHelpers?.[registry] ?? config.credsStore;
  if (helper) {
    throw new ValidationError(
      `${file} keeps the credentials for ${registry} in the "${helper}" credential helper, which cellgraph does not run; set CELLGRAPH_REGISTRY_USERNAME and CELLGRAPH_REGISTRY_PASSWORD instead`,
      'docker-config'
    );
  }
  return undefined;
}
