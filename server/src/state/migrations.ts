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
  }
];
