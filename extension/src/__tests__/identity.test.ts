/**
 * What the extension offers follows the user's role in the project they work in: whoami's
 * answer, the picked project (remembered per server), and a server without whoami.
 */
import type { WhoAmIResponse } from '@cellgraph/schema';
import { ServerError } from '../errors';
import { ServerIdentity, allowed, pickProject, type ProjectMemory } from '../identity';

const user = (projects: WhoAmIResponse['projects'], scopes: WhoAmIResponse['scopes'] = ['read', 'run', 'promote', 'admin']): WhoAmIResponse => ({
  name: 'bob',
  kind: 'user',
  groups: ['ml-viewers'],
  scopes,
  superuser: false,
  projects
});

class Memory implements ProjectMemory {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

test('a viewer reads; an editor runs, promotes and schedules; only an admin deletes; a non-member nothing', () => {
  const me = user([
    { project: 'ml', role: 'viewer' },
    { project: 'etl', role: 'editor' },
    { project: 'ops', role: 'admin' }
  ]);
  expect(['read', 'run', 'promote', 'schedule', 'delete'].map((p) => allowed(me, p as never, 'ml'))).toEqual([true, false, false, false, false]);
  expect(['read', 'run', 'promote', 'schedule', 'delete'].map((p) => allowed(me, p as never, 'etl'))).toEqual([true, true, true, true, false]);
  expect(allowed(me, 'delete', 'ops')).toBe(true);
  expect(allowed(me, 'read', 'secret')).toBe(false);
  // A read-only token of an editor cannot run.
  expect(allowed(user([{ project: 'etl', role: 'editor' }], ['read']), 'run', 'etl')).toBe(false);
  // The server's own token, and a server that does not say: everything.
  expect(allowed({ ...me, superuser: true, projects: [] }, 'delete', 'anything')).toBe(true);
  expect(allowed(undefined, 'delete', 'anything')).toBe(true);
});

test('the project worked in: the remembered one while visible, else default, else the first', () => {
  const me = user([
    { project: 'ml', role: 'viewer' },
    { project: 'etl', role: 'editor' }
  ]);
  expect(pickProject(me, 'etl')).toBe('etl');
  expect(pickProject(me, 'gone')).toBe('ml');
  expect(pickProject(user([{ project: 'default', role: 'viewer' }, { project: 'ml', role: 'editor' }]), null)).toBe('default');
  expect(pickProject(user([]), null)).toBeUndefined();
});

test('a picked project is remembered per server and survives a new session', async () => {
  const memory = new Memory();
  const answer = user([
    { project: 'ml', role: 'viewer' },
    { project: 'etl', role: 'editor' }
  ]);
  const server = { baseUrl: 'http://lab/cellgraph-targets/production/', call: jest.fn(async () => answer) };
  const first = new ServerIdentity(server as never, memory);
  const changes = jest.fn();
  first.changed.connect(changes);
  await first.refresh();
  expect([first.project, first.role(), first.can('run')]).toEqual(['ml', 'viewer', false]);
  first.project = 'etl';
  expect([first.role(), first.can('run'), changes.mock.calls.length]).toEqual(['editor', true, 2]);
  const next = new ServerIdentity(server as never, memory);
  await next.refresh();
  expect(next.project).toBe('etl');
  // Nothing changed: no signal (panels re-render only on a change).
  const again = jest.fn();
  next.changed.connect(again);
  await next.refresh();
  expect(again).not.toHaveBeenCalled();
});

test('a server without whoami offers everything; one that cannot be reached keeps what was known', async () => {
  const old = new ServerIdentity({ baseUrl: 'x/', call: async () => Promise.reject(new ServerError(404, 'not-found', 'no route')) } as never, new Memory());
  await old.refresh();
  expect([old.known, old.me, old.can('delete')]).toEqual([true, undefined, true]);
  let fail = false;
  const flaky = new ServerIdentity({ baseUrl: 'y/', call: async () => (fail ? Promise.reject(new Error('down')) : user([{ project: 'ml', role: 'viewer' }])) } as never, new Memory());
  await flaky.refresh();
  fail = true;
  await flaky.refresh();
  expect([flaky.role(), flaky.can('run')]).toEqual(['viewer', false]);
});
