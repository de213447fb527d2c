import { StoreConfig } from '@cellgraph/schema';
import { ValidationError } from '../errors';
import { ArtifactStore, openStore } from '../stores';
import { parseOrThrow } from '../zod-issue';
import { type RuntimeStateStore, databaseUrlFromEnv, openStateStore } from './state';

/** The directory name of a cellgraph home (artifact store + state database). */
export const HOME_DIR_NAME = '.cellgraph';

/**
 * The artifact store a home uses: the filesystem under the home (default), or S3 when
 * CELLGRAPH_STORE is `s3://bucket[/prefix]` (endpoint from CELLGRAPH_S3_ENDPOINT for MinIO
 * and other S3-compatible servers, region from AWS_REGION, credentials from the AWS
 * chain). Run records stay in the state store either way.
 */
export function storeConfigFor(home: string, env: NodeJS.ProcessEnv = process.env): StoreConfig {
  const spec = env.CELLGRAPH_STORE;
  if (!spec) return { kind: 'filesystem', root: home };
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(spec);
  if (!m) throw new ValidationError(`CELLGRAPH_STORE must be s3://bucket[/prefix], got ${JSON.stringify(spec)}`, 'CELLGRAPH_STORE');
  const endpoint = env.CELLGRAPH_S3_ENDPOINT || undefined;
  return parseOrThrow(
    StoreConfig,
    {
      kind: 's3',
      bucket: m[1],
      prefix: (m[2] ?? '').replace(/\/+$/, ''),
      endpoint,
      region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
      // S3-compatible servers on a plain endpoint rarely serve virtual-hosted bucket names.
      forcePathStyle: env.CELLGRAPH_S3_FORCE_PATH_STYLE ? env.CELLGRAPH_S3_FORCE_PATH_STYLE === 'true' : endpoint !== undefined
    },
    { context: 'CELLGRAPH_STORE / CELLGRAPH_S3_ENDPOINT', field: () => 'CELLGRAPH_STORE', label: (p) => p.join('.') }
  );
}

/** An opened home: its artifact store and state store. */
export interface HomeSession {
  home: string;
  store: ArtifactStore;
  storeConfig: StoreConfig;
  state: RuntimeStateStore;
  close(): Promise<void>;
}

/** Opens the artifact store and state store of a home directory (created on first use). */
export async function openHome(home: string, env: NodeJS.ProcessEnv = process.env, databaseUrl = databaseUrlFromEnv(env)): Promise<HomeSession> {
  const storeConfig = storeConfigFor(home, env);
  const store = openStore(storeConfig);
  const state = await openStateStore({ home, databaseUrl });
  return { home, store, storeConfig, state, close: () => state.close() };
}
