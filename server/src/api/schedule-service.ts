import { JsonValue, ScheduleCreate, ScheduleCreateInput, ScheduleUpdate, ScheduleView } from '@cellgraph/schema';
import { checkParamKinds } from '../engine/params';
import { ConflictError, ValidationError } from '../errors';
import { parseOrThrow, type Scheduler } from '../scheduler';
import type { WorkflowVersionStore } from '../state/version-store';
import type { IrCache } from './ir-cache';
import type { WebhookGuard } from '../notify/webhook-guard';

/**
 * Schedules as the API serves them: the scheduler's operations, plus what only the server
 * can check (the workflow version exists; parameters have the version's declared kinds),
 * with every field at fault named as the request body names it (`body.cron`).
 */
export class ScheduleService {
  constructor(
    readonly scheduler: Scheduler,
    private readonly versions: WorkflowVersionStore,
    private readonly irs: IrCache,
    private readonly webhooks: WebhookGuard
  ) {}

  /** NotFoundError (404) for an unknown version; 400 for bad cron, zone or parameters; 409 for a taken id. */
  async create(input: ScheduleCreateInput | ScheduleCreate): Promise<ScheduleView> {
    return inBody(async () => {
      const body = parseOrThrow(ScheduleCreate, input);
      if (body.webhookUrl !== undefined) await this.webhooks.check(body.webhookUrl, 'webhookUrl');
      await this.checkVersion(body.workflow, body.version, body.params);
      return this.scheduler.create(body);
    });
  }

  /** A new version must be of the same workflow; parameters are checked against the version the schedule will run. */
  async update(id: string, input: ScheduleUpdate): Promise<ScheduleView> {
    const current = await this.scheduler.get(id);
    return inBody(async () => {
      const patch = parseOrThrow(ScheduleUpdate, input);
      if (typeof patch.webhookUrl === 'string') await this.webhooks.check(patch.webhookUrl, 'webhookUrl');
      if (patch.version !== undefined || patch.params !== undefined) {
        await this.checkVersion(current.workflow, patch.version ?? current.version, patch.params ?? current.params);
      }
      return this.scheduler.update(id, patch);
    });
  }

  get(id: string): Promise<ScheduleView> {
    return this.scheduler.get(id);
  }

  list(): Promise<ScheduleView[]> {
    return this.scheduler.list();
  }

  pause(id: string): Promise<ScheduleView> {
    return this.scheduler.pause(id);
  }

  resume(id: string): Promise<ScheduleView> {
    return this.scheduler.resume(id);
  }

  delete(id: string): Promise<void> {
    return this.scheduler.delete(id);
  }

  private async checkVersion(workflow: string, version: string, params: Record<string, JsonValue>): Promise<void> {
    const record = await this.versions.getVersion(workflow, { version });
    const ir = await this.irs.get(record.version);
    checkParamKinds(ir.params, params);
  }
}

/**
 * Runs `work`, renaming the field of a ValidationError or ConflictError from the
 * schedule's own (`cron`, `params.x`, `id`) to the request body's (`body.cron`), as every
 * other 400 of the API names it.
 */
async function inBody<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (!(e instanceof ValidationError || e instanceof ConflictError)) throw e;
    const field = e.field;
    if (field === undefined || field.startsWith('body.')) throw e;
    const message = e.message.startsWith(`${field}:`) ? `body.${e.message}` : `body.${field}: ${e.message}`;
    if (e instanceof ValidationError) throw new ValidationError(message, `body.${field}`);
    throw new ConflictError(message, `body.${field}`);
  }
}
