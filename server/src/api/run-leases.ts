import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Coordination, LeaseClaim } from '../state/coordination';
import type { RunFence } from '../state/state-store';

/** How long a lease lasts unless renewed: a replica silent this long is taken for dead. */
export const LEASE_TTL_MS = 8_000;
/** How often a replica renews its leases and looks for runs nobody holds. */
export const HEARTBEAT_MS = 2_000;

/** This process's identity among replicas: CELLGRAPH_REPLICA_ID (a pod name), else host, pid and a random tag. */
export function replicaId(env: NodeJS.ProcessEnv): string {
  const given = env.CELLGRAPH_REPLICA_ID;
  if (given !== undefined && given !== '') return given;
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Construction options of RunLeases. */
export interface RunLeasesOptions {
  coordination: Coordination;
  owner: string;
  /** Runs this process executes or is starting now, with their epochs (their leases must stay renewed). */
  active: () => Iterable<LeaseClaim>;
  /** Resumes runs just leased to this process, as a restart does. */
  adopt: (claims: LeaseClaim[]) => Promise<void>;
  /**
   * Stops runs of this process whose lease it no longer holds (another replica took them
   * while this one stalled) or could not renew before it expired: locally, recording
   * nothing, since the run's record belongs to whoever holds the lease now.
   */
  giveUp: (runIds: string[], reason: string) => void;
  /** Cancels runs of this process that a client asked another replica to cancel. */
  cancel: (runIds: string[]) => void;
  log: (line: string) => void;
  ttlMs?: number;
  heartbeatMs?: number;
}

/**
 * Run ownership among replicas: every run in flight is leased to the replica running it,
 * the lease renewed on a heartbeat; on the same beat a replica claims runs whose lease
 * expired (their replica died) and resumes them, keeping what succeeded. Failover thus
 * takes at most ttl + heartbeat + the resume itself.
 */
export class RunLeases {
  readonly ttlMs: number;
  private readonly heartbeatMs: number;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private adopting = true;
  /** When the leases of this process were last renewed (Date.now()). */
  private renewedAt = Date.now();

  constructor(private readonly options: RunLeasesOptions) {
    this.ttlMs = options.ttlMs ?? LEASE_TTL_MS;
    this.heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  }

  get owner(): string {
    return this.options.owner;
  }

  /** Leases a run about to start here: the fence its writes carry, or undefined when another live replica holds it. */
  async acquire(runId: string): Promise<RunFence | undefined> {
    const epoch = await this.options.coordination.acquireLease(runId, this.owner, this.ttlMs);
    return epoch === undefined ? undefined : this.fence(epoch);
  }

  /** The fence of a run this process holds at `epoch`. */
  fence(epoch: number): RunFence {
    return { owner: this.owner, epoch };
  }

  release(runId: string): Promise<void> {
    return this.options.coordination.releaseLease(runId, this.owner);
  }

  /**
   * Claims the runs to resume at boot: on a database only this process uses (SQLite), every
   * unfinished run; on a shared one, runs whose lease expired and this replica's own
   * (restarted under the same CELLGRAPH_REPLICA_ID).
   */
  claimAtBoot(): Promise<LeaseClaim[]> {
    const shared = this.options.coordination.shared;
    return this.options.coordination.claimUnownedRuns(this.owner, this.ttlMs, shared ? { ownToo: true } : { takeOver: 'any' });
  }

  /**
   * Starts the heartbeat (renew, take cancel requests, adopt what expired), on a shared
   * database only: one process owns a SQLite file, and a write there waiting on a lock
   * would block the event loop every beat.
   */
  start(): void {
    if (this.timer !== undefined || !this.options.coordination.shared) return;
    this.timer = setInterval(() => {
      this.beating ??= this.beat().finally(() => (this.beating = undefined));
    }, this.heartbeatMs);
    this.timer.unref();
  }

  /** From now on only renews (shutdown: runs here wind down, other replicas adopt nothing from us). */
  stopAdopting(): void {
    this.adopting = false;
  }

  /** Stops the heartbeat; leases held expire unless released. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
  }

  private async beat(): Promise<void> {
    try {
      await this.renew();
      const cancels = await this.options.coordination.takeCancelRequests(this.owner);
      if (cancels.length > 0) this.options.cancel(cancels);
      if (!this.adopting) return;
      const adopted = await this.options.coordination.claimUnownedRuns(this.owner, this.ttlMs);
      if (adopted.length > 0) {
        this.options.log(`cellgraph server: adopting ${adopted.length} run(s) of a replica that stopped: ${adopted.map((c) => c.runId).join(', ')}`);
        await this.options.adopt(adopted);
      }
    } catch (err) {
      this.options.log(`cellgraph server: lease heartbeat failed (retried in ${this.heartbeatMs} ms): ${(err as Error).message}`);
    }
  }

  /**
   * Renews the leases of the runs executing here. A run whose lease another replica took
   * meanwhile (this process stalled past the ttl: SIGSTOP, a long pause, a partition) is
   * given up at once. When renewing fails for so long that the leases may expire before
   * the next beat, every run is given up before another replica can adopt it, so a run
   * never executes in two places.
   */
  private async renew(): Promise<void> {
    const active = [...this.options.active()];
    let held: Set<string>;
    try {
      // A database that does not answer (a partition without a reset) counts as a failure after a heartbeat.
      held = new Set(await withinMs(this.options.coordination.renewLeases(this.owner, this.ttlMs, active), this.heartbeatMs, 'renewing the leases'));
    } catch (err) {
      const silentMs = Date.now() - this.renewedAt;
      if (active.length > 0 && silentMs + this.heartbeatMs >= this.ttlMs) {
        const reason = `its lease could not be renewed for ${silentMs} ms (lease ${this.ttlMs} ms): ${(err as Error).message}`;
        this.options.giveUp(active.map((c) => c.runId), reason);
      }
      throw err;
    }
    this.renewedAt = Date.now();
    const lost = active.filter((c) => !held.has(c.runId)).map((c) => c.runId);
    if (lost.length > 0) this.options.giveUp(lost, 'another replica holds its lease now (this one stalled past the lease)');
  }
}

/** `promise`, or a rejection once `ms` passed without an answer. */
function withinMs<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
