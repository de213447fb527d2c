import { type ISignal, Signal } from '@lumino/signaling';
import { DEFAULT_PROJECT, PERMISSION_ROLE, PERMISSION_SCOPE, apiRoutes, roleAtLeast, type Permission, type ProjectRole, type WhoAmIResponse } from '@cellgraph/schema';
import { ServerError } from './errors';
import type { ICellgraphServer } from './tokens';

/**
 * Whether `me` may do `permission` in `project`, as the server decides it (its role there
 * and its token's scopes). Unknown (`undefined`: a server without `whoami`) allows: the server
 * still says no, this only hides buttons.
 */
export function allowed(me: WhoAmIResponse | undefined, permission: Permission, project: string): boolean {
  if (me === undefined) return true;
  const role = roleOf(me, project);
  return role !== undefined && roleAtLeast(role, PERMISSION_ROLE[permission]) && me.scopes.includes(PERMISSION_SCOPE[permission]);
}

/** `me`'s role in `project` (a superuser is admin everywhere); undefined when they cannot see it. */
export function roleOf(me: WhoAmIResponse, project: string): ProjectRole | undefined {
  return me.superuser ? 'admin' : me.projects.find((p) => p.project === project)?.role;
}

/**
 * The project to work in: the remembered one while `me` still sees it, else `default` when
 * they see it, else the first they see (undefined when they see none).
 */
export function pickProject(me: WhoAmIResponse, remembered: string | null): string | undefined {
  const visible = me.projects.map((p) => p.project);
  if (me.superuser) return remembered ?? DEFAULT_PROJECT;
  if (remembered !== null && visible.includes(remembered)) return remembered;
  return visible.includes(DEFAULT_PROJECT) ? DEFAULT_PROJECT : visible[0];
}

/** Where the chosen project is remembered between sessions (the browser's storage; a memory map in tests). */
export interface ProjectMemory {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * Who this JupyterLab is at one cellgraph server (`GET /api/v1/whoami`) and the project the
 * user works in there (picked, remembered per server). Panels ask {@link can} to hide what
 * the user's role does not allow; the server checks every call anyway.
 */
export class ServerIdentity {
  private answer: WhoAmIResponse | undefined;
  private chosen: string | undefined;
  private loaded = false;
  private readonly changedSignal = new Signal<ServerIdentity, void>(this);

  constructor(private readonly server: Pick<ICellgraphServer, 'call' | 'baseUrl'>, private readonly memory: ProjectMemory | undefined = globalThis.localStorage) {}

  /** Whoami's answer; undefined before the first answer or on a server without the route. */
  get me(): WhoAmIResponse | undefined {
    return this.answer;
  }

  /** True once the server answered whoami (or said it has no such route). */
  get known(): boolean {
    return this.loaded;
  }

  /** The project Promote sends to and roles are read in (`default` until whoami answers). */
  get project(): string {
    return this.chosen ?? DEFAULT_PROJECT;
  }

  get changed(): ISignal<ServerIdentity, void> {
    return this.changedSignal;
  }

  /** Picks the project to work in (remembered for the next session). */
  set project(name: string) {
    if (name === this.chosen) return;
    this.chosen = name;
    this.memory?.setItem(this.key, name);
    this.changedSignal.emit();
  }

  /** The role in `project` (default: the chosen one); undefined when unknown or not visible. */
  role(project = this.project): ProjectRole | undefined {
    return this.answer === undefined ? undefined : roleOf(this.answer, project);
  }

  /** Whether the user may do `permission` in `project` (default: the chosen one). */
  can(permission: Permission, project = this.project): boolean {
    return allowed(this.answer, permission, project);
  }

  /** Asks the server again; a server that cannot be reached keeps what was known (its banner says why). */
  async refresh(): Promise<void> {
    let next: WhoAmIResponse | undefined;
    try {
      next = await this.server.call(apiRoutes.whoami);
    } catch (err) {
      // A server from before identities: no whoami, everything allowed as before.
      if (!(err instanceof ServerError && err.status === 404)) return;
    }
    const project = next === undefined ? undefined : pickProject(next, this.memory?.getItem(this.key) ?? null);
    const same = this.loaded && JSON.stringify(next) === JSON.stringify(this.answer) && project === this.chosen;
    this.answer = next;
    this.chosen = project;
    this.loaded = true;
    if (!same) this.changedSignal.emit();
  }

  private get key(): string {
    return `cellgraph:project:${this.server.baseUrl}`;
  }
}
