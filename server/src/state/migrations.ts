/**
 * Versioned schema migrations for the state database. Append only: a released step is
 * never edited, so every existing database upgrades through the same path.
 */
export const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE workflows (
        version TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        notebook_path TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        workflow TEXT NOT NULL,
        version TEXT NOT NULL REFERENCES workflows(version),
        notebook_path TEXT NOT NULL,
        params TEXT NOT NULL,
        status TEXT NOT NULL,
        executor TEXT NOT NULL,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        error TEXT,
        executed_notebook TEXT
      );
      CREATE INDEX runs_by_created ON runs(created_at);
      CREATE INDEX runs_by_status ON runs(status);
      CREATE TABLE task_runs (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        task TEXT NOT NULL,
        position INTEGER NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        cached INTEGER NOT NULL,
        cache_key TEXT,
        started_at TEXT,
        finished_at TEXT,
        duration_ms REAL,
        outputs TEXT NOT NULL,
        metrics TEXT NOT NULL,
        error TEXT,
        PRIMARY KEY (run_id, task)
      );
      CREATE TABLE events (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        time TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        task TEXT,
        attempt INTEGER,
        message TEXT,
        PRIMARY KEY (run_id, seq)
      );
      CREATE TABLE cache_entries (
        key TEXT PRIMARY KEY,
        task TEXT NOT NULL,
        outputs TEXT NOT NULL,
        metrics TEXT NOT NULL,
        run_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        created_at TEXT NOT NULL
      );
    `
  },
  {
    // Promoted workflow versions (numbered per workflow; one row per content hash) and
    // the link from a retry to the run it retries.
    version: 2,
    sql: `
      CREATE TABLE workflow_versions (
        workflow TEXT NOT NULL,
        number INTEGER NOT NULL,
        version TEXT NOT NULL REFERENCES workflows(version),
        notebook_path TEXT NOT NULL,
        work_dir TEXT NOT NULL,
        promoted_at TEXT NOT NULL,
        PRIMARY KEY (workflow, number),
        UNIQUE (workflow, version)
      );
      CREATE TABLE run_retries (
        run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
        retry_of TEXT NOT NULL
      );
    `
  },
  {
    // Cron schedules (the Schedule JSON, parsed with its zod schema on read, plus the
    // last fire the scheduler handled), the webhooks each run notifies (recorded before
    // the run starts, hence no foreign key: the run row does not exist yet), and every
    // webhook delivery with its payload, so a delivery cut short by a restart is retried.
    version: 3,
    sql: `
      CREATE TABLE schedules (
        id TEXT PRIMARY KEY,
        workflow TEXT NOT NULL,
        definition TEXT NOT NULL,
        last_fired_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE run_webhooks (
        run_id TEXT NOT NULL,
        url TEXT NOT NULL,
        source TEXT NOT NULL,
        PRIMARY KEY (run_id, url)
      );
      CREATE TABLE webhook_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL,
        url TEXT NOT NULL,
        source TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        status_code INTEGER,
        error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX webhook_deliveries_by_run ON webhook_deliveries(run_id);
      CREATE INDEX webhook_deliveries_by_status ON webhook_deliveries(status);
    `
  }
];
