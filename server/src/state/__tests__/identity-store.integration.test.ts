/**
 * The identity store (users, tokens, projects, members, resource projects, the audit trail,
 * secret references) on SQLite and PostgreSQL alike, through migration 6.
 */
import { createAuth, scheduledRunAudit } from '../../auth';
import { newToken } from '../../auth/api-tokens';
import { admitRun, claimWorkflow, projectOfRun, projectsOfRuns } from '../../auth/projects';
import type { ServerStateStore } from '../open-state-store';
import { STATE_STORES, TestDatabase } from './state-stores';

const version = `sha256:${'b'.repeat(64)}`;

describe.each(STATE_STORES)('identity store on %s', (_dialect, database) => {
  let db: TestDatabase;
  let state: ServerStateStore;
  beforeEach(async () => {
    db = await database('identity');
    state = await db.open();
    await state.identity.init();
  });
  afterEach(async () => {
    await state.close();
    db.dispose();
  });

  it('keeps tokens by hash, lists them per user, revokes once, and survives a reopen', async () => {
    const a = newToken('alice', 'laptop', ['read', 'run'], 30, new Date('2026-01-01T00:00:00Z'));
    const b = newToken('bob', 'ci', ['read'], 30, new Date('2026-01-02T00:00:00Z'));
    await state.identity.createToken(a.record);
    await state.identity.createToken(b.record);
    expect(await state.identity.findTokenByHash(a.record.hash)).toEqual(a.record);
    expect((await state.identity.listTokens('alice')).map((t) => t.id)).toEqual([a.record.id]);
    expect((await state.identity.listTokens()).map((t) => t.id)).toEqual([b.record.id, a.record.id]);
    expect((await state.identity.revokeToken(a.record.id, '2026-01-03T00:00:00.000Z'))?.revokedAt).toBe('2026-01-03T00:00:00.000Z');
    expect((await state.identity.revokeToken(a.record.id, '2026-01-04T00:00:00.000Z'))?.revokedAt).toBe('2026-01-03T00:00:00.000Z');
    expect(await state.identity.revokeToken('000000000000', '2026-01-04T00:00:00.000Z')).toBeUndefined();
    await state.close();
    state = await db.open();
    expect((await state.identity.getToken(a.record.id))?.revokedAt).toBe('2026-01-03T00:00:00.000Z');
  });

  it('has the default project, creates others once, and keeps members of users and groups', async () => {
    expect((await state.identity.listProjects()).map((p) => p.name)).toEqual(['default']);
    await state.identity.init(); // idempotent
    expect(await state.identity.createProject({ name: 'ml', description: 'd', createdAt: '2026-01-01T00:00:00.000Z', createdBy: 'server' })).toBe(true);
    expect(await state.identity.createProject({ name: 'ml', description: 'again', createdAt: '2026-01-01T00:00:00.000Z', createdBy: 'server' })).toBe(false);
    await state.identity.setMember('ml', 'alice', 'viewer', 't1');
    await state.identity.setMember('ml', 'alice', 'editor', 't2');
    await state.identity.setMember('ml', 'group:ds', 'admin', 't3');
    expect(await state.identity.listMembers('ml')).toEqual([
      { project: 'ml', member: 'alice', role: 'editor', updatedAt: 't2' },
      { project: 'ml', member: 'group:ds', role: 'admin', updatedAt: 't3' }
    ]);
    expect((await state.identity.membershipsOf(['group:ds'])).map((m) => m.role)).toEqual(['admin']);
    expect(await state.identity.removeMember('ml', 'alice')).toBe(true);
    expect(await state.identity.removeMember('ml', 'alice')).toBe(false);
  });

  it('knows which project a run is in: recorded first (never moved), else its workflow, else default', async () => {
    await state.saveWorkflow({ version, name: 'wf', notebookPath: '/nb.ipynb' });
    const run = (id: string, workflow = 'wf') => ({ id, workflow, version, notebookPath: '/nb.ipynb', params: {}, status: 'succeeded' as const, executor: 'local', createdAt: '2026-01-01T00:00:00.000Z' });
    await state.createRun(run('r-old'), []);
    const lookup = { identity: state.identity, state };
    expect(await projectOfRun(lookup, 'r-old')).toBe('default');
    expect(await projectOfRun(lookup, 'r-none')).toBeUndefined();
    await state.identity.setProjectOf('workflow', 'wf', 'ml');
    expect(await projectOfRun(lookup, 'r-old')).toBe('ml');
    await state.identity.setProjectOf('run', 'r-old', 'default');
    await state.identity.setProjectOf('run', 'r-old', 'other'); // first write wins
    expect(await projectOfRun(lookup, 'r-old')).toBe('default');
    expect(await projectsOfRuns(lookup, [run('r-old'), run('r-new')])).toEqual(new Map([['r-old', 'default'], ['r-new', 'ml']]));
  });

  it('keeps a workflow in the project it was first promoted in; one from before projects stays in default', async () => {
    await state.saveWorkflow({ version, name: 'old', notebookPath: '/nb.ipynb' });
    await state.promoteVersion({ workflow: 'old', version, notebookPath: '/nb.ipynb', workDir: '/' });
    await expect(claimWorkflow(state.identity, state, 'old', 'ml')).rejects.toThrow(/workflow old belongs to another project/);
    await claimWorkflow(state.identity, state, 'old', 'default');
    await claimWorkflow(state.identity, state, 'fresh', 'ml');
    await claimWorkflow(state.identity, state, 'fresh', 'ml');
    expect(await state.identity.projectOf('workflow', 'fresh')).toBe('ml');
    await expect(claimWorkflow(state.identity, state, 'fresh', 'default')).rejects.toThrow(/belongs to another project/);
    await expect(claimWorkflow(state.identity, state, 'fresh', 'other')).rejects.toThrow(/belongs to another project/);
  });

  it('admits a run outside default only with the secrets its project declares', async () => {
    await state.identity.createProject({ name: 'ml', description: '', createdAt: 't', createdBy: 'server' });
    const lookup = { identity: state.identity, state };
    const tasks = [{ name: 'train', policy: { secrets: [{ secret: 'db-creds', key: 'password' }] } }];
    await expect(admitRun(lookup, { runId: 'r-1', workflow: 'wf', tasks }, { project: 'ml' })).rejects.toThrow(/secret db-creds.*project ml does not declare/);
    expect(await state.identity.projectOf('run', 'r-1')).toBeUndefined();
    await state.identity.putSecret({ project: 'ml', name: 'db-creds', keys: ['password'], description: '', updatedAt: 't', updatedBy: 'server' });
    expect(await admitRun(lookup, { runId: 'r-1', workflow: 'wf', tasks }, { project: 'ml' })).toBe('ml');
    expect(await admitRun(lookup, { runId: 'r-2', workflow: 'wf', tasks }, { retryOf: 'r-1' })).toBe('ml');
    expect(await admitRun(lookup, { runId: 'r-3', workflow: 'wf', tasks }, {})).toBe('default'); // default stays zero-config
    expect((await state.identity.listSecrets('ml')).map((s) => s.keys)).toEqual([['password']]);
    expect(await state.identity.deleteSecret('ml', 'db-creds')).toBe(true);
    expect(await state.identity.deleteSecret('ml', 'db-creds')).toBe(false);
  });

  it('filters the audit trail by visible projects or actor, project, action and time, newest first', async () => {
    const entry = (time: string, actor: string, action: string, project: string | null) => ({ time, actor, actorKind: 'user' as const, action, project, target: 't', detail: { n: 1 } });
    await state.identity.appendAudit(entry('2026-01-01T00:00:00.000Z', 'alice', 'run.create', 'ml'));
    await state.identity.appendAudit(entry('2026-01-02T00:00:00.000Z', 'bob', 'run.cancel', 'other'));
    await state.identity.appendAudit(entry('2026-01-03T00:00:00.000Z', 'bob', 'token.create', null));
    const actions = async (f: Parameters<typeof state.identity.listAudit>[0]) => (await state.identity.listAudit(f)).map((e) => e.action);
    expect(await actions({ limit: 10 })).toEqual(['token.create', 'run.cancel', 'run.create']);
    expect(await actions({ projects: ['ml'], limit: 10 })).toEqual(['run.create']);
    expect(await actions({ projects: ['ml'], orActor: 'bob', limit: 10 })).toEqual(['token.create', 'run.cancel', 'run.create']);
    expect(await actions({ projects: [], limit: 10 })).toEqual([]);
    expect(await actions({ action: 'run.cancel', limit: 10 })).toEqual(['run.cancel']);
    expect(await actions({ since: '2026-01-02T00:00:00Z', limit: 10 })).toEqual(['token.create', 'run.cancel']);
    expect(await actions({ limit: 1 })).toEqual(['token.create']);
    expect((await state.identity.listAudit({ limit: 1 }))[0]).toMatchObject({ actor: 'bob', actorKind: 'user', detail: { n: 1 }, project: null });
  });
});

describe.each(STATE_STORES)('scheduled runs in the audit trail on %s', (_dialect, database) => {
  it("records a fire as the schedule's project service, not as the person who created the schedule", async () => {
    const db = await database('identity-fires');
    const state = await db.open();
    try {
      await state.identity.init();
      await state.identity.setProjectOf('schedule', 'nightly', 'ml');
      const auth = createAuth({ identity: state.identity, lookup: { identity: state.identity, state }, serverToken: 'server-token-0123456789' });
      await scheduledRunAudit(auth, state, 'nightly', 's-nightly-20260101t000000z');
      const [entry] = await state.identity.listAudit({ limit: 1 });
      expect(entry).toMatchObject({ actor: 'project:ml', actorKind: 'service', action: 'run.scheduled', project: 'ml', target: 's-nightly-20260101t000000z', detail: { schedule: 'nightly', via: 'scheduler' } });
    } finally {
      await state.close();
      db.dispose();
    }
  });
});
