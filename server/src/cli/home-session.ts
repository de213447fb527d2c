import type { StoreConfig } from '@cellgraph/schema';
import { SqliteStateStore } from '../state/sqlite-state-store';
import type { StateStore } from '../state/state-store';
import { FilesystemStore } from '../stores';
import { stateFile } from './homes';

/** An opened home: its artifact store and state database. */
export interface HomeSession {
  home: string;
  store: FilesystemStore;
  storeConfig: StoreConfig;
  state: StateStore;
  close(): Promise<void>;
}

/** Opens the store and state database of a home directory (created on first use). */
export function openHome(home: string): HomeSession {
  const store = new FilesystemStore(home);
  const state = SqliteStateStore.open(stateFile(home));
  return { home, store, storeConfig: { kind: 'filesystem', root: store.root }, state, close: () => state.close() };
}
