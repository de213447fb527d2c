import type { StoreConfig } from '@cellgraph/schema';
import type { ArtifactStore } from './artifact-store';
import { FilesystemStore } from './filesystem-store';

export * from './artifact-store';
export { FilesystemStore } from './filesystem-store';

/** Opens the store a configuration names. The S3 store arrives with the Kubernetes issue. */
export function openStore(config: StoreConfig): ArtifactStore {
  switch (config.kind) {
    case 'filesystem':
      return new FilesystemStore(config.root);
    case 's3':
      throw new Error('the S3 artifact store is not available in this release; use a filesystem store');
  }
}
