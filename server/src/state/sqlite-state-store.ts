import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { RunEvent, RunNotification, RunRecord, Schedule, TaskRunRecord, WebhookDelivery, WebhookSource } from '@cellgraph/schema';
import { NotFoundError, StateError } from '../errors';
import { Coordination, SqlCoordination } from './coordination';
import { MIGRATIONS } from './migrations';
import { SqlIdentityStore } from '../auth/sql-identity-store';
import type { DeliveryPatch, NotificationStore, PendingDelivery, RunWebhook } from './notification-store';
import type { ScheduleStore } from './schedule-store';
import type { CacheEntry, RunFence, RunPatch, StateStore, TaskRunPatch } from './state-store';
import { fenceCondition, fenceParams, leaseLost, namedFenceParams } from './fence';
import type { VersionRecord, VersionSelector, WorkflowVersionStore } from './version-store';
import {
  DELIVERY_PATCH_COLUMNS,
  encodeTaskPatch,
  nullableString,
  parseCacheRow,
  parseDeliveryRow,
  parseEventRow,
  parseRunRow,
  parseScheduleRow,
  parseTaskRow,
  parseVersionRow,
  RUN_PATCH_COLUMNS,
  runFilter,
  runRow,
  TASK_PATCH_COLUMNS,
  taskRow
} from './rows';
import type { SqlRunner } from './sql-runner';

/**
 * The embedded state store: one SQLite file (WAL mode) opened with better-sqlite3.
 * Rows are parsed with the schema's zod types on the way out; a row that does not parse
 * is reported as corrupt state rather than passed on.
 */
export class SqliteStateStore implements StateStore, WorkflowVersionStore, ScheduleStore, NotificationStore {
  private readonly db: Database.Database;
  /** Statements of the per-task write path, prepared once (preparing per write costs time and native memory per task). */
  private readonly statements = new Map<string, Database.Statement>();
  /** UPDATE statements by table, condition and the fields a patch sets. */
  private readonly updates = new Map<string, Database.Statement>();
  /** appendEvent's transaction, made once: better-sqlite3 builds four wrapper functions per `transaction()` call. */
  private appendEventTx?: (event: Omit<RunEvent, 'seq'>, fence: RunFence | undefined) => RunEvent;
  /** Leases, fire claims and live logs; one process owns a SQLite file, so nothing is shared. */
  readonly coordination: Coordination;
  /** Users, tokens, projects, members, the audit trail and secret references (issue 14). */
  readonly identity: SqlIdentityStore;

  private constructor(db: Database.Database) {
    this.db = db;
    this.coordination = new SqlCoordination(sqliteRunner(db), false);
    this.identity = new SqlIdentityStore(sqliteRunner(db));
  }

