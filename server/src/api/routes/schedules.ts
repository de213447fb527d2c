import {
  CronPreviewRequest,
  CronPreviewResponse,
  ListSchedulesResponse,
  ScheduleCreate,
  ScheduleDeleted,
  SchedulePathParams,
  ScheduleUpdate,
  ScheduleView
} from '@cellgraph/schema';
import { ValidationError } from '../../errors';
import { parseCron } from '../../scheduler/cron';
import { describeCron } from '../../scheduler/describe';
import type { ApiContext } from '../context';
import { jsonRoute, type ApiRoute } from '../route';

/** Cron schedules on promoted workflow versions: create, list, inspect, update, pause, resume, delete. */
export function scheduleRoutes(ctx: ApiContext): ApiRoute[] {
  const { schedules } = ctx;
  return [
    jsonRoute({
      method: 'POST',
      url: '/api/v1/schedules/preview',
      summary: 'what a cron expression in a time zone means: a sentence and its next fire times (nothing is saved)',
      tag: 'schedules',
      body: CronPreviewRequest,
      response: CronPreviewResponse,
      handler: async ({ body }) => {
        let cron: ReturnType<typeof parseCron>;
        try {
          cron = parseCron(body.cron, body.timezone);
        } catch (err) {
          // Fields of the body, as every other 400 names them.
          if (err instanceof ValidationError) throw new ValidationError(err.message, `body.${err.field ?? 'cron'}`);
          throw err;
        }
        return { description: describeCron(body.cron, body.timezone), nextFires: cron.nextN(body.count, new Date()).map((d) => d.toISOString()) };
      }
    }),
    jsonRoute({
      method: 'POST',
      url: '/api/v1/schedules',
      summary: 'schedule a promoted version: 5-field cron in an IANA time zone, parameters, concurrency and missed-run policies, optional webhook',
      tag: 'schedules',
      body: ScheduleCreate,
      response: ScheduleView,
      status: 201,
      handler: async ({ body }) => schedules.create(body)
    }),
    jsonRoute({
      method: 'GET',
      url: '/api/v1/schedules',
      summary: 'every schedule with its next fire times and a description of its cron expression',
      tag: 'schedules',
      response: ListSchedulesResponse,
      handler: async () => ({ schedules: await schedules.list() })
    }),
    jsonRoute({
      method: 'GET',
      url: '/api/v1/schedules/:id',
      summary: 'one schedule with its next fire times, description and last handled fire',
      tag: 'schedules',
      params: SchedulePathParams,
      response: ScheduleView,
      handler: async ({ params }) => schedules.get(params.id)
    }),
    jsonRoute({
      method: 'PATCH',
      url: '/api/v1/schedules/:id',
      summary: 'change a schedule (fires count from now; `webhookUrl: null` removes the webhook)',
      tag: 'schedules',
      params: SchedulePathParams,
      body: ScheduleUpdate,
      response: ScheduleView,
      handler: async ({ params, body }) => schedules.update(params.id, body)
    }),
    jsonRoute({
      method: 'POST',
      url: '/api/v1/schedules/:id/pause',
      summary: 'stop a schedule firing; fires while paused are never replayed',
      tag: 'schedules',
      params: SchedulePathParams,
      response: ScheduleView,
      handler: async ({ params }) => schedules.pause(params.id)
    }),
    jsonRoute({
      method: 'POST',
      url: '/api/v1/schedules/:id/resume',
      summary: 'resume a paused schedule from its next fire after now',
      tag: 'schedules',
      params: SchedulePathParams,
      response: ScheduleView,
      handler: async ({ params }) => schedules.resume(params.id)
    }),
    jsonRoute({
      method: 'DELETE',
      url: '/api/v1/schedules/:id',
      summary: 'delete a schedule (runs it started are kept)',
      tag: 'schedules',
      params: SchedulePathParams,
      response: ScheduleDeleted,
      handler: async ({ params }) => {
        await schedules.delete(params.id);
        return { id: params.id, deleted: true as const };
      }
    })
  ];
}
