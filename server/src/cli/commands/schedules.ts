import type { Command } from 'commander';
import { ScheduleCreateInput, ScheduleUpdate, ScheduleView, WorkflowVersion, apiRoutes } from '@cellgraph/schema';
import type { ApiClient } from '../../api/client';
import { parseParamAssignments } from '../../engine/params';
import { ValidationError } from '../../errors';
import { out, table } from '../output';
import { requireRemote } from '../remote/remote';

/**
 * `cellgraph --server URL schedules list|get|create|update|pause|resume|delete`: cron
 * schedules on promoted versions, kept and fired by the server. Mutations print one line
 * (the schedule's description and next fire); `--json` prints the ScheduleView the API answers.
 */
export function registerSchedules(program: Command): void {
  const schedules = program.command('schedules').description('cron schedules of promoted workflow versions on the server (--server)');
  const repeat = (v: string, acc: string[]) => [...acc, v];

  schedules
    .command('list')
    .description('every schedule with its next fire')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { schedules: all } = await requireRemote(cmd).call(apiRoutes.listSchedules);
      if (opts.json) return out(JSON.stringify(all, null, 2));
      out(
        table(
          ['ID', 'WORKFLOW', 'CRON', 'TIMEZONE', 'STATE', 'NEXT', 'POLICY'],
          all.map((s) => [s.id, s.workflow, s.cron, s.timezone, s.paused ? 'paused' : 'active', s.nextFires[0] ?? '-', `${s.concurrencyPolicy}/${s.missedRunPolicy}`])
        )
      );
    });

  schedules
    .command('get')
    .description('one schedule: its expression in words, next fires, last handled fire')
    .argument('<id>', 'schedule id')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const view = await requireRemote(cmd).call(apiRoutes.getSchedule, { params: { id } });
      if (opts.json) return out(JSON.stringify(view, null, 2));
      const rows: [string, string][] = [
        ['id', view.id],
        ['name', view.name ?? '-'],
        ['workflow', `${view.workflow} ${view.version}`],
        ['cron', `${view.cron} (${view.timezone})`],
        ['description', view.description],
        ['state', view.paused ? 'paused' : 'active'],
        ['params', JSON.stringify(view.params)],
        ['policies', `concurrency ${view.concurrencyPolicy}, missed runs ${view.missedRunPolicy}, cache ${view.cachePolicy ?? 'reuse'}`],
        ['webhook', view.webhookUrl ?? '-'],
        ['last fire', view.lastFiredAt ?? '-'],
        ['next fires', view.nextFires.join(', ') || '-']
      ];
      out(rows.map(([k, v]) => `${`${k}:`.padEnd(13)}${v}`).join('\n'));
    });

  schedules
    .command('create')
    .description('schedule a promoted version of a workflow (default: its latest version)')
    .argument('<workflow>', 'workflow name')
    .requiredOption('--cron <expr>', '5-field cron expression, e.g. "30 2 * * *"')
    .option('--workflow-version <v>', 'version number or content hash (default: the latest)')
    .option('--id <id>', 'schedule id (default: derived from the workflow name)')
    .option('--timezone <zone>', 'IANA time zone the expression is read in (default UTC)')
    .option('-p, --param <name=value>', 'a parameter for every run (repeatable)', repeat, [])
    .option('--concurrency <policy>', 'Allow | Forbid | Replace (default Forbid)')
    .option('--missed <policy>', 'skip | runOnce: fires missed while the server was down (default skip)')
    .option('--paused', 'create it paused')
    .option('--name <name>', 'a name people know it by')
    .option('--cache <policy>', 'reuse | recompute: serve unchanged tasks from the cache, or run every task (default reuse)')
    .option('--webhook <url>', 'notified when a scheduled run succeeds or fails')
    .option('--json', 'print JSON')
    .action(async (workflow: string, opts: CreateOptions, cmd: Command) => {
      const client = requireRemote(cmd);
      const version = await resolveVersion(client, workflow, opts.workflowVersion);
      const body: ScheduleCreateInput = {
        workflow,
        version: version.version,
        cron: opts.cron,
        ...(opts.id !== undefined ? { id: opts.id } : {}),
        ...(opts.timezone !== undefined ? { timezone: opts.timezone } : {}),
        ...(opts.param.length > 0 ? { params: parseParamAssignments(version.params, opts.param) } : {}),
        ...(opts.concurrency !== undefined ? { concurrencyPolicy: opts.concurrency as ScheduleCreateInput['concurrencyPolicy'] } : {}),
        ...(opts.missed !== undefined ? { missedRunPolicy: opts.missed as ScheduleCreateInput['missedRunPolicy'] } : {}),
        ...(opts.paused ? { paused: true } : {}),
        ...(opts.name !== undefined ? { name: opts.name } : {}),
        ...(opts.cache !== undefined ? { cachePolicy: opts.cache as ScheduleCreateInput['cachePolicy'] } : {}),
        ...(opts.webhook !== undefined ? { webhookUrl: opts.webhook } : {})
      };
      printView(await client.call(apiRoutes.createSchedule, { body }), opts.json === true);
    });

  schedules
    .command('update')
    .description('change a schedule; -p values are merged into its parameters')
    .argument('<id>', 'schedule id')
    .option('--cron <expr>', 'new 5-field cron expression')
    .option('--workflow-version <v>', 'run another version of the workflow (number or content hash)')
    .option('--timezone <zone>', 'IANA time zone')
    .option('-p, --param <name=value>', 'set a parameter (repeatable)', repeat, [])
    .option('--concurrency <policy>', 'Allow | Forbid | Replace')
    .option('--missed <policy>', 'skip | runOnce')
    .option('--name <name>', 'rename it (an empty name removes it)')
    .option('--cache <policy>', 'reuse | recompute')
    .option('--webhook <url>', 'notify this URL when a scheduled run succeeds or fails')
    .option('--no-webhook', 'stop notifying')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: UpdateOptions, cmd: Command) => {
      const client = requireRemote(cmd);
      const current = await client.call(apiRoutes.getSchedule, { params: { id } });
      const version =
        opts.workflowVersion !== undefined || opts.param.length > 0 ? await resolveVersion(client, current.workflow, opts.workflowVersion ?? current.version) : undefined;
      const patch: ScheduleUpdate = {
        ...(opts.cron !== undefined ? { cron: opts.cron } : {}),
        ...(opts.workflowVersion !== undefined && version !== undefined ? { version: version.version } : {}),
        ...(opts.timezone !== undefined ? { timezone: opts.timezone } : {}),
        ...(opts.param.length > 0 && version !== undefined ? { params: { ...current.params, ...parseParamAssignments(version.params, opts.param) } } : {}),
        ...(opts.concurrency !== undefined ? { concurrencyPolicy: opts.concurrency as ScheduleUpdate['concurrencyPolicy'] } : {}),
        ...(opts.missed !== undefined ? { missedRunPolicy: opts.missed as ScheduleUpdate['missedRunPolicy'] } : {}),
        ...(opts.name !== undefined ? { name: opts.name.trim() === '' ? null : opts.name } : {}),
        ...(opts.cache !== undefined ? { cachePolicy: opts.cache as ScheduleUpdate['cachePolicy'] } : {}),
        ...(opts.webhook === false ? { webhookUrl: null } : typeof opts.webhook === 'string' ? { webhookUrl: opts.webhook } : {})
      };
      printView(await client.call(apiRoutes.updateSchedule, { params: { id }, body: patch }), opts.json === true);
    });

  for (const [name, description, route] of [
    ['pause', 'stop a schedule firing (fires while paused are never replayed)', apiRoutes.pauseSchedule],
    ['resume', 'resume a paused schedule from its next fire', apiRoutes.resumeSchedule]
  ] as const) {
    schedules
      .command(name)
      .description(description)
      .argument('<id>', 'schedule id')
      .option('--json', 'print JSON')
      .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
        printView(await requireRemote(cmd).call(route, { params: { id } }), opts.json === true);
      });
  }

  schedules
    .command('delete')
    .description('delete a schedule (runs it started are kept)')
    .argument('<id>', 'schedule id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const gone = await requireRemote(cmd).call(apiRoutes.deleteSchedule, { params: { id } });
      out(`schedule ${gone.id} deleted`);
    });
}