  /**
   * Opens (creating if needed) and migrates the database at `file`. A writer waits up to
   * `busyTimeoutMs` for another process's lock before giving up with a StateError.
   */
  static open(file: string, options: { busyTimeoutMs?: number } = {}): SqliteStateStore {
    try {
      if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
      const db = new Database(file, { timeout: options.busyTimeoutMs ?? 5000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db);
      return new SqliteStateStore(db);
    } catch (err) {
      throw new StateError(`cannot open the state database ${file}: ${(err as Error).message}`);
    }
  }

  async saveWorkflow(w: { version: string; name: string; notebookPath: string }): Promise<void> {
    this.write(() =>
      this.db
        .prepare('INSERT OR IGNORE INTO workflows (version, name, notebook_path, created_at) VALUES (?, ?, ?, ?)')
        .run(w.version, w.name, w.notebookPath, new Date().toISOString())
    );
  }

  async createRun(run: RunRecord, tasks: TaskRunRecord[]): Promise<void> {
    const insertRun = this.db.prepare(
      `INSERT INTO runs (id, workflow, version, notebook_path, params, status, executor, created_at, started_at, finished_at, error, executed_notebook, options)
       VALUES (@id, @workflow, @version, @notebookPath, @params, @status, @executor, @createdAt, @startedAt, @finishedAt, @error, @executedNotebook, @options)`
    );
    const insertTask = this.db.prepare(
      `INSERT INTO task_runs (run_id, task, position, status, attempts, cached, cache_key, started_at, finished_at, duration_ms, outputs, metrics, error)
       VALUES (@runId, @task, @position, @status, @attempts, @cached, @cacheKey, @startedAt, @finishedAt, @durationMs, @outputs, @metrics, @error)`
    );
    this.write(
      this.db.transaction(() => {
        insertRun.run(runRow(run));
        tasks.forEach((t, position) => insertTask.run({ ...taskRow(t), position }));
      })
    );
  }

  async updateRun(id: string, patch: RunPatch, fence?: RunFence): Promise<void> {
    this.fencedUpdate('runs', 'id = @id', { id }, RUN_PATCH_COLUMNS, patch as Record<string, unknown>, id, fence);
  }

  async updateTaskRun(runId: string, task: string, patch: TaskRunPatch, fence?: RunFence): Promise<void> {
    this.fencedUpdate('task_runs', 'run_id = @runId AND task = @task', { runId, task }, TASK_PATCH_COLUMNS, encodeTaskPatch(patch), runId, fence);
  }

  async assertFence(runId: string, fence: RunFence): Promise<void> {
    this.checkFence(runId, fence);
  }

  async getRun(id: string): Promise<RunRecord> {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id);
    if (row === undefined) throw new NotFoundError(`run ${JSON.stringify(id)} not found`);
    return parseRunRow(row);
  }

  async listRuns(options: { limit?: number; status?: RunRecord['status']; workflow?: string } = {}): Promise<RunRecord[]> {
    const { where, params } = runFilter(options);
    return this.db.prepare(`SELECT * FROM runs ${where} ORDER BY created_at DESC, id DESC LIMIT ?`).all(...params).map(parseRunRow);
  }

  async getTaskRuns(runId: string): Promise<TaskRunRecord[]> {
    const rows = this.db.prepare('SELECT * FROM task_runs WHERE run_id = ? ORDER BY position').all(runId);
    return rows.map(parseTaskRow);
  }

  async appendEvent(event: Omit<RunEvent, 'seq'>, fence?: RunFence): Promise<RunEvent> {
    return this.write(() => this.appendEventTransaction()(event, fence));
  }

  async listEvents(runId: string, afterSeq = -1): Promise<RunEvent[]> {
    return this.db.prepare('SELECT * FROM events WHERE run_id = ? AND seq > ? ORDER BY seq').all(runId, afterSeq).map(parseEventRow);
  }

  async getCacheEntry(key: string): Promise<CacheEntry | undefined> {
    const row = this.prepared('SELECT * FROM cache_entries WHERE key = ?').get(key);
    return row === undefined ? undefined : parseCacheRow(row);
  }

