import { ValidationError } from '../../../errors';
import { mayAccess } from '../hub-authenticator';
import { hubSettingsFromEnv } from '../settings';

test('no JUPYTERHUB_API_URL: no Hub sign-in', () => {
  expect(hubSettingsFromEnv({})).toBeUndefined();
});

test('the environment a Hub gives its services, with defaults', () => {
  expect(hubSettingsFromEnv({ JUPYTERHUB_API_URL: 'http://127.0.0.1:8081/hub/api', JUPYTERHUB_API_TOKEN: 'service-token-123' })).toEqual({
    apiUrl: 'http://127.0.0.1:8081/hub/api',
    serviceToken: 'service-token-123',
    serviceName: 'cellgraph',
    cacheSeconds: 10
  });
});

test('bad settings name the variable and never echo the token', () => {
  const url = { JUPYTERHUB_API_URL: 'http://hub/hub/api' };
  expect(() => hubSettingsFromEnv(url)).toThrow(/JUPYTERHUB_API_TOKEN: required/);
  expect(() => hubSettingsFromEnv({ ...url, JUPYTERHUB_API_TOKEN: 'short' })).toThrow(ValidationError);
  expect(() => hubSettingsFromEnv({ ...url, JUPYTERHUB_API_TOKEN: 'short' })).not.toThrow(/short/);
  expect(() => hubSettingsFromEnv({ JUPYTERHUB_API_URL: 'ftp://hub', JUPYTERHUB_API_TOKEN: 'service-token-123' })).toThrow(/JUPYTERHUB_API_URL/);
  expect(() => hubSettingsFromEnv({ ...url, JUPYTERHUB_API_TOKEN: 'service-token-123', CELLGRAPH_HUB_CACHE_SECONDS: 'soon' })).toThrow(/CELLGRAPH_HUB_CACHE_SECONDS/);
});

test('a token reaches the service only with access to it (all services, or this one by name)', () => {
  expect(mayAccess(['access:services!service=cellgraph', 'read:users:name!user'], 'cellgraph')).toBe(true);
  expect(mayAccess(['access:services'], 'cellgraph')).toBe(true);
  expect(mayAccess(['access:services!service=other'], 'cellgraph')).toBe(false);
  expect(mayAccess(['access:servers!server=alice/'], 'cellgraph')).toBe(false);
});
