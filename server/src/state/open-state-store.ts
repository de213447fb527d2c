import { ValidationError } from '../errors';
import type { SqlIdentityStore } from '../auth/sql-identity-store';
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
    /** Users, tokens, projects, members, the audit trail and secret references. */
    readonly identity: SqlIdentityStore;
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
  let store: ServerStateStore;
  if (config.databaseUrl === undefined) store = SqliteStateStore.open(stateFile(config.home));
  else {
    const { PostgresStateStore } = await import('./postgres-state-store');
    store = await PostgresStateStore.open(config.databaseUrl);
  }
  await store.identity.init();
  return store;
}
