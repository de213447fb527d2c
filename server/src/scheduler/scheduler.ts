import { randomBytes } from 'node:crypto';
import {
  RunId,
  Schedule,
  ScheduleCreate,
  ScheduleCreateInput,
  ScheduleUpdate,
  ScheduleView
} from '@cellgraph/schema';
import { ConflictError, NotFoundError } from '../errors';
import { Clock, MAX_TIMER_DELAY_MS, systemClock, TimerHandle } from './clock';
import { CronSchedule, parseCron } from './cron';
import { describeCron } from './describe';
import { FireClaim, ScheduleRepository } from './repository';
import { scheduledRunId } from './run-ids';
import { parseOrThrow } from '../zod-issue';
import { ScheduleConflictError } from './validation';

/**
 * What the scheduler needs from the rest of the server to start and police runs. The
 * server implements it over its run service; tests implement it with arrays.
 */
export interface RunPort {
  /**
   * Creates and starts the run `runId` of `schedule.version` with `schedule.params`.
   * Resolves once the run exists (is recorded), not when it finishes: fire latency is
   * measured to this point.
   */
  launch(schedule: Schedule, fireTime: Date, runId: RunId, lateMs?: number): Promise<void>;
  /** Whether a run with this id was ever created; makes a replayed fire a no-op across restarts. */
  runExists(runId: RunId): Promise<boolean>;
  /** Runs started by this schedule that have not finished (queued or running). */
  activeRuns(scheduleId: string): Promise<RunId[]>;
  /** Cancels a run (for `Replace`); resolves once cancellation is requested. */
  cancelRun(runId: RunId): Promise<void>;
}

/** How far a run-creating fire trailed its scheduled instant; the server aggregates p50/p99. */
export interface FireLatency {
  scheduleId: string;
  runId: RunId;
  scheduledAt: Date;
  /** When `launch` resolved: the run exists. */
  launchedAt: Date;
  latencyMs: number;
}

/**
 * What one fire came to. `missed` marks a fire replayed by the `runOnce` policy after the
 * server was down; `replaced` lists runs cancelled by `Replace`; `superseded`: a recovered
 * fire beyond the misfire grace that a later due fire stands for (`runOnce`: one run for
 * what was missed).
 */
export type FireOutcome =
  | { kind: 'launched'; scheduleId: string; fireTime: Date; runId: RunId; missed: boolean; replaced: RunId[] }
  | { kind: 'duplicate'; scheduleId: string; fireTime: Date; runId: RunId }
  | { kind: 'skipped'; scheduleId: string; fireTime: Date; reason: 'forbid'; activeRuns: RunId[] }
  | { kind: 'skipped'; scheduleId: string; fireTime: Date; reason: 'missed' }
  | { kind: 'skipped'; scheduleId: string; fireTime: Date; reason: 'superseded'; by: Date }
  | { kind: 'failed'; scheduleId: string; fireTime: Date; runId?: RunId; error: Error };

/**
 * A claimed fire whose run was never recorded, taken over to be fired again (its outcome
 * follows as a FireOutcome): `claimedBy` stopped between claim and record.
 */
export type FireRecovery = { kind: 'recovering' } & FireClaim;

/** Everything the scheduler reports, for the server's log and metrics. */
export type SchedulerEvent = FireOutcome | FireRecovery | { kind: 'error'; scheduleId?: string; error: Error };

/** Construction options; only `repository` and `runs` are required. */
export interface SchedulerOptions {
  repository: ScheduleRepository;
  runs: RunPort;
  /** Defaults to the process clock. */
  clock?: Clock;
  /**
   * A fire found due this much after its instant (event loop stalled, machine asleep) is
   * treated as missed and handled by the schedule's missedRunPolicy. Default 60 s, like
   * Quartz's misfire threshold. At start-up every past fire counts as missed.
   */
  misfireGraceMs?: number;
  /** How many next fires a ScheduleView lists. Default 5. */
  viewFires?: number;
  /** Called for every run-creating on-time fire (not for replayed missed fires). */
  onFireLatency?: (m: FireLatency) => void;
  /** Called for every fire outcome and internal error; never throws into the scheduler. */
  onEvent?: (e: SchedulerEvent) => void;
  /**
   * Re-reads schedules this often, so schedules created, changed or deleted through another
   * replica fire here too (every replica fires every schedule; claims make each fire once).
   * Undefined: this process is the only one changing schedules. Each refresh also looks
   * for stalled fire claims (see fireRecoveryGraceMs).
   */
  refreshMs?: number;
  /**
   * A fire claimed this long ago whose run does not exist, with nobody leasing the run, is
   * taken for lost (its replica died between claim and record) and fired again, by the
   * schedule's missedRunPolicy, at start and on every refresh. Longer than any normal
   * claim-to-record gap. Default 30 s.
   */
  fireRecoveryGraceMs?: number;
}

