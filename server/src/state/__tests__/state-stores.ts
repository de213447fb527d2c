/**
 * The state stores every state-store test runs against: SQLite in a temporary directory
 * and PostgreSQL in a fresh database on the run's shared private cluster.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { testDatabaseUrl } from '@cellgraph/dev/services/postgres';
import type { ServerStateStore } from '../open-state-store';
import { PostgresStateStore } from '../postgres-state-store';
import { SqliteStateStore } from '../sqlite-state-store';

/** One database for one test: open it (again, to check durability), run raw SQL on it, drop it. */
export interface TestDatabase {
  open(): Promise<ServerStateStore>;
  /** Runs SQL outside the store (to plant corrupt rows). */
  exec(sql: string): Promise<void>;
  dispose(): void;
}

/** The dialects, as `describe.each` rows. */
export const STATE_STORES: [string, (label: string) => Promise<TestDatabase>][] = [
  [
    'SQLite',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-state-'));
      const file = path.join(dir, 'state.db');
      return {
        open: async () => SqliteStateStore.open(file),
        exec: async (sql) => {
          const db = new Database(file);
          db.exec(sql);
          db.close();
        },
        dispose: () => fs.rmSync(dir, { recursive: true, force: true })
      };
    }
  ],
  [
    'PostgreSQL',
    async (label) => {
      const url = await testDatabaseUrl(label);
      return {
        open: () => PostgresStateStore.open(url),
        exec: async (sql) => {
          const client = new Client({ connectionString: url });
          await client.connect();
          await client.query(sql).finally(() => client.end());
        },
        dispose: () => undefined
      };
    }
  ]
];
