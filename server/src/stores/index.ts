import type { StoreConfig } from '@cellgraph/schema';
import type { ArtifactStore } from './artifact-store';
import { FilesystemStore } from './filesystem-store';

export * from './artifact-store';
export { FilesystemStore } from './filesystem-store';

/**
 * Opens the store a configuration names: the filesystem (default) or S3. The S3 module
 * (and the AWS SDK behind it) loads only when asked for: every local task process opens a
 * store, and start-up time is paid per task.
 */
export function openStore(config: StoreConfig): ArtifactStore {
  switch (config.kind) {
    case 'filesystem':
      return new FilesystemStore(config.root);
    case 's3': {
      const { S3Store } = require('./s3-store') as typeof import('./s3-store');
      return new S3Store(config);
    }
  }
}