  async putCacheEntry(e: CacheEntry): Promise<void> {
    // Prepared once: a foreach writes one entry per element.
    this.write(() =>
      this.prepared('INSERT OR REPLACE INTO cache_entries (key, task, outputs, metrics, run_id, attempt, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        e.key,
        e.task,
        JSON.stringify(e.outputs),
        JSON.stringify(e.metrics),
        e.runId,
        e.attempt,
        e.createdAt
      )
    );
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  async promoteVersion(v: { workflow: string; version: string; notebookPath: string; workDir: string }): Promise<{ created: boolean; record: VersionRecord }> {
    const existing = this.db.prepare('SELECT * FROM workflow_versions WHERE workflow = ? AND version = ?');
    const next = this.db.prepare('SELECT COALESCE(MAX(number), 0) + 1 AS number FROM workflow_versions WHERE workflow = ?');
    const insert = this.db.prepare(
      'INSERT INTO workflow_versions (workflow, number, version, notebook_path, work_dir, promoted_at) VALUES (?, ?, ?, ?, ?, ?)'
    );
    // One transaction: two promotions of the same content at once still make one version.
    return this.write(
      this.db.transaction(() => {
        const row = existing.get(v.workflow, v.version);
        if (row !== undefined) return { created: false, record: parseVersionRow(row) };
        const { number } = z.object({ number: z.number() }).parse(next.get(v.workflow));
        const promotedAt = new Date().toISOString();
        insert.run(v.workflow, number, v.version, v.notebookPath, v.workDir, promotedAt);
        return { created: true, record: { workflow: v.workflow, number, version: v.version, notebookPath: v.notebookPath, workDir: v.workDir, promotedAt } };
      })
    );
  }

  async listPromotedWorkflows(): Promise<{ workflow: string; versions: number; latest: VersionRecord }[]> {
    const rows = this.db
      .prepare(
        `SELECT v.*, c.count AS count FROM workflow_versions v
         JOIN (SELECT workflow, MAX(number) AS latest, COUNT(*) AS count FROM workflow_versions GROUP BY workflow) c
           ON c.workflow = v.workflow AND c.latest = v.number
         ORDER BY v.workflow`
      )
      .all();
    return rows.map((r) => ({ workflow: parseVersionRow(r).workflow, versions: z.object({ count: z.number() }).parse(r).count, latest: parseVersionRow(r) }));
  }

  async listVersions(workflow: string): Promise<VersionRecord[]> {
    const rows = this.db.prepare('SELECT * FROM workflow_versions WHERE workflow = ? ORDER BY number').all(workflow);
    if (rows.length === 0) throw new NotFoundError(`workflow ${JSON.stringify(workflow)} has no promoted versions`);
    return rows.map(parseVersionRow);
  }

  async getVersion(workflow: string, which: VersionSelector): Promise<VersionRecord> {
    const row =
      'number' in which
        ? this.db.prepare('SELECT * FROM workflow_versions WHERE workflow = ? AND number = ?').get(workflow, which.number)
        : this.db.prepare('SELECT * FROM workflow_versions WHERE workflow = ? AND version = ?').get(workflow, which.version);
    if (row === undefined) {
      const what = 'number' in which ? `version ${which.number}` : `version ${which.version}`;
      throw new NotFoundError(`workflow ${JSON.stringify(workflow)} has no ${what}`);
    }
    return parseVersionRow(row);
  }

  async setRetryOf(runId: string, retryOf: string): Promise<void> {
    this.write(() => this.db.prepare('INSERT OR REPLACE INTO run_retries (run_id, retry_of) VALUES (?, ?)').run(runId, retryOf));
  }

  async getRetryOf(runId: string): Promise<string | undefined> {
    const row = this.db.prepare('SELECT retry_of FROM run_retries WHERE run_id = ?').get(runId);
    return row === undefined ? undefined : z.object({ retry_of: z.string() }).parse(row).retry_of;
  }

  async listSchedules(): Promise<Schedule[]> {
    return this.db.prepare('SELECT definition FROM schedules ORDER BY id').all().map(parseScheduleRow);
  }

  async getSchedule(id: string): Promise<Schedule | undefined> {
    const row = this.db.prepare('SELECT definition FROM schedules WHERE id = ?').get(id);
    return row === undefined ? undefined : parseScheduleRow(row);
  }

  async saveSchedule(schedule: Schedule): Promise<void> {
    const checked = Schedule.parse(schedule);
    this.write(() =>
      this.db
        .prepare(
          `INSERT INTO schedules (id, workflow, definition, created_at, updated_at) VALUES (@id, @workflow, @definition, @createdAt, @updatedAt)
           ON CONFLICT(id) DO UPDATE SET workflow = excluded.workflow, definition = excluded.definition, updated_at = excluded.updated_at`
        )
        .run({ id: checked.id, workflow: checked.workflow, definition: JSON.stringify(checked), createdAt: checked.createdAt, updatedAt: checked.updatedAt })
    );
  }

  async deleteSchedule(id: string): Promise<boolean> {
    return this.write(() => this.db.prepare('DELETE FROM schedules WHERE id = ?').run(id).changes > 0);
  }

  async getScheduleLastFiredAt(id: string): Promise<Date | undefined> {
    const row = this.db.prepare('SELECT last_fired_at FROM schedules WHERE id = ?').get(id);
    if (row === undefined) return undefined;
    const at = z.object({ last_fired_at: nullableString }).parse(row).last_fired_at;
    return at === null ? undefined : new Date(at);
  }

  async setScheduleLastFiredAt(id: string, fireTime: Date): Promise<void> {
    // Never backwards: replicas record the fires they handled in any order.
    const at = fireTime.toISOString();
    this.write(() => this.db.prepare('UPDATE schedules SET last_fired_at = ? WHERE id = ? AND (last_fired_at IS NULL OR last_fired_at < ?)').run(at, id, at));
  }

  async addRunWebhooks(runId: string, hooks: RunWebhook[]): Promise<void> {
    const insert = this.db.prepare('INSERT OR IGNORE INTO run_webhooks (run_id, url, source) VALUES (?, ?, ?)');
    this.write(this.db.transaction(() => hooks.forEach((h) => insert.run(runId, h.url, h.source))));
  }

  async getRunWebhooks(runId: string): Promise<RunWebhook[]> {
    const rows = this.db.prepare('SELECT url, source FROM run_webhooks WHERE run_id = ? ORDER BY rowid').all(runId);
    return rows.map((r) => z.object({ url: z.string(), source: WebhookSource }).parse(r));
  }

  async deleteRunWebhooks(runId: string): Promise<void> {
    this.write(() => this.db.prepare('DELETE FROM run_webhooks WHERE run_id = ?').run(runId));
  }

  async createDelivery(d: { runId: string; url: string; source: WebhookSource; payload: RunNotification }): Promise<WebhookDelivery> {
    const now = new Date().toISOString();
    const payload = JSON.stringify(RunNotification.parse(d.payload));
    const id = this.write(
      () =>
        this.db
          .prepare(
            `INSERT INTO webhook_deliveries (run_id, url, source, payload, status, attempts, created_at, updated_at)
             VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)`
          )
          .run(d.runId, d.url, d.source, payload, now, now).lastInsertRowid
    );
    return { id: Number(id), runId: d.runId, url: d.url, source: d.source, status: 'pending', attempts: 0, createdAt: now, updatedAt: now };
  }

  async updateDelivery(id: number, patch: DeliveryPatch): Promise<void> {
    this.update('webhook_deliveries', 'id = @id', { id }, DELIVERY_PATCH_COLUMNS, { ...patch, updatedAt: new Date().toISOString() });
  }

  async listDeliveries(runId: string): Promise<WebhookDelivery[]> {
    return this.db.prepare('SELECT * FROM webhook_deliveries WHERE run_id = ? ORDER BY id').all(runId).map((r) => parseDeliveryRow(r).delivery);
  }

  async listPendingDeliveries(): Promise<PendingDelivery[]> {
    return this.db.prepare("SELECT * FROM webhook_deliveries WHERE status = 'pending' ORDER BY id").all().map(parseDeliveryRow);
  }

  /** An update of a run's row (or its task's), made only while the run's lease is the fence's, when one is given. */
  private fencedUpdate(
    table: string,
    where: string,
    keys: Record<string, unknown>,
    columns: Record<string, string>,
    patch: Record<string, unknown>,
    runId: string,
    fence: RunFence | undefined
  ): void {
    if (fence === undefined) {
      this.update(table, where, keys, columns, patch);
      return;
    }
    const written = this.update(table, `${where} AND ${fenceCondition('sqlite', true)}`, { ...keys, ...namedFenceParams(runId, fence) }, columns, patch);
    // No row written: the lease moved (the row itself exists, the run is running).
    if (written === 0) throw leaseLost(runId, fence);
    if (written === undefined) this.checkFence(runId, fence);
  }

  private checkFence(runId: string, fence: RunFence): void {
    if (this.db.prepare(`SELECT 1 WHERE ${fenceCondition('sqlite')}`).get(...fenceParams(runId, fence)) === undefined) throw leaseLost(runId, fence);
  }

  /** Rows updated; undefined when the patch names no column (nothing to do). */
  private update(table: string, where: string, keys: Record<string, unknown>, columns: Record<string, string>, patch: Record<string, unknown>): number | undefined {
    // Runs once per task state change: the statement is found by the patch's fields, without building its SQL again.
    let fields = '';
    const values: Record<string, unknown> = { ...keys };
    for (const field in patch) {
      if (columns[field] === undefined) continue;
      fields = fields === '' ? field : `${fields},${field}`;
      const value = patch[field];
      values[`p_${field}`] = value === undefined ? null : value;
    }
    if (fields === '') return undefined;
    const cacheKey = `${table}|${where}|${fields}`;
    let statement = this.updates.get(cacheKey);
    if (statement === undefined) {
      const sets = fields.split(',').map((field) => `${columns[field]} = @p_${field}`);
      this.updates.set(cacheKey, (statement = this.prepared(`UPDATE ${table} SET ${sets.join(', ')} WHERE ${where}`)));
    }
    const prepared = statement;
    return this.write(() => prepared.run(values).changes);
  }

  /** Numbers and inserts an event in one transaction (fence checked inside it). */
  private appendEventTransaction(): (event: Omit<RunEvent, 'seq'>, fence: RunFence | undefined) => RunEvent {
    if (this.appendEventTx !== undefined) return this.appendEventTx;
    const next = this.prepared('SELECT COALESCE(MAX(seq), -1) + 1 AS seq FROM events WHERE run_id = ?').pluck();
    const insert = this.prepared('INSERT INTO events (run_id, seq, time, kind, status, task, attempt, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.appendEventTx = this.db.transaction((event: Omit<RunEvent, 'seq'>, fence: RunFence | undefined): RunEvent => {
      if (fence !== undefined) this.checkFence(event.runId, fence);
      const seq: unknown = next.get(event.runId);
      // Checked without zod: this runs once per event, and an aggregate of our own column is a number or nothing.
      if (typeof seq !== 'number') throw new StateError(`the events table of run ${event.runId} returned no next sequence number`);
      insert.run(event.runId, seq, event.time, event.kind, event.status, event.task ?? null, event.attempt ?? null, event.message ?? null);
      return { ...event, seq };
    });
    return this.appendEventTx;
  }

