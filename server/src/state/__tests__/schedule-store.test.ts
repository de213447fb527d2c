/** SQLite's own: a database from an older release upgraded in place. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { Schedule } from '@cellgraph/schema';
import { MIGRATIONS } from '../migrations';
import { SqliteStateStore } from '../sqlite-state-store';

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
