import { DEFAULT_PROJECT, apiRoutes } from '@cellgraph/schema';
import { ValidationError } from '../../errors';
import { parseCron } from '../../scheduler/cron';
import { describeCron } from '../../scheduler/describe';
import { canSee, principalOf, projectOfSchedule } from '../../auth';
import type { ApiContext } from '../context';
import { jsonRoute, type ApiRoute } from '../route';

/** Cron schedules on promoted workflow versions: create, list, inspect, update, pause, resume, delete. */
export function scheduleRoutes(ctx: ApiContext): ApiRoute[] {
  const { schedules } = ctx;
  return [
    jsonRoute(apiRoutes.previewCron, async ({ body }) => {
      let cron: ReturnType<typeof parseCron>;
      try {
        cron = parseCron(body.cron, body.timezone);
      } catch (err) {
        // Fields of the body, as every other 400 names them.
        if (err instanceof ValidationError) throw new ValidationError(err.message, `body.${err.field ?? 'cron'}`);
        throw err;
      }
      return { description: describeCron(body.cron, body.timezone), nextFires: cron.nextN(body.count, new Date()).map((d) => d.toISOString()) };
    }),
    jsonRoute(apiRoutes.createSchedule, async ({ body }) => schedules.create(body)),
    jsonRoute(apiRoutes.listSchedules, async ({ request }) => {
      const p = principalOf(request);
      const lookup = { identity: ctx.auth.identity, state: ctx.state };
      const all = await Promise.all((await schedules.list()).map(async (s) => ({ ...s, project: (await projectOfSchedule(lookup, s.id)) ?? DEFAULT_PROJECT })));
      return { schedules: all.filter((s) => canSee(p, s.project)) };
    }),
    jsonRoute(apiRoutes.getSchedule, async ({ params }) => schedules.get(params.id)),
    jsonRoute(apiRoutes.updateSchedule, async ({ params, body }) => schedules.update(params.id, body)),
    jsonRoute(apiRoutes.pauseSchedule, async ({ params }) => schedules.pause(params.id)),
    jsonRoute(apiRoutes.resumeSchedule, async ({ params }) => schedules.resume(params.id)),
    jsonRoute(apiRoutes.deleteSchedule, async ({ params }) => {
      await schedules.delete(params.id);
      return { id: params.id, deleted: true as const };
    })
  ];
}