  /** A statement prepared once per database (the update statements vary only by which columns a patch sets: a few dozen). */
  private prepared(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) this.statements.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }

  private write<T>(fn: () => T): T {
    return sqliteWrite(fn);
  }
}

/** Turns SQLite failures (busy, full, read-only) into a StateError that says what to do. */
function sqliteWrite<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (code === 'SQLITE_FULL') throw new StateError('the disk holding the state database is full; nothing was written');
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      throw new StateError('the state database is locked by another process; nothing was written');
    }
    if (code.startsWith('SQLITE_READONLY')) throw new StateError('the state database is read-only; nothing was written');
    throw err;
  }
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
  const applied = new Set(
    db
      .prepare('SELECT version FROM schema_migrations')
      .all()
      .map((r) => z.object({ version: z.number() }).parse(r).version)
  );
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql('sqlite'));
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(m.version, new Date().toISOString());
    })();
  }
}

/** SqlRunner over better-sqlite3 (booleans bound as 0/1, which SQLite stores them as; failures as StateError). */
function sqliteRunner(db: Database.Database): SqlRunner {
  const runner: SqlRunner = {
    dialect: 'sqlite',
    async all(sql, params = []) {
      const values = params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
      return sqliteWrite(() => {
        const stmt = db.prepare(sql);
        if (!stmt.reader) {
          stmt.run(...values);
          return [];
        }
        return stmt.all(...values) as Record<string, unknown>[];
      });
    },
    transaction: (fn) => fn(runner)
  };
  return runner;
}
