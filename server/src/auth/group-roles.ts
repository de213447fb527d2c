import * as fs from 'node:fs';
import { z } from 'zod';
import { ProjectName, ProjectRole, strongerRole } from '@cellgraph/schema';
import { ValidationError } from '../errors';

/**
 * External groups (JupyterHub's) to project roles, by configuration:
 * `{"data-science": {"ml": "editor"}, "analysts": {"ml": "viewer", "reports": "editor"}}`.
 * Given as JSON in CELLGRAPH_GROUP_ROLES, or a file named by CELLGRAPH_GROUP_ROLES_FILE.
 * Members added through the API as `group:<name>` work the same way and are merged in.
 */
export const GroupRoleMap = z.record(z.string().min(1), z.record(ProjectName, ProjectRole));
export type GroupRoleMap = z.infer<typeof GroupRoleMap>;

/** The roles a set of groups gives, per project (the strongest wins). */
export function rolesFromGroups(groups: readonly string[], map: GroupRoleMap): Map<string, ProjectRole> {
  const roles = new Map<string, ProjectRole>();
  for (const g of groups) {
    for (const [project, role] of Object.entries(map[g] ?? {})) {
      const r = strongerRole(roles.get(project), role);
      if (r !== undefined) roles.set(project, r);
    }
  }
  return roles;
}

/** The group mapping from the environment (empty when unset); a bad one stops the server, naming the setting. */
export function groupRolesFromEnv(env: NodeJS.ProcessEnv): GroupRoleMap {
  const inline = env.CELLGRAPH_GROUP_ROLES;
  const file = env.CELLGRAPH_GROUP_ROLES_FILE;
  const setting = inline !== undefined && inline !== '' ? 'CELLGRAPH_GROUP_ROLES' : file !== undefined && file !== '' ? 'CELLGRAPH_GROUP_ROLES_FILE' : undefined;
  if (setting === undefined) return {};
  let text: string;
  try {
    text = setting === 'CELLGRAPH_GROUP_ROLES' ? (inline as string) : fs.readFileSync(file as string, 'utf8');
  } catch (err) {
    throw new ValidationError(`${setting}: cannot read ${String(file)}: ${(err as Error).message}`, setting);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`${setting}: not JSON: ${(err as Error).message}`, setting);
  }
  const parsed = GroupRoleMap.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ValidationError(`${setting}: ${issue.path.join('.')}: ${issue.message} (expected {"<group>": {"<project>": "viewer"|"editor"|"admin"}})`, setting);
  }
  return parsed.data;
}
