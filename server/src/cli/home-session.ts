import { StoreConfig } from '@cellgraph/schema';
import { ValidationError } from '../errors';
import { SqliteStateStore } from '../state/sqlite-state-store';
import type { StateStore } from '../state/state-store';
import { ArtifactStore, openStore } from '../stores';
import { stateFile } from './homes';

/** An opened home: its artifact store and state database. */
export interface HomeSession {
  home: string;
  store: ArtifactStore;
  storeConfig: StoreConfig;
  state: StateStore;
  close(): Promise<void>;
}

/**
 * The artifact store a home uses: the filesystem under the home (default), or S3 when
 * CELLGRAPH_STORE is `s3://bucket[/prefix]` (endpoint from CELLGRAPH_S3_ENDPOINT for MinIO
 * and other S3-compatible servers, region from AWS_REGION, credentials from the AWS
 * chain). Run records stay in the home's SQLite database either way.
 */
export function storeConfigFor(home: string, env: NodeJS.ProcessEnv = process.env): StoreConfig {
  const spec = env.CELLGRAPH_STORE;
  if (!spec) return { kind: 'filesystem', root: home };
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(spec);
  if (!m) throw new ValidationError(`CELLGRAPH_STORE must be s3://bucket[/prefix], got ${JSON.stringify(spec)}`, 'CELLGRAPH_STORE');
  const endpoint = env.CELLGRAPH_S3_ENDPOINT || undefined;
  const parsed = StoreConfig.safeParse({
    kind: 's3',
    bucket: m[1],
    prefix: (m[2] ?? '').replace(/\/+$/, ''),
    endpoint,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    // S3-compatible servers on a plain endpoint rarely serve virtual-hosted bucket names.
    forcePathStyle: env.CELLGRAPH_S3_FORCE_PATH_STYLE ? env.CELLGRAPH_S3_FORCE_PATH_STYLE === 'true' : endpoint !== undefined
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ValidationError(`CELLGRAPH_STORE / CELLGRAPH_S3_ENDPOINT: ${issue.path.join('.')}: ${issue.message}`, 'CELLGRAPH_STORE');
  }
  return parsed.data;
}

/** Opens the store and state database of a home directory (created on first use). */
export function openHome(home: string, env: NodeJS.ProcessEnv = process.env): HomeSession {
  const storeConfig = storeConfigFor(home, env);
  const store = openStore(storeConfig);
  const state = SqliteStateStore.open(stateFile(home));
  return { home, store, storeConfig, state, close: () => state.close() };
}
