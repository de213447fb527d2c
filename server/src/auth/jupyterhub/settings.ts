import { z } from 'zod';
import { parseOrThrow } from '../../zod-issue';
import type { HubAuthSettings } from './hub-authenticator';

const blank = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());

const Settings = z.object({
  apiUrl: z.string().url('must be an http(s) URL such as http://127.0.0.1:8081/hub/api').regex(/^https?:\/\//, 'must be an http(s) URL'),
  serviceToken: z.string({ required_error: 'required with JUPYTERHUB_API_URL (the cellgraph service\'s own Hub token)' }).min(8),
  serviceName: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be the service name the Hub knows'),
  cacheSeconds: z.coerce.number().min(0).max(3600)
});

const SOURCES: Record<string, string> = {
  apiUrl: 'JUPYTERHUB_API_URL',
  serviceToken: 'JUPYTERHUB_API_TOKEN',
  serviceName: 'JUPYTERHUB_SERVICE_NAME',
  cacheSeconds: 'CELLGRAPH_HUB_CACHE_SECONDS'
};

/**
 * The Hub sign-in's settings from the environment a JupyterHub gives its services
 * (JUPYTERHUB_API_URL, JUPYTERHUB_API_TOKEN, JUPYTERHUB_SERVICE_NAME), plus
 * CELLGRAPH_HUB_CACHE_SECONDS (default 10); groups map to roles through CELLGRAPH_GROUP_ROLES
 * like any external group. Undefined when
 * JUPYTERHUB_API_URL is unset: no Hub, API tokens only. A bad value stops the server at boot,
 * naming the variable; the token is never echoed.
 */
export function hubSettingsFromEnv(env: NodeJS.ProcessEnv): HubAuthSettings | undefined {
  const apiUrl = blank(env.JUPYTERHUB_API_URL);
  if (apiUrl === undefined) return undefined;
  const raw = {
    apiUrl,
    serviceToken: blank(env.JUPYTERHUB_API_TOKEN),
    serviceName: blank(env.JUPYTERHUB_SERVICE_NAME) ?? 'cellgraph',
    cacheSeconds: blank(env.CELLGRAPH_HUB_CACHE_SECONDS) ?? 10
  };
  const key = (path: string[]) => SOURCES[path[0]] ?? path[0];
  const parsed = parseOrThrow(Settings, raw, {
    context: 'invalid JupyterHub settings',
    field: key,
    label: key,
    suffix: (path) => (path[0] === 'serviceToken' ? '' : ` (got ${JSON.stringify(raw[path[0] as keyof typeof raw])})`)
  });
  return parsed;
}
