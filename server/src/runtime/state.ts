import * as path from 'node:path';
import { ValidationError } from '../errors';
import type { Coordination } from '../state/coordination';
import type { NotificationStore } from '../state/notification-store';
import type { ScheduleStore } from '../state/schedule-store';
import { SqliteStateStore } from '../state/sqlite-state-store';
import type { StateStore } from '../state/state-store';
import type { WorkflowVersionStore } from '../state/version-store';

/** Everything the CLI and the server keep in a state store: runs, versions, schedules, webhook deliveries. */
export type RuntimeStateStore = StateStore &
  WorkflowVersionStore &
  ScheduleStore &
  NotificationStore & {
    /** How server replicas sharing the database agree (run leases, fire claims, live logs, cancel requests). */
    readonly coordination: Coordination;
  };

/** The SQLite state database inside a home. */
export function stateFile(home: string): string {
  return path.join(home, 'state.db');
}

/** Where the state lives. */
export interface StateStoreConfig {
  /** The home; its `state.db` is the SQLite default. */
  home: string;
  /** A `postgres://` URL: state in PostgreSQL, shared by server replicas. */
  databaseUrl?: string;
}

/**
 * CELLGRAPH_DATABASE_URL, checked: unset or empty means SQLite; anything but a
 * `postgres://`/`postgresql://` URL is refused, naming the variable (never echoing it: it
 * may hold a password).
 */
export function databaseUrlFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const url = env.CELLGRAPH_DATABASE_URL;
  if (url === undefined || url === '') return undefined;
  if (!/^postgres(ql)?:\/\/./.test(url)) {
    throw new ValidationError('CELLGRAPH_DATABASE_URL must be a postgres:// or postgresql:// URL (unset it to use SQLite in the home)', 'CELLGRAPH_DATABASE_URL');
  }
  return url;
}

/**
 * The one place a state store is chosen and opened (migrated on open). SQLite in the home
 * is the zero-config default; with a `databaseUrl`, PostgreSQL (loaded only then).
 */
export async function openStateStore(config: StateStoreConfig): Promise<RuntimeStateStore> {
  if (config.databaseUrl === undefined) return SqliteStateStore.open(stateFile(config.home));
  const { PostgresStateStore } = await import('../state/postgres-state-store');
  return PostgresStateStore.open(config.databaseUrl);
}
