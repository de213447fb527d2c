import { strongerRole, type ProjectRole } from '@cellgraph/schema';
import { rolesFromGroups, type GroupRoleMap } from './group-roles';
import type { IdentityStore } from './identity-store';
import type { Identity, Principal } from './principal';

/** The member name a group is added under (`cellgraph member add ml group:data-science editor`). */
export function groupMember(group: string): string {
  return `group:${group}`;
}

/**
 * Gives an identity its project roles: the user's memberships, the memberships of its
 * groups (`group:<name>`), and the configured group mapping; the strongest role wins.
 */
export class RoleResolver {
  constructor(
    private readonly store: IdentityStore,
    private readonly groupRoles: GroupRoleMap = {}
  ) {}

  async principalFor(identity: Identity): Promise<Principal> {
    if (identity.superuser) return { ...identity, projectRoles: new Map() };
    const roles = rolesFromGroups(identity.groups, this.groupRoles);
    const memberships = await this.store.membershipsOf([identity.name, ...identity.groups.map(groupMember)]);
    for (const m of memberships) {
      const r: ProjectRole | undefined = strongerRole(roles.get(m.project), m.role);
      if (r !== undefined) roles.set(m.project, r);
    }
    return { ...identity, projectRoles: roles };
  }
}
