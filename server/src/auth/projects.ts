import { DEFAULT_PROJECT } from '@cellgraph/schema';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import type { ScheduleStore } from '../state/schedule-store';
import type { StateStore } from '../state/state-store';
import type { WorkflowVersionStore } from '../state/version-store';
import type { IdentityStore } from './identity-store';

/** What resolving a resource's project reads. */
export interface ProjectLookup {
  identity: IdentityStore;
  state: Pick<StateStore, 'getRun'> & Pick<ScheduleStore, 'getSchedule'>;
}

/** A promoted workflow's project: recorded at its first promotion, else `default`. */
export async function projectOfWorkflow(l: ProjectLookup, workflow: string): Promise<string> {
  return (await l.identity.projectOf('workflow', workflow)) ?? DEFAULT_PROJECT;
}

/**
 * A run's project: recorded when it was created, else its workflow's (runs from before
 * projects existed: `default`). Undefined when no such run (the route answers its own 404).
 */
export async function projectOfRun(l: ProjectLookup, id: string): Promise<string | undefined> {
  const recorded = await l.identity.projectOf('run', id);
  if (recorded !== undefined) return recorded;
  try {
    const run = await l.state.getRun(id);
    return projectOfWorkflow(l, run.workflow);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** A schedule's project: recorded at creation, else its workflow's. Undefined when no such schedule. */
export async function projectOfSchedule(l: ProjectLookup, id: string): Promise<string | undefined> {
  const recorded = await l.identity.projectOf('schedule', id);
  if (recorded !== undefined) return recorded;
  const schedule = await l.state.getSchedule(id);
  return schedule === undefined ? undefined : projectOfWorkflow(l, schedule.workflow);
}

/** Projects of many runs at once (lists): recorded, else their workflow's, else `default`. */
export async function projectsOfRuns(l: ProjectLookup, runs: readonly { id: string; workflow: string }[]): Promise<Map<string, string>> {
  const recorded = await l.identity.projectsOf('run', runs.map((r) => r.id));
  const workflows = await l.identity.projectsOf('workflow', [...new Set(runs.filter((r) => !recorded.has(r.id)).map((r) => r.workflow))]);
  return new Map(runs.map((r) => [r.id, recorded.get(r.id) ?? workflows.get(r.workflow) ?? DEFAULT_PROJECT]));
}

/**
 * Admits a run to its project before it exists: checks the secrets its tasks reference are
 * declared for the project (outside `default`, which stays zero-config: there the server's
 * secrets directory or the cluster decides), then records the project, so the run is never
 * visible anywhere else. The project is the one asked for, else a retry's original's, else
 * its workflow's, else `default`.
 */
export async function admitRun(
  l: ProjectLookup,
  run: { runId: string; workflow: string; tasks: readonly { name: string; policy: { secrets: readonly { secret: string; key: string }[] } }[] },
  asked: { project?: string; retryOf?: string }
): Promise<string> {
  const project =
    asked.project ?? (asked.retryOf !== undefined ? await projectOfRun(l, asked.retryOf) : undefined) ?? (await projectOfWorkflow(l, run.workflow));
  if (project !== DEFAULT_PROJECT) {
    const declared = new Map((await l.identity.listSecrets(project)).map((s) => [s.name, new Set(s.keys)]));
    for (const task of run.tasks) {
      for (const ref of task.policy.secrets) {
        if (!declared.get(ref.secret)?.has(ref.key)) {
          throw new ValidationError(
            `task ${task.name} reads key ${ref.key} of secret ${ref.secret}, which project ${project} does not declare (an admin declares it: cellgraph secret set ${project} ${ref.secret} --key ${ref.key})`,
            'secrets'
          );
        }
      }
    }
  }
  await l.identity.setProjectOf('run', run.runId, project);
  return project;
}

/**
 * Before a promotion records anything: a new workflow joins the project it is promoted in;
 * one promoted before stays in its project, and promoting it from another is a 409 (no other
 * project's editor may add versions to it). Workflows promoted before projects existed are
 * in `default`. Replicas promoting one new name into two projects at once: the first
 * recorded wins, the other gets the 409.
 */
export async function claimWorkflow(identity: IdentityStore, state: Pick<WorkflowVersionStore, 'listPromotedWorkflows'>, workflow: string, project: string): Promise<void> {
  if (project !== DEFAULT_PROJECT && (await identity.projectOf('workflow', workflow)) === undefined) {
    const promotedBefore = (await state.listPromotedWorkflows()).some((w) => w.workflow === workflow);
    if (!promotedBefore) await identity.setProjectOf('workflow', workflow, project);
  }
  const owner = (await identity.projectOf('workflow', workflow)) ?? DEFAULT_PROJECT;
  if (owner !== project) throw new ConflictError(`workflow ${workflow} belongs to another project; promote it under another name`, 'body.project');
}
