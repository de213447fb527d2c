/** Every route of the table declares who may call it (issue 14): forgetting one fails here, not in production. */
import { pathParamNames, apiRouteList } from '../routes';
import { PERMISSION_ROLE, PERMISSION_SCOPE, Permission, roleAtLeast, strongerRole } from '../identity';

it('every route declares its access, and only health is public', () => {
  const missing = apiRouteList.filter((r) => r.access === undefined).map((r) => r.name);
  expect(missing).toEqual([]);
  expect(apiRouteList.filter((r) => r.access?.kind === 'public').map((r) => r.name)).toEqual(['health']);
  for (const r of apiRouteList) expect(r.auth).toBe(r.access?.kind !== 'public');
});

it('finds the project where the route has it: a path parameter for run, schedule, workflow and project routes, a body field for the others', () => {
  for (const r of apiRouteList) {
    const a = r.access;
    if (a?.kind !== 'project') continue;
    const params = pathParamNames(r.path);
    const needs = { run: 'id', schedule: 'id', workflow: 'name', path: 'project' } as const;
    if (a.project in needs) expect({ route: r.name, has: params.includes(needs[a.project as keyof typeof needs]) }).toEqual({ route: r.name, has: true });
    else expect({ route: r.name, body: r.body !== undefined }).toEqual({ route: r.name, body: true });
    // Authorization can answer 403 and 404, so the document says so.
    expect(Object.keys(r.errors)).toEqual(expect.arrayContaining(['403', '404']));
  }
});

it('reads only with GET: a GET never needs more than read, and every route that changes something is audited', () => {
  for (const r of apiRouteList) {
    if (r.method === 'GET' && r.access?.kind === 'project') expect({ route: r.name, permission: r.access.permission }).toEqual({ route: r.name, permission: 'read' });
    const changes = r.method !== 'GET' && !['compile', 'previewCron'].includes(r.name);
    expect({ route: r.name, audited: r.audit !== undefined }).toEqual({ route: r.name, audited: changes });
  }
});

it('roles include each other; each permission has a least role and a scope', () => {
  expect(roleAtLeast('admin', 'editor')).toBe(true);
  expect(roleAtLeast('viewer', 'editor')).toBe(false);
  expect(strongerRole('viewer', 'admin')).toBe('admin');
  expect(strongerRole(undefined, 'viewer')).toBe('viewer');
  for (const p of Permission.options) {
    expect(PERMISSION_ROLE[p]).toBeDefined();
    expect(PERMISSION_SCOPE[p]).toBeDefined();
  }
  expect(PERMISSION_ROLE.read).toBe('viewer');
  expect(PERMISSION_ROLE.run).toBe('editor');
  expect(PERMISSION_ROLE.delete).toBe('admin');
});