interface CreateOptions {
  cron: string;
  /** Not `--version`: the program's own `--version` would take it. */
  workflowVersion?: string;
  id?: string;
  timezone?: string;
  param: string[];
  concurrency?: string;
  missed?: string;
  paused?: boolean;
  name?: string;
  cache?: string;
  webhook?: string;
  json?: boolean;
}

interface UpdateOptions {
  cron?: string;
  workflowVersion?: string;
  timezone?: string;
  param: string[];
  concurrency?: string;
  missed?: string;
  name?: string;
  cache?: string;
  /** A URL, false for --no-webhook, or undefined (commander's default for a negatable option pair is true). */
  webhook?: string | boolean;
  json?: boolean;
}

/** `name: description; next <instant>` or the JSON view. */
function printView(view: ScheduleView, json: boolean): void {
  if (json) return out(JSON.stringify(view, null, 2));
  const next = view.paused ? 'paused' : view.nextFires[0] !== undefined ? `next ${view.nextFires[0]}` : 'never fires again';
  out(`schedule ${view.id}: ${view.description}; ${next}`);
}

/** A promoted version by number or content hash; the latest when none is given. */
async function resolveVersion(client: ApiClient, workflow: string, ref: string | undefined): Promise<WorkflowVersion> {
  const { versions } = await client.call(apiRoutes.listVersions, { params: { name: workflow } });
  const found = ref === undefined ? versions.at(-1) : versions.find((v) => v.version === ref || String(v.number) === ref);
  if (found === undefined) throw new ValidationError(`workflow ${workflow} has no version ${JSON.stringify(ref)}`, 'version');
  return found;
}
