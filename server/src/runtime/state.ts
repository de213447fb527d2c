import * as path from 'node:path';

/**
 * The state store as the runtime opens it: SQLite in the home by default, PostgreSQL when a
 * database URL (CELLGRAPH_DATABASE_URL) names one. The choice itself lives in
 * state/open-state-store.ts, beside the stores.
 */
export {
  type ServerStateStore as RuntimeStateStore,
  type StateStoreConfig,
  databaseUrlFromEnv,
  openStateStore
} from '../state/open-state-store';

/** The SQLite state database inside a home. */
export function stateFile(home: string): string {
  return path.join(home, 'state.db');
}
