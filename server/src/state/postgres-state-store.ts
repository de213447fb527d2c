import { Pool, type PoolClient, types as pgTypes } from 'pg';
import { z } from 'zod';
import { RunEvent, RunNotification, RunRecord, Schedule, TaskRunRecord, WebhookDelivery, WebhookSource } from '@cellgraph/schema';
import { NotFoundError, StateError } from '../errors';
import { Coordination, SqlCoordination } from './coordination';
import { MIGRATIONS } from './migrations';
import type { DeliveryPatch, NotificationStore, PendingDelivery, RunWebhook } from './notification-store';
import {
  DELIVERY_PATCH_COLUMNS,
  encodeTaskPatch,
  nullableString,
  parseCacheRow,
  parseDeliveryRow,
  parseEventRow,
  listRunsQuery,
  parseRunRow,
  parseScheduleRow,
  parseTaskRow,
  parseVersionRow,
  RUN_PATCH_COLUMNS,
  runRow,
  TASK_PATCH_COLUMNS,
  taskRow
} from './rows';
import type { ScheduleStore } from './schedule-store';
import { numberPlaceholders, type SqlRunner } from './sql-runner';
import type { CacheEntry, RunPatch, StateStore, TaskRunPatch } from './state-store';
import type { VersionRecord, VersionSelector, WorkflowVersionStore } from './version-store';

/** Key of the advisory lock replicas take to migrate one at a time ("cellgraph" in ASCII, as a bigint). */
const MIGRATION_LOCK = 0x63656c6c67726170n;

/** BIGINT (COUNT, lease expiry) as a number: every value stored here is far below 2^53. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pgTypes.builtins.INT8 ? (v: string) => Number(v) : pgTypes.getTypeParser(oid, format)) as typeof pgTypes.getTypeParser
};

/**
 * The production state store: PostgreSQL through node-postgres, for several server
 * replicas on one database. Same tables, same migrations (one list, per-dialect column
 * types) and same row parsing as SQLite; writes that must not interleave across replicas
 * take row or advisory locks inside one transaction.
 */
export class PostgresStateStore implements StateStore, WorkflowVersionStore, ScheduleStore, NotificationStore {
  /** Leases, fire claims and live logs, shared by every replica on this database. */
  readonly coordination: Coordination;
  private readonly db: SqlRunner;

  private constructor(private readonly pool: Pool) {
    this.db = poolRunner(pool);
    this.coordination = new SqlCoordination(this.db, true);
  }

  /** Connects and migrates (under an advisory lock: replicas starting together migrate once). */
  static async open(url: string, options: { maxConnections?: number } = {}): Promise<PostgresStateStore> {
    const pool = new Pool({ connectionString: url, max: options.maxConnections ?? 10, types: TYPES });
    // An idle connection the server dropped must not crash the process; the next query reconnects.
    pool.on('error', (err) => process.stderr.write(`cellgraph: PostgreSQL connection lost: ${err.message}\n`));
    try {
      await migrate(pool);
    } catch (err) {
      await pool.end();
      throw new StateError(`cannot open the state database ${redact(url)}: ${(err as Error).message}`);
    }
    return new PostgresStateStore(pool);
  }

