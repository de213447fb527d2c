import type { StoreConfig } from '@cellgraph/schema';
import type { AuthServices } from '../auth';
import type { CompilePool } from '../compiler/pool/compile-pool';
import type { Engine } from '../engine/engine';
import type { RunNotifier } from '../notify';
import type { RuntimeStateStore } from '../runtime';
import type { ArtifactStore } from '../stores';
import type { ServerConfig } from './config';
import type { RunService } from './run-service';
import type { ScheduleService } from './schedule-service';
import type { SseStreams } from './sse';
import type { WorkflowService } from './workflow-service';

/**
 * What routers are built from. A router for a new resource takes this and returns its
 * ApiRoute list; add its services here.
 */
export interface ApiContext {
  config: ServerConfig;
  /** The package version, reported by health and the OpenAPI document. */
  version: string;
  store: ArtifactStore;
  storeConfig: StoreConfig;
  state: RuntimeStateStore;
  engine: Engine;
  /** Every compile a request or a promotion asks for runs here, off the event loop. */
  compiles: CompilePool;
  runs: RunService;
  workflows: WorkflowService;
  /** Cron schedules (the scheduler, with the server's checks in front). */
  schedules: ScheduleService;
  /** Webhook deliveries for finished runs. */
  notifier: RunNotifier;
  streams: SseStreams;
  /** Who calls and what they may do: authenticators, roles, the per-route guard, the audit trail. */
  auth: AuthServices;
}
