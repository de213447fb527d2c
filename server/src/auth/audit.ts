import type { AnyRoute, AuditEntry } from '@cellgraph/schema';
import type { IdentityStore } from './identity-store';
import type { Identity } from './principal';

/** Body fields an audit entry may copy (never notebook content, parameter values or anything secret). */
const DETAIL_FIELDS = ['role', 'scopes', 'name', 'user', 'expiresInDays', 'cron', 'timezone', 'paused', 'keys', 'noCache', 'concurrencyPolicy', 'description', 'workflow', 'version'] as const;

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);

/**
 * What an entry names: the run, schedule, workflow, token or member the request acted on,
 * from its path or its answer. A token is named by its id (hash prefix), never its secret.
 */
export function auditTarget(params: unknown, result: unknown): string {
  const p = obj(params);
  const r = obj(result);
  if (p.project !== undefined && (p.member !== undefined || p.name !== undefined)) return `${str(p.project)}/${str(p.member ?? p.name)}`;
  const version = obj(r.version);
  return str(p.id) ?? str(r.runId) ?? str(p.name) ?? str(version.workflow) ?? str(r.id) ?? str(r.name) ?? str(p.project) ?? '';
}

/** A small, secret-free summary of a request for its audit entry. */
export function auditDetail(body: unknown, result: unknown): Record<string, unknown> {
  const b = obj(body);
  const r = obj(result);
  const detail: Obj = {};
  for (const k of DETAIL_FIELDS) if (b[k] !== undefined) detail[k] = b[k];
  if (typeof r.runId === 'string') detail.runId = r.runId;
  const run = obj(r.run);
  if (typeof run.runId === 'string') detail.runId = run.runId;
  const version = obj(r.version);
  if (typeof version.number === 'number') detail.versionNumber = version.number;
  if (typeof r.status === 'string') detail.status = r.status;
  return detail;
}

/** Writes audit entries: who (the principal, with a token's id when it came with one), what, where, when. */
export class AuditTrail {
  constructor(
    private readonly store: IdentityStore,
    private readonly now: () => Date = () => new Date()
  ) {}

  async record(actor: Identity, action: string, project: string | null, target: string, detail: Record<string, unknown> = {}): Promise<void> {
    const entry: Omit<AuditEntry, 'id'> = {
      time: this.now().toISOString(),
      actor: actor.name,
      actorKind: actor.kind,
      action,
      project,
      target,
      detail: { ...detail, via: actor.via, ...(actor.credential !== undefined ? { token: actor.credential } : {}) }
    };
    await this.store.appendAudit(entry);
  }

  /** The entry for a route that succeeded, when the route table names its action. */
  async recordRoute(actor: Identity, def: AnyRoute, project: string | null, input: { params: unknown; body: unknown }, result: unknown): Promise<void> {
    if (def.audit === undefined) return;
    await this.record(actor, def.audit, project, auditTarget(input.params, result), auditDetail(input.body, result));
  }
}
