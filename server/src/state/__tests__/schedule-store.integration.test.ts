/** Schedules, run webhooks and webhook deliveries in the state store (SQLite and PostgreSQL). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { RunNotification, Schedule } from '@cellgraph/schema';
import { StateError } from '../../errors';
import { MIGRATIONS } from '../migrations';
import type { ServerStateStore } from '../open-state-store';
import { scheduleRepository } from '../schedule-store';
import { SqliteStateStore } from '../sqlite-state-store';
import { STATE_STORES, TestDatabase } from './state-stores';

const VERSION = `sha256:${'a'.repeat(64)}`;

function schedule(over: Partial<Schedule> = {}): Schedule {
  return {
    id: 'nightly',
    workflow: 'iris',
    version: VERSION,
    cron: '30 2 * * *',
    timezone: 'Europe/Berlin',
    params: { epochs: 5 },
    concurrencyPolicy: 'Forbid',
    missedRunPolicy: 'runOnce',
    paused: false,
    webhookUrl: 'http://127.0.0.1:9/hook?token=abc',
    createdAt: '2026-11-24T10:00:00.000Z',
    updatedAt: '2026-11-24T10:00:00.000Z',
    ...over
  };
}

const payload: RunNotification = {
  event: 'run.finished',
  runId: 's-nightly-20261124t013000z',
  workflow: 'iris',
  version: VERSION,
  status: 'succeeded',
  scheduleId: 'nightly',
  params: { epochs: 5 },
  tasks: [{ name: 'train', status: 'succeeded', attempts: 1, cached: false }],
  finishedAt: '2026-11-24T01:30:05.000Z'
};

describe.each(STATE_STORES)('schedules and notifications on %s', (_dialect, database) => {
  let db: TestDatabase;
  let state: ServerStateStore;
  beforeEach(async () => {
    db = await database('schedule_store');
    state = await db.open();
  });
  afterEach(async () => {
    await state.close();
    db.dispose();
  });

  it('keeps schedules and their last handled fire across reopen; saving keeps lastFiredAt', async () => {
    const repo = scheduleRepository(state);
    await repo.save(schedule());
    await repo.save(schedule({ id: 'adhoc', paused: true, webhookUrl: undefined }));
    expect(await repo.getLastFiredAt('nightly')).toBeUndefined();
    await repo.setLastFiredAt('nightly', new Date('2026-11-25T01:30:00Z'));
    await repo.save(schedule({ cron: '0 3 * * *', updatedAt: '2026-11-25T09:00:00.000Z' }));
    await state.close();

    state = await db.open();
    const again = scheduleRepository(state);
    expect((await again.list()).map((s) => s.id)).toEqual(['adhoc', 'nightly']);
    expect(await again.get('nightly')).toEqual(schedule({ cron: '0 3 * * *', updatedAt: '2026-11-25T09:00:00.000Z' }));
    expect((await again.get('adhoc'))?.webhookUrl).toBeUndefined();
    expect((await again.getLastFiredAt('nightly'))?.toISOString()).toBe('2026-11-25T01:30:00.000Z');
    expect(await again.get('missing')).toBeUndefined();
  });

  it('deletes a schedule with its lastFiredAt; a late setLastFiredAt does not bring it back', async () => {
    const repo = scheduleRepository(state);
    await repo.save(schedule());
    await repo.setLastFiredAt('nightly', new Date('2026-11-25T01:30:00Z'));
    expect(await repo.delete('nightly')).toBe(true);
    expect(await repo.delete('nightly')).toBe(false);
    await repo.setLastFiredAt('nightly', new Date('2026-11-26T01:30:00Z'));
    expect(await repo.get('nightly')).toBeUndefined();
    expect(await repo.getLastFiredAt('nightly')).toBeUndefined();
    await repo.save(schedule());
    expect(await repo.getLastFiredAt('nightly')).toBeUndefined();
  });

  it('refuses to store a schedule that does not parse, and reports a corrupt stored row as a StateError', async () => {
    await expect(state.saveSchedule(schedule({ timezone: 'Mars/Olympus' }))).rejects.toThrow(/unknown time zone/);
    await db.exec("INSERT INTO schedules (id, workflow, definition, created_at, updated_at) VALUES ('bad', 'iris', '{\"id\":\"bad\"}', 'x', 'x')");
    await expect(state.getSchedule('bad')).rejects.toThrow(StateError);
  });

  it('records run webhooks once per URL and deliveries with their attempts; lists the pending ones with their payload', async () => {
    const runId = payload.runId;
    await state.addRunWebhooks(runId, [{ url: 'http://127.0.0.1:9/a', source: 'schedule' }]);
    await state.addRunWebhooks(runId, [
      { url: 'http://127.0.0.1:9/a', source: 'schedule' },
      { url: 'http://127.0.0.1:9/b', source: 'run' }
    ]);
    expect(await state.getRunWebhooks(runId)).toEqual([
      { url: 'http://127.0.0.1:9/a', source: 'schedule' },
      { url: 'http://127.0.0.1:9/b', source: 'run' }
    ]);
    const a = await state.createDelivery({ runId, url: 'http://127.0.0.1:9/a', source: 'schedule', payload });
    const b = await state.createDelivery({ runId, url: 'http://127.0.0.1:9/b', source: 'run', payload });
    expect(a).toMatchObject({ id: expect.any(Number), status: 'pending', attempts: 0 });
    await state.updateDelivery(a.id, { status: 'pending', attempts: 1, statusCode: 500, error: 'HTTP 500' });
    await state.updateDelivery(a.id, { status: 'delivered', attempts: 2, statusCode: 200 });
    await state.updateDelivery(b.id, { attempts: 1, error: 'no answer within 500 ms' });
    const listed = await state.listDeliveries(runId);
    expect(listed.map((d) => [d.url.slice(-1), d.status, d.attempts, d.statusCode, d.error])).toEqual([
      ['a', 'delivered', 2, 200, 'HTTP 500'],
      ['b', 'pending', 1, undefined, 'no answer within 500 ms']
    ]);
    const pending = await state.listPendingDeliveries();
    expect(pending).toEqual([{ delivery: expect.objectContaining({ id: b.id }), payload }]);
    await state.deleteRunWebhooks(runId);
    expect(await state.getRunWebhooks(runId)).toEqual([]);
  });

  it('never moves lastFiredAt backwards (replicas record the fires they handled in any order)', async () => {
    const repo = scheduleRepository(state);
    await repo.save(schedule());
    await repo.setLastFiredAt('nightly', new Date('2026-11-26T01:30:00Z'));
    await repo.setLastFiredAt('nightly', new Date('2026-11-25T01:30:00Z'));
    expect((await repo.getLastFiredAt('nightly'))?.toISOString()).toBe('2026-11-26T01:30:00.000Z');
  });
});

describe('SqliteStateStore migrations', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-sched-state-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('upgrades a database at migration 2 in place', async () => {
    const old = path.join(dir, 'old.db');
    const db = new Database(old);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    for (const m of MIGRATIONS.filter((m) => m.version <= 2)) {
      db.exec(m.sql('sqlite'));
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(m.version, 'then');
    }
    db.close();
    const state = SqliteStateStore.open(old);
    await state.saveSchedule(schedule());
    expect((await state.listSchedules()).map((s) => s.id)).toEqual(['nightly']);
    await state.close();
    const check = new Database(old);
    expect(check.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
    check.close();
  });
});
