import { ValidationError } from '../errors';
import type { Coordination } from './coordination';
import type { NotificationStore } from './notification-store';
import type { ScheduleStore } from './schedule-store';
import { SqliteStateStore } from './sqlite-state-store';
import type { StateStore } from './state-store';
import type { WorkflowVersionStore } from './version-store';
import { stateFile } from '../runtime/state';

/** Everything a server keeps in its state database, on either dialect. */
export type ServerStateStore = StateStore &
  WorkflowVersionStore &
  ScheduleStore &
  NotificationStore & {
    /** How replicas sharing the database agree (leases, fire claims, live logs). */
    readonly coordination: Coordination;
  };

/** Where the state lives: a PostgreSQL URL, or (the zero-config default) SQLite in the home. */
export interface StateStoreConfig {
  home: string;
  /** `postgres://` or `postgresql://`; undefined means `<home>/state.db`. */
  databaseUrl?: string;
}

/**
 * CELLGRAPH_DATABASE_URL, checked: unset or empty means SQLite; anything but a
 * `postgres://`/`postgresql://` URL is refused, naming the variable.
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
 * Opens and migrates the state store a configuration names. PostgreSQL is loaded only
 * when asked for; SQLite stays the default.
 */
export async function openStateStore(config: StateStoreConfig): Promise<ServerStateStore> {
  if (config.databaseUrl === undefined) return SqliteStateStore.open(stateFile(config.home));
  const { PostgresStateStore } = await import('./postgres-state-store');
  return PostgresStateStore.open(config.databaseUrl);
}