/** One loaded schedule and where its timer stands. */
interface Entry {
  schedule: Schedule;
  cron: CronSchedule;
  /** Fires at or before this instant are handled; the next is strictly after it. */
  after: Date;
  /** The next fire, undefined while paused or when the expression never fires again. */
  next?: Date;
  /** Fires of one schedule run one after another, so Forbid/Replace see settled state. */
  chain: Promise<unknown>;
}

/** How many recent run ids are remembered for in-process deduplication. */
const RECENT_RUN_IDS = 10_000;

/**
 * Fires cron schedules on time: the next fire of every active schedule is computed exactly
 * and one timer is set to the earliest (no polling), so a run is created within
 * milliseconds of its scheduled second. Create/update/pause/resume/delete re-arm it.
 *
 * Each fire's run id is derived from the schedule and the fire instant, and a fire whose
 * run already exists does nothing; together with `lastFiredAt` being written after the
 * launch, a crash between the two replays the fire into a no-op rather than losing it.
 * Where fires are claimed (replicas on one database), a claim whose claimant died before
 * recording the run is taken over after a grace period and fired again (recoverFires).
 */
export class Scheduler {
  private readonly repo: ScheduleRepository;
  private readonly runs: RunPort;
  private readonly clock: Clock;
  private readonly graceMs: number;
  private readonly recoveryGraceMs: number;
  private readonly viewFires: number;
  private readonly entries = new Map<string, Entry>();
  private readonly recent = new Set<RunId>();
  private readonly inflight = new Set<Promise<unknown>>();
  private timer: TimerHandle | undefined;
  private timerAt: number | undefined;
  private running = false;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SchedulerOptions) {
    this.repo = options.repository;
    this.runs = options.runs;
    this.clock = options.clock ?? systemClock;
    this.graceMs = options.misfireGraceMs ?? 60_000;
    this.recoveryGraceMs = options.fireRecoveryGraceMs ?? 30_000;
    this.viewFires = options.viewFires ?? 5;
  }

  /**
   * Loads every schedule, applies each one's missedRunPolicy to fires between its last
   * handled fire (or its last update, whichever is later) and now, and arms the timer.
   * A stored schedule whose cron no longer parses is reported via onEvent and left idle.
   * Fires claimed before a crash whose run was never recorded are fired again.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const now = this.clock.now();
    for (const schedule of await this.repo.list()) {
      let cron: CronSchedule;
      try {
        cron = parseCron(schedule.cron, schedule.timezone);
      } catch (e) {
        this.emit({ kind: 'error', scheduleId: schedule.id, error: asError(e) });
        continue;
      }
      const lastFired = await this.repo.getLastFiredAt(schedule.id);
      const updated = new Date(schedule.updatedAt);
      const after = lastFired !== undefined && lastFired > updated ? lastFired : updated;
      const entry: Entry = { schedule, cron, after, chain: Promise.resolve() };
      this.entries.set(schedule.id, entry);
      if (!schedule.paused) this.catchUp(entry, now, 0);
    }
    await this.recoverFires(true);
    this.arm();
    if (this.options.refreshMs !== undefined) {
      this.refreshTimer = setInterval(() => void this.refresh().catch((e: unknown) => this.emit({ kind: 'error', error: asError(e) })), this.options.refreshMs);
      this.refreshTimer.unref();
    }
  }

  /**
   * Picks up schedules changed elsewhere (another replica): new or updated ones are loaded
   * counting fires from now, deleted ones dropped. Unchanged ones keep their timers. Then
   * fires again what a stopped replica claimed and never recorded.
   */
  async refresh(): Promise<void> {
    if (!this.running) return;
    const stored = await this.repo.list();
    const ids = new Set(stored.map((s) => s.id));
    for (const schedule of stored) {
      const entry = this.entries.get(schedule.id);
      if (entry !== undefined && entry.schedule.updatedAt === schedule.updatedAt) continue;
      try {
        this.load(schedule, parseCron(schedule.cron, schedule.timezone));
      } catch (e) {
        this.emit({ kind: 'error', scheduleId: schedule.id, error: asError(e) });
      }
    }
    for (const id of [...this.entries.keys()]) if (!ids.has(id)) this.entries.delete(id);
    this.arm();
    await this.recoverFires(false);
  }

  /**
   * Stops firing (no new timers) and waits for fires already started to finish launching;
   * schedules stay stored. The server calls this on SIGTERM before closing its state.
   */
  async stop(): Promise<void> {
    this.running = false;
    if (this.refreshTimer !== undefined) clearInterval(this.refreshTimer);
    this.disarm();
    await this.idle();
    this.entries.clear();
  }

  /** Resolves when every fire started so far has finished (launched, skipped or failed). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /**
   * Creates a schedule. Parses `input` (defaults filled, unknown fields refused) and the
   * cron expression in its zone: ValidationError naming `cron`, `timezone` or the field at
   * fault; ScheduleConflictError if the id is taken. The caller checks that the workflow
   * version exists. Fires from now on; nothing before creation is ever replayed.
   */
  async create(input: ScheduleCreateInput | ScheduleCreate): Promise<ScheduleView> {
    const body = parseOrThrow(ScheduleCreate, input);
    const cron = parseCron(body.cron, body.timezone);
    const id = body.id ?? (await this.freshId(body.workflow));
    if (body.id !== undefined && (await this.repo.get(id)) !== undefined) {
      throw new ScheduleConflictError(`id: a schedule "${id}" already exists`);
    }
    const now = this.clock.now().toISOString();
    const schedule: Schedule = {
      id,
      workflow: body.workflow,
      version: body.version,
      cron: cron.expression,
      timezone: body.timezone,
      params: body.params,
      concurrencyPolicy: body.concurrencyPolicy,
      missedRunPolicy: body.missedRunPolicy,
      paused: body.paused,
      ...(body.webhookUrl !== undefined ? { webhookUrl: body.webhookUrl } : {}),
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.cachePolicy !== undefined ? { cachePolicy: body.cachePolicy } : {}),
      createdAt: now,
      updatedAt: now
    };
    await this.repo.save(schedule);
    this.load(schedule, cron);
    return this.view(schedule);
  }

  /**
   * Applies a partial update and re-arms. A change of cron or zone counts from now: fires
   * the old expression would have had are not replayed. NotFoundError for an unknown id.
   */
  async update(id: string, patch: ScheduleUpdate): Promise<ScheduleView> {
    const body = parseOrThrow(ScheduleUpdate, patch);
    const current = await this.mustGet(id);
    const cronText = body.cron ?? current.cron;
    const timezone = body.timezone ?? current.timezone;
    const cron = parseCron(cronText, timezone);
    const schedule: Schedule = {
      ...current,
      version: body.version ?? current.version,
      cron: cron.expression,
      timezone,
      params: body.params ?? current.params,
      concurrencyPolicy: body.concurrencyPolicy ?? current.concurrencyPolicy,
      missedRunPolicy: body.missedRunPolicy ?? current.missedRunPolicy,
      paused: body.paused ?? current.paused,
      webhookUrl: body.webhookUrl === null ? undefined : body.webhookUrl ?? current.webhookUrl,
      name: body.name === null ? undefined : body.name ?? current.name,
      cachePolicy: body.cachePolicy ?? current.cachePolicy,
      updatedAt: this.clock.now().toISOString()
    };
    if (schedule.webhookUrl === undefined) delete schedule.webhookUrl;
    if (schedule.name === undefined) delete schedule.name;
    if (schedule.cachePolicy === undefined) delete schedule.cachePolicy;
    await this.repo.save(schedule);
    this.load(schedule, cron);
    return this.view(schedule);
  }

  /** Stops a schedule firing until resumed; fires while paused are never replayed. */
  pause(id: string): Promise<ScheduleView> {
    return this.update(id, { paused: true });
  }

  /** Resumes a paused schedule from its next fire after now. */
  resume(id: string): Promise<ScheduleView> {
    return this.update(id, { paused: false });
  }

  /**
   * Deletes a schedule and re-arms. Runs it started are left alone; a fire already
   * launching completes. NotFoundError for an unknown id.
   */
  async delete(id: string): Promise<void> {
    if (!(await this.repo.delete(id))) throw new NotFoundError(`no schedule "${id}"`);
    this.entries.delete(id);
    this.arm();
  }

  /** One schedule with its next fires and description. NotFoundError for an unknown id. */
  async get(id: string): Promise<ScheduleView> {
    return this.view(await this.mustGet(id));
  }

  /** Every schedule, by id. */
  async list(): Promise<ScheduleView[]> {
    const all = await this.repo.list();
    all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return Promise.all(all.map((s) => this.view(s)));
  }

  /** The instant the scheduler's timer will next fire this schedule, if armed. */
  nextFireAt(id: string): Date | undefined {
    return this.entries.get(id)?.next;
  }

  /**
   * Fires `id` for `fireTime` as the timer would, honouring the concurrency policy.
   * Idempotent per (schedule, fire second): the second call finds the run and does nothing.
   */
  async fire(id: string, fireTime: Date): Promise<FireOutcome> {
    const entry = this.entries.get(id);
    const schedule = entry?.schedule ?? (await this.mustGet(id));
    return this.enqueue(entry, schedule, fireTime, false);
  }

  /** Adds or replaces the in-memory entry after a save, counting fires from now. */
  private load(schedule: Schedule, cron: CronSchedule): void {
    const now = this.clock.now();
    const previous = this.entries.get(schedule.id);
    const entry: Entry = { schedule, cron, after: now, chain: previous?.chain ?? Promise.resolve() };
    entry.next = schedule.paused ? undefined : cron.next(now);
    this.entries.set(schedule.id, entry);
    this.arm();
  }

  /**
   * Handles the fires of `entry` in (entry.after, now]: the latest one fires if it is at
   * most `graceMs` late; otherwise it is missed and the policy decides (`runOnce` fires
   * it, `skip` records it). Earlier ones in the window are always dropped: one fire per
   * wake-up, so a stalled process never starts a burst of runs. Then computes the next.
   */
  private catchUp(entry: Entry, now: Date, graceMs: number): void {
    const latest = entry.cron.latestAtOrBefore(now);
    if (latest !== undefined && latest > entry.after) {
      const onTime = now.getTime() - latest.getTime() <= graceMs;
      if (onTime || entry.schedule.missedRunPolicy === 'runOnce') {
        void this.enqueue(entry, entry.schedule, latest, !onTime);
      } else {
        void this.track(entry, () => this.skipMissed(entry.schedule.id, latest, false));
      }
    }
    entry.after = now;
    entry.next = entry.cron.next(now);
  }

  /**
   * Records a missed fire the policy drops (and settles its claim, when this process holds
   * one): `skip`, or under `runOnce` a later due fire `by` that runs for it.
   */
  private async skipMissed(scheduleId: string, fireTime: Date, claimed: boolean, by?: Date): Promise<FireOutcome> {
    const skipped: FireOutcome = by === undefined ? { kind: 'skipped', scheduleId, fireTime, reason: 'missed' } : { kind: 'skipped', scheduleId, fireTime, reason: 'superseded', by };
    await this.recordFired(scheduleId, fireTime);
    if (claimed) await this.repo.settleFire?.(scheduleId, fireTime);
    this.emit(skipped);
    return skipped;
  }

  /**
   * Takes over the fire claims whose run was never recorded and queues each fire again
   * behind its schedule's other fires. Through runFire like any fire, so the run id keeps it
   * exactly-once; how late it is decides as for any fire: within the misfire grace it is
   * launched, beyond it the missedRunPolicy decides (`runOnce` launches it unless a later
   * fire is due: that one is the single run for the stretch missed, as after downtime).
   */
  private async recoverFires(atBoot: boolean): Promise<void> {
    if (this.repo.takeStalledFires === undefined || !this.running) return;
    for (const claim of await this.repo.takeStalledFires(this.recoveryGraceMs, atBoot)) {
      this.emit({ kind: 'recovering', ...claim });
      const entry = this.entries.get(claim.scheduleId);
      if (entry === undefined) {
        await this.repo.settleFire?.(claim.scheduleId, claim.fireTime);
        this.emit({ kind: 'error', scheduleId: claim.scheduleId, error: new Error(`the fire at ${claim.fireTime.toISOString()} is not fired again: the schedule was deleted or no longer parses`) });
        continue;
      }
      void this.track(entry, () => {
        const now = this.clock.now();
        if (now.getTime() - claim.fireTime.getTime() <= this.graceMs) return this.runFire(entry.schedule, claim.fireTime, false, true);
        const later = entry.cron.latestAtOrBefore(now);
        const superseded = later !== undefined && later > claim.fireTime ? later : undefined;
        if (entry.schedule.missedRunPolicy === 'runOnce' && superseded === undefined) return this.runFire(entry.schedule, claim.fireTime, true, true);
        return this.skipMissed(claim.scheduleId, claim.fireTime, true, entry.schedule.missedRunPolicy === 'runOnce' ? superseded : undefined);
      });
    }
  }

  /** Queues one fire behind the schedule's earlier fires. */
  private enqueue(entry: Entry | undefined, schedule: Schedule, fireTime: Date, missed: boolean): Promise<FireOutcome> {
    return this.track(entry, () => this.runFire(schedule, fireTime, missed));
  }

  /** Runs `work` after the entry's previous fires, counting it in-flight until it settles. */
  private track(entry: Entry | undefined, work: () => Promise<FireOutcome>): Promise<FireOutcome> {
    const previous = entry?.chain ?? Promise.resolve();
    const task = previous.then(work, work);
    if (entry !== undefined) entry.chain = task.catch(() => undefined);
    const settled = task.catch(() => undefined);
    this.inflight.add(settled);
    void settled.then(() => this.inflight.delete(settled));
    return task;
  }

  /**
   * Dedupe, apply the concurrency policy, launch, record. Never rejects. `recovered`: this
   * process took over the fire's claim from a replica that stopped (the claim is held).
   */
  private async runFire(schedule: Schedule, fireTime: Date, missed: boolean, recovered = false): Promise<FireOutcome> {
    const scheduleId = schedule.id;
    let runId: RunId | undefined;
    let outcome: FireOutcome;
    let claimed = recovered;
    try {
      runId = scheduledRunId(scheduleId, fireTime);
      // How late this fire is handled (load, a stall, a restart): recorded with the claim and the run.
      const lateMs = Math.max(0, this.clock.now().getTime() - fireTime.getTime());
      // A recovered fire may be remembered as another replica's: only the database says whether its run exists.
      if ((!recovered && this.recent.has(runId)) || (await this.runs.runExists(runId))) {
        outcome = { kind: 'duplicate', scheduleId, fireTime, runId };
      } else if (!recovered && this.repo.claimFire !== undefined && !(claimed = await this.repo.claimFire(scheduleId, fireTime, lateMs))) {
        // Another replica claimed this instant: it launches the run.
        this.remember(runId);
        outcome = { kind: 'duplicate', scheduleId, fireTime, runId };
      } else {
        const active = schedule.concurrencyPolicy === 'Allow' ? [] : await this.runs.activeRuns(scheduleId);
        if (schedule.concurrencyPolicy === 'Forbid' && active.length > 0) {
          outcome = { kind: 'skipped', scheduleId, fireTime, reason: 'forbid', activeRuns: active };
        } else {
          const replaced = schedule.concurrencyPolicy === 'Replace' ? active : [];
          for (const id of replaced) await this.runs.cancelRun(id);
          this.remember(runId);
          try {
            await this.runs.launch(schedule, fireTime, runId, lateMs);
          } catch (e) {
            this.recent.delete(runId);
            throw e;
          }
          const launchedAt = this.clock.now();
          if (!missed) {
            this.measure({ scheduleId, runId, scheduledAt: fireTime, launchedAt, latencyMs: launchedAt.getTime() - fireTime.getTime() });
          }
          outcome = { kind: 'launched', scheduleId, fireTime, runId, missed, replaced };
        }
      }
    } catch (e) {
      outcome = { kind: 'failed', scheduleId, fireTime, ...(runId !== undefined ? { runId } : {}), error: asError(e) };
    }
    // Recorded after the launch: a crash in between replays this fire, and the replay finds the run.
    try {
      await this.recordFired(scheduleId, fireTime);
      // A claim with no run to show for it is settled here, or it would be recovered. A
      // conflict means another replica is starting the run right now: left to it (if it
      // stops, the claim is recovered).
      if (claimed && (outcome.kind === 'skipped' || (outcome.kind === 'failed' && !(outcome.error instanceof ConflictError)))) {
        await this.repo.settleFire?.(scheduleId, fireTime);
      }
    } catch (e) {
      this.emit({ kind: 'error', scheduleId, error: asError(e) });
    }
    this.emit(outcome);
    return outcome;
  }

  /** Moves lastFiredAt to `fireTime` unless a later fire was handled (replicas finish fires in any order) or the schedule is gone. */
  private async recordFired(scheduleId: string, fireTime: Date): Promise<void> {
    const last = await this.repo.getLastFiredAt(scheduleId);
    if (this.entries.has(scheduleId) && (last === undefined || last < fireTime)) await this.repo.setLastFiredAt(scheduleId, fireTime);
  }

  /** Sets the one timer to the earliest next fire of any active schedule. */
  private arm(): void {
    if (!this.running) return;
    let earliest: number | undefined;
    for (const e of this.entries.values()) {
      if (e.next !== undefined && (earliest === undefined || e.next.getTime() < earliest)) earliest = e.next.getTime();
    }
    if (earliest === this.timerAt && this.timer !== undefined) return;
    this.disarm();
    if (earliest === undefined) return;
    const delay = Math.min(Math.max(0, earliest - this.clock.now().getTime()), MAX_TIMER_DELAY_MS);
    this.timerAt = earliest;
    this.timer = this.clock.setTimer(() => this.onTimer(), delay);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = undefined;
  }

  /** Fires whatever is due (a timer can wake early or capped short: then nothing is) and re-arms. */
  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = undefined;
    if (!this.running) return;
    const now = this.clock.now();
    for (const entry of this.entries.values()) {
      if (entry.next !== undefined && entry.next <= now) this.catchUp(entry, now, this.graceMs);
    }
    this.arm();
  }

  private async view(schedule: Schedule): Promise<ScheduleView> {
    const cron = this.entries.get(schedule.id)?.cron ?? parseCron(schedule.cron, schedule.timezone);
    const nextFires = schedule.paused ? [] : cron.nextN(this.viewFires, this.clock.now()).map((d) => d.toISOString());
    const lastFiredAt = await this.repo.getLastFiredAt(schedule.id);
    return {
      ...schedule,
      nextFires,
      description: describeCron(schedule.cron, schedule.timezone),
      ...(lastFiredAt !== undefined ? { lastFiredAt: lastFiredAt.toISOString() } : {})
    };
  }

  private async mustGet(id: string): Promise<Schedule> {
    const s = await this.repo.get(id);
    if (s === undefined) throw new NotFoundError(`no schedule "${id}"`);
    return s;
  }

  /** `<workflow>-<6 hex>`, retried on the (unlikely) clash. */
  private async freshId(workflow: string): Promise<string> {
    for (;;) {
      const id = `${workflow.slice(0, 50)}-${randomBytes(3).toString('hex')}`;
      if ((await this.repo.get(id)) === undefined) return id;
    }
  }

  private remember(runId: RunId): void {
    this.recent.add(runId);
    if (this.recent.size > RECENT_RUN_IDS) {
      const oldest = this.recent.values().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
  }

  private measure(m: FireLatency): void {
    try {
      this.options.onFireLatency?.(m);
    } catch {
      // A metrics sink must not break firing.
    }
  }

  private emit(e: SchedulerEvent): void {
    try {
      this.options.onEvent?.(e);
    } catch {
      // An observer must not break firing.
    }
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
