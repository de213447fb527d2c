/**
 * The cron scheduler: exact single-timer firing, DST-correct fire times, concurrency and
 * missed-run policies, idempotent run ids. The server wires it with a ScheduleRepository
 * over its state store and a RunPort over its run service.
 */
export { Scheduler } from './scheduler';
export type { RunPort, FireLatency, FireOutcome, FireRecovery, SchedulerEvent, SchedulerOptions } from './scheduler';
export type { FireClaim, ScheduleRepository } from './repository';
export { InMemoryScheduleRepository } from './repository';
export type { Clock, TimerHandle } from './clock';
export { systemClock, MAX_TIMER_DELAY_MS } from './clock';
export { CronSchedule, parseCron, validateTimezone } from './cron';
export { describeCron } from './describe';
export { scheduledRunId, parseScheduledRunId } from './run-ids';
export { ScheduleConflictError } from './validation';
export { parseOrThrow, zodToValidationError } from '../zod-issue';