  async saveWorkflow(w: { version: string; name: string; notebookPath: string }): Promise<void> {
    await this.db.all('INSERT INTO workflows (version, name, notebook_path, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [
      w.version,
      w.name,
      w.notebookPath,
      new Date().toISOString()
    ]);
  }

  async createRun(run: RunRecord, tasks: TaskRunRecord[]): Promise<void> {
    const r = runRow(run);
    await this.db.transaction(async (tx) => {
      await tx.all(
        `INSERT INTO runs (id, workflow, version, notebook_path, params, status, executor, created_at, started_at, finished_at, error, executed_notebook, options)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [r.id, r.workflow, r.version, r.notebookPath, r.params, r.status, r.executor, r.createdAt, r.startedAt, r.finishedAt, r.error, r.executedNotebook, r.options]
      );
      for (const [position, t] of tasks.entries()) {
        const row = taskRow(t);
        await tx.all(
          `INSERT INTO task_runs (run_id, task, position, status, attempts, cached, cache_key, started_at, finished_at, duration_ms, outputs, metrics, error)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [row.runId, row.task, position, row.status, row.attempts, row.cached, row.cacheKey, row.startedAt, row.finishedAt, row.durationMs, row.outputs, row.metrics, row.error]
        );
      }
    });
  }

  async updateRun(id: string, patch: RunPatch): Promise<void> {
    await this.update('runs', 'id = ?', [id], RUN_PATCH_COLUMNS, patch);
  }

  async updateTaskRun(runId: string, task: string, patch: TaskRunPatch): Promise<void> {
    await this.update('task_runs', 'run_id = ? AND task = ?', [runId, task], TASK_PATCH_COLUMNS, encodeTaskPatch(patch));
  }

  async getRun(id: string): Promise<RunRecord> {
    const rows = await this.db.all('SELECT * FROM runs WHERE id = ?', [id]);
    if (rows.length === 0) throw new NotFoundError(`run ${JSON.stringify(id)} not found`);
    return parseRunRow(rows[0]);
  }

  async listRuns(options: { limit?: number; status?: RunRecord['status']; workflow?: string } = {}): Promise<RunRecord[]> {
    const { sql, args } = listRunsQuery(options);
    return (await this.db.all(sql, args)).map(parseRunRow);
  }

  async getTaskRuns(runId: string): Promise<TaskRunRecord[]> {
    return (await this.db.all('SELECT * FROM task_runs WHERE run_id = ? ORDER BY position', [runId])).map(parseTaskRow);
  }

  async appendEvent(event: Omit<RunEvent, 'seq'>): Promise<RunEvent> {
    return this.db.transaction(async (tx) => {
      // Tasks of one run publish concurrently: numbering is serialized per run.
      await tx.all("SELECT pg_advisory_xact_lock(hashtext('events:' || ?))", [event.runId]);
      const [next] = await tx.all('SELECT COALESCE(MAX(seq), -1) + 1 AS seq FROM events WHERE run_id = ?', [event.runId]);
      const { seq } = z.object({ seq: z.number() }).parse(next);
      const full: RunEvent = { ...event, seq };
      await tx.all('INSERT INTO events (run_id, seq, time, kind, status, task, attempt, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
        full.runId,
        seq,
        full.time,
        full.kind,
        full.status,
        full.task ?? null,
        full.attempt ?? null,
        full.message ?? null
      ]);
      return full;
    });
  }

  async listEvents(runId: string, afterSeq = -1): Promise<RunEvent[]> {
    return (await this.db.all('SELECT * FROM events WHERE run_id = ? AND seq > ? ORDER BY seq', [runId, afterSeq])).map(parseEventRow);
  }

  async getCacheEntry(key: string): Promise<CacheEntry | undefined> {
    const rows = await this.db.all('SELECT * FROM cache_entries WHERE key = ?', [key]);
    return rows.length === 0 ? undefined : parseCacheRow(rows[0]);
  }

  async putCacheEntry(e: CacheEntry): Promise<void> {
    await this.db.all(
      `INSERT INTO cache_entries (key, task, outputs, metrics, run_id, attempt, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET task = excluded.task, outputs = excluded.outputs, metrics = excluded.metrics,
         run_id = excluded.run_id, attempt = excluded.attempt, created_at = excluded.created_at`,
      [e.key, e.task, JSON.stringify(e.outputs), JSON.stringify(e.metrics), e.runId, e.attempt, e.createdAt]
    );
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }

  async promoteVersion(v: { workflow: string; version: string; notebookPath: string; workDir: string }): Promise<{ created: boolean; record: VersionRecord }> {
    // One transaction under a per-workflow lock: two promotions at once still make one version.
    return this.db.transaction(async (tx) => {
      await tx.all("SELECT pg_advisory_xact_lock(hashtext('promote:' || ?))", [v.workflow]);
      const existing = await tx.all('SELECT * FROM workflow_versions WHERE workflow = ? AND version = ?', [v.workflow, v.version]);
      if (existing.length > 0) return { created: false, record: parseVersionRow(existing[0]) };
      const [next] = await tx.all('SELECT COALESCE(MAX(number), 0) + 1 AS number FROM workflow_versions WHERE workflow = ?', [v.workflow]);
      const { number } = z.object({ number: z.number() }).parse(next);
      const promotedAt = new Date().toISOString();
      await tx.all('INSERT INTO workflow_versions (workflow, number, version, notebook_path, work_dir, promoted_at) VALUES (?, ?, ?, ?, ?, ?)', [
        v.workflow,
        number,
        v.version,
        v.notebookPath,
        v.workDir,
        promotedAt
      ]);
      return { created: true, record: { workflow: v.workflow, number, version: v.version, notebookPath: v.notebookPath, workDir: v.workDir, promotedAt } };
    });
  }

  async listPromotedWorkflows(): Promise<{ workflow: string; versions: number; latest: VersionRecord }[]> {
    const rows = await this.db.all(
      `SELECT v.*, c.count AS count FROM workflow_versions v
       JOIN (SELECT workflow, MAX(number) AS latest, COUNT(*) AS count FROM workflow_versions GROUP BY workflow) c
         ON c.workflow = v.workflow AND c.latest = v.number
       ORDER BY v.workflow`
    );
    return rows.map((r) => ({ workflow: parseVersionRow(r).workflow, versions: z.object({ count: z.number() }).parse(r).count, latest: parseVersionRow(r) }));
  }

  async listVersions(workflow: string): Promise<VersionRecord[]> {
    const rows = await this.db.all('SELECT * FROM workflow_versions WHERE workflow = ? ORDER BY number', [workflow]);
    if (rows.length === 0) throw new NotFoundError(`workflow ${JSON.stringify(workflow)} has no promoted versions`);
    return rows.map(parseVersionRow);
  }

  async getVersion(workflow: string, which: VersionSelector): Promise<VersionRecord> {
    const rows =
      'number' in which
        ? await this.db.all('SELECT * FROM workflow_versions WHERE workflow = ? AND number = ?', [workflow, which.number])
        : await this.db.all('SELECT * FROM workflow_versions WHERE workflow = ? AND version = ?', [workflow, which.version]);
    if (rows.length === 0) {
      const what = 'number' in which ? `version ${which.number}` : `version ${which.version}`;
      throw new NotFoundError(`workflow ${JSON.stringify(workflow)} has no ${what}`);
    }
    return parseVersionRow(rows[0]);
  }

  async setRetryOf(runId: string, retryOf: string): Promise<void> {
    await this.db.all('INSERT INTO run_retries (run_id, retry_of) VALUES (?, ?) ON CONFLICT (run_id) DO UPDATE SET retry_of = excluded.retry_of', [runId, retryOf]);
  }

  async getRetryOf(runId: string): Promise<string | undefined> {
    const rows = await this.db.all('SELECT retry_of FROM run_retries WHERE run_id = ?', [runId]);
    return rows.length === 0 ? undefined : z.object({ retry_of: z.string() }).parse(rows[0]).retry_of;
  }

  async listSchedules(): Promise<Schedule[]> {
    return (await this.db.all('SELECT definition FROM schedules ORDER BY id')).map(parseScheduleRow);
  }

  async getSchedule(id: string): Promise<Schedule | undefined> {
    const rows = await this.db.all('SELECT definition FROM schedules WHERE id = ?', [id]);
    return rows.length === 0 ? undefined : parseScheduleRow(rows[0]);
  }

  async saveSchedule(schedule: Schedule): Promise<void> {
    const checked = Schedule.parse(schedule);
    await this.db.all(
      `INSERT INTO schedules (id, workflow, definition, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET workflow = excluded.workflow, definition = excluded.definition, updated_at = excluded.updated_at`,
      [checked.id, checked.workflow, JSON.stringify(checked), checked.createdAt, checked.updatedAt]
    );
  }

  async deleteSchedule(id: string): Promise<boolean> {
    return (await this.db.all('DELETE FROM schedules WHERE id = ? RETURNING id', [id])).length > 0;
  }

  async getScheduleLastFiredAt(id: string): Promise<Date | undefined> {
    const rows = await this.db.all('SELECT last_fired_at FROM schedules WHERE id = ?', [id]);
    if (rows.length === 0) return undefined;
    const at = z.object({ last_fired_at: nullableString }).parse(rows[0]).last_fired_at;
    return at === null ? undefined : new Date(at);
  }

  async setScheduleLastFiredAt(id: string, fireTime: Date): Promise<void> {
    // Never backwards: replicas record the fires they handled in any order.
    await this.db.all('UPDATE schedules SET last_fired_at = ? WHERE id = ? AND (last_fired_at IS NULL OR last_fired_at < ?)', [
      fireTime.toISOString(),
      id,
      fireTime.toISOString()
    ]);
  }

  async addRunWebhooks(runId: string, hooks: RunWebhook[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const h of hooks) await tx.all('INSERT INTO run_webhooks (run_id, url, source) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [runId, h.url, h.source]);
    });
  }

  async getRunWebhooks(runId: string): Promise<RunWebhook[]> {
    // PostgreSQL has no rowid: insertion order is ctid order for rows never updated.
    const rows = await this.db.all('SELECT url, source FROM run_webhooks WHERE run_id = ? ORDER BY ctid', [runId]);
    return rows.map((r) => z.object({ url: z.string(), source: WebhookSource }).parse(r));
  }

  async deleteRunWebhooks(runId: string): Promise<void> {
    await this.db.all('DELETE FROM run_webhooks WHERE run_id = ?', [runId]);
  }

  async createDelivery(d: { runId: string; url: string; source: WebhookSource; payload: RunNotification }): Promise<WebhookDelivery> {
    const now = new Date().toISOString();
    const payload = JSON.stringify(RunNotification.parse(d.payload));
    const [row] = await this.db.all(
      `INSERT INTO webhook_deliveries (run_id, url, source, payload, status, attempts, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'pending', 0, ?, ?) RETURNING id`,
      [d.runId, d.url, d.source, payload, now, now]
    );
    const { id } = z.object({ id: z.number() }).parse(row);
    return { id, runId: d.runId, url: d.url, source: d.source, status: 'pending', attempts: 0, createdAt: now, updatedAt: now };
  }

  async updateDelivery(id: number, patch: DeliveryPatch): Promise<void> {
    await this.update('webhook_deliveries', 'id = ?', [id], DELIVERY_PATCH_COLUMNS, { ...patch, updatedAt: new Date().toISOString() });
  }

  async listDeliveries(runId: string): Promise<WebhookDelivery[]> {
    return (await this.db.all('SELECT * FROM webhook_deliveries WHERE run_id = ? ORDER BY id', [runId])).map((r) => parseDeliveryRow(r).delivery);
  }

  async listPendingDeliveries(): Promise<PendingDelivery[]> {
    return (await this.db.all("SELECT * FROM webhook_deliveries WHERE status = 'pending' ORDER BY id")).map(parseDeliveryRow);
  }

  private async update(table: string, where: string, keys: unknown[], columns: Record<string, string>, patch: Record<string, unknown>): Promise<void> {
    const sets: string[] = [];
    const values: unknown[] = [];
    for (const [field, value] of Object.entries(patch)) {
      const column = columns[field];
      if (column === undefined) continue;
      sets.push(`${column} = ?`);
      values.push(value === undefined ? null : value);
    }
    if (sets.length === 0) return;
    await this.db.all(`UPDATE ${table} SET ${sets.join(', ')} WHERE ${where}`, [...values, ...keys]);
  }
}

/** SqlRunner over a pool: each call on any free connection, a transaction on one. */
function poolRunner(pool: Pool): SqlRunner {
  const on = (query: (sql: string, params: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>) => async (sql: string, params: readonly unknown[] = []) =>
    (await query(numberPlaceholders(sql), [...params])).rows;
  return {
    dialect: 'postgres',
    all: on((sql, params) => pool.query(sql, params)),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const tx: SqlRunner = { dialect: 'postgres', all: on((sql, params) => client.query(sql, params)), transaction: (inner) => inner(tx) };
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    }
  };
}

/** Applies the migrations not yet applied, one replica at a time. */
async function migrate(pool: Pool): Promise<void> {
  const client: PoolClient = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    const applied = new Set((await client.query('SELECT version FROM schema_migrations')).rows.map((r) => z.object({ version: z.number() }).parse(r).version));
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql('postgres'));
        await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [m.version, new Date().toISOString()]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]).catch(() => undefined);
    client.release();
  }
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}
