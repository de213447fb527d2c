/** The route table: every route once, paths built with escaped parameters, 405's Allow from the most specific path. */
import { apiRouteList, apiRoutes, allowedMethods, routeUrl } from '../routes';
import { prepareRequest, parseAnswer } from '../client';

it('declares each method and path once, with unique names', () => {
  const keys = apiRouteList.map((r) => `${r.method} ${r.path}`);
  expect(new Set(keys).size).toBe(keys.length);
  expect(new Set(apiRouteList.map((r) => r.name)).size).toBe(apiRouteList.length);
  for (const [key, r] of Object.entries(apiRoutes)) expect(r.name).toBe(key);
});

it('escapes path parameters so an id stays one segment, and leaves undefined query fields out', () => {
  expect(routeUrl(apiRoutes.runLogs, { id: '../x/y' }, { task: 'a b', attempt: undefined })).toBe('/api/v1/runs/..%2Fx%2Fy/logs?task=a%20b');
  expect(routeUrl(apiRoutes.diffVersions, { name: 'w', a: '1', b: 'sha256:ab' })).toBe('/api/v1/workflows/w/versions/1/diff/sha256%3Aab');
  expect(() => routeUrl(apiRoutes.getRun, {})).toThrow(/path parameter id/);
});

it('sends a JSON body with every POST and PATCH, and none with GET or DELETE', () => {
  expect(prepareRequest(apiRoutes.cancelRun, { params: { id: 'r-1' } })).toEqual({ method: 'POST', path: '/api/v1/runs/r-1/cancel', body: '{}' });
  expect(prepareRequest(apiRoutes.deleteSchedule, { params: { id: 's' } })).toEqual({ method: 'DELETE', path: '/api/v1/schedules/s' });
});

it('parses answers with the route schema and hands errors in the one shape to the caller', () => {
  const toError = (status: number, error: { code: string } | undefined) => new Error(`${status} ${error?.code ?? '-'}`);
  expect(parseAnswer(apiRoutes.health, { status: 200, text: '{"status":"ok","version":"1","executor":"local"}' }, toError)).toEqual({ status: 'ok', version: '1', executor: 'local' });
  expect(() => parseAnswer(apiRoutes.health, { status: 404, text: '{"error":{"code":"not-found","message":"m"}}' }, toError)).toThrow('404 not-found');
  expect(() => parseAnswer(apiRoutes.health, { status: 502, text: '<html>' }, toError)).toThrow('502 -');
  expect(() => parseAnswer(apiRoutes.health, { status: 200, text: '{"status":"maybe"}' }, toError)).toThrow();
});

it('answers Allow from the most specific path template, as the router matches', () => {
  expect(allowedMethods('/api/v1/runs')).toEqual(['POST', 'GET']);
  expect(allowedMethods('/api/v1/schedules/preview')).toEqual(['POST']);
  expect(allowedMethods('/api/v1/schedules/nightly').sort()).toEqual(['DELETE', 'GET', 'PATCH']);
  expect(allowedMethods('/api/v1/nope')).toEqual([]);
});
