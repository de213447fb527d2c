import * as path from 'node:path';
import type { NotificationStore } from '../state/notification-store';
import type { ScheduleStore } from '../state/schedule-store';
import { SqliteStateStore } from '../state/sqlite-state-store';
import type { StateStore } from '../state/state-store';
import type { WorkflowVersionStore } from '../state/version-store';

/** Everything the CLI and the server keep in a state store: runs, versions, schedules, webhook deliveries. */
export type RuntimeStateStore = StateStore & WorkflowVersionStore & ScheduleStore & NotificationStore;

/** The SQLite state database inside a home. */
export function stateFile(home: string): string {
  return path.join(home, 'state.db');
}

/** Where the state lives. */
export interface StateStoreConfig {
  /** The home; its `state.db` is the SQLite default. */
  home: string;
}

/**
 * The one place a state store is chosen and opened (migrated on open). SQLite in the home
 * is the zero-config default; a PostgreSQL store plugs in here (a `databaseUrl` in the
 * config, from CELLGRAPH_DATABASE_URL), and nothing else in the CLI or the server changes.
 */
export async function openStateStore(config: StateStoreConfig): Promise<RuntimeStateStore> {
  return SqliteStateStore.open(stateFile(config.home));
}
