import * as path from 'node:path';
import type { JsonValue, PromoteRequest, PromoteResponse, TaskDiff, VersionDiffResponse, WorkflowIR, WorkflowVersion } from '@cellgraph/schema';
import type { CompilePool } from '../compiler/pool/compile-pool';
import { notebookKey, publishWorkflow } from '../engine/workflow-files';
import type { StateStore } from '../state/state-store';
import type { VersionRecord, VersionSelector, WorkflowVersionStore } from '../state/version-store';
import type { ArtifactStore } from '../stores';
import { IrCache } from './ir-cache';
import { compileSubmitted, readSubmittedNotebook } from './notebook-source';
import type { LaunchRequest, RunService } from './run-service';

/**
 * Promotion and versions: a promoted workflow is frozen by content hash (its IR, task
 * modules and notebook filed in the store under the version), numbered per workflow,
 * and runnable later exactly as promoted, whatever happens to the notebook file since.
 */
export class WorkflowService {
  constructor(
    private readonly store: ArtifactStore,
    private readonly state: StateStore & WorkflowVersionStore,
    private readonly irs: IrCache,
    private readonly runs: RunService,
    private readonly workDir: string,
    private readonly compiles: CompilePool
  ) {}

  /**
   * `claim` runs once the workflow's name is known, before anything is recorded: it may
   * refuse the promotion (a workflow of another project).
   */
  async promote(req: PromoteRequest, claim?: (workflow: string) => Promise<void>): Promise<PromoteResponse> {
    const nb = readSubmittedNotebook(req, this.workDir);
    const { ir } = await compileSubmitted(this.compiles, this.store, nb);
    await claim?.(ir.name);
    await publishWorkflow(this.store, ir, nb.text);
    await this.state.saveWorkflow({ version: ir.version, name: ir.name, notebookPath: nb.path });
    const { created, record } = await this.state.promoteVersion({
      workflow: ir.name,
      version: ir.version,
      notebookPath: nb.path,
      workDir: path.dirname(nb.path)
    });
    const version = await this.describe(record);
    if (!req.run) return { created, version };
    const run = await this.runVersion(record, { params: req.params });
    return { created, version, run };
  }

  async list(): Promise<{ workflow: string; versions: number; latest: WorkflowVersion }[]> {
    const rows = await this.state.listPromotedWorkflows();
    return Promise.all(rows.map(async (r) => ({ workflow: r.workflow, versions: r.versions, latest: await this.describe(r.latest) })));
  }

  async versions(workflow: string): Promise<WorkflowVersion[]> {
    return Promise.all((await this.state.listVersions(workflow)).map((r) => this.describe(r)));
  }

  /** A version by the reference a URL carries: its number or its content hash. */
  async resolve(workflow: string, ref: string): Promise<VersionRecord> {
    const which: VersionSelector = ref.startsWith('sha256:') ? { version: ref } : { number: Number(ref) };
    return this.state.getVersion(workflow, which);
  }

  async diff(workflow: string, a: string, b: string): Promise<VersionDiffResponse> {
    const [from, to] = [await this.resolve(workflow, a), await this.resolve(workflow, b)];
    const [irA, irB] = [await this.irs.get(from.version), await this.irs.get(to.version)];
    return { workflow, from: await this.describe(from), to: await this.describe(to), tasks: diffTasks(irA, irB), params: diffParams(irA, irB) };
  }

  /** Starts a run of a frozen version: its IR and notebook as promoted, in its work directory. */
  async runVersion(
    record: VersionRecord,
    options: Omit<LaunchRequest, 'ir' | 'notebookText' | 'notebookPath'>
  ) {
    const ir = await this.irs.get(record.version);
    const notebookText = (await this.store.getFile(notebookKey(record.version))).toString('utf8');
    return this.runs.launch({ ir, notebookText, notebookPath: record.notebookPath, ...options });
  }

  private async describe(r: VersionRecord): Promise<WorkflowVersion> {
    const ir = await this.irs.get(r.version);
    return {
      workflow: r.workflow,
      number: r.number,
      version: r.version,
      notebookPath: r.notebookPath,
      promotedAt: r.promotedAt,
      tasks: ir.tasks.map((t) => t.name),
      params: ir.params.map((p) => ({ name: p.name, kind: p.kind, type: p.type, default: p.default }))
    };
  }
}

function setDiff(a: string[], b: string[]): { added: string[]; removed: string[] } {
  return { added: b.filter((x) => !a.includes(x)).sort(), removed: a.filter((x) => !b.includes(x)).sort() };
}

const portKey = (p: { name: string; type: string; from?: string }) => `${p.name}: ${p.type}${p.from ? ` from ${p.from}` : ''}`;

/** Task-by-task differences between two IRs: added, removed, changed code, inputs, outputs or policy. */
export function diffTasks(a: WorkflowIR, b: WorkflowIR): TaskDiff[] {
  const names = [...new Set([...a.tasks.map((t) => t.name), ...b.tasks.map((t) => t.name)])];
  return names.map((task) => {
    const ta = a.tasks.find((t) => t.name === task);
    const tb = b.tasks.find((t) => t.name === task);
    const empty = { added: [], removed: [] };
    if (ta === undefined || tb === undefined) {
      const ports = (t: typeof ta) => ({ inputs: t ? t.inputs.map(portKey) : [], outputs: t ? t.outputs.map(portKey) : [] });
      const p = ports(ta ?? tb);
      const as = (xs: string[]) => (ta === undefined ? { added: xs, removed: [] } : { added: [], removed: xs });
      return { task, change: ta === undefined ? 'added' : 'removed', code: true, inputs: as(p.inputs), outputs: as(p.outputs), policy: false };
    }
    const inputs = setDiff(ta.inputs.map(portKey), tb.inputs.map(portKey));
    const outputs = setDiff(ta.outputs.map(portKey), tb.outputs.map(portKey));
    const code = ta.codeHash !== tb.codeHash;
    const policy = JSON.stringify(ta.policy) !== JSON.stringify(tb.policy);
    const changed = code || policy || inputs.added.length + inputs.removed.length + outputs.added.length + outputs.removed.length > 0;
    return { task, change: changed ? 'changed' : 'unchanged', code, inputs: changed ? inputs : empty, outputs: changed ? outputs : empty, policy };
  });
}

function diffParams(a: WorkflowIR, b: WorkflowIR): { added: string[]; removed: string[]; changed: string[] } {
  const { added, removed } = setDiff(
    a.params.map((p) => p.name),
    b.params.map((p) => p.name)
  );
  const changed = a.params
    .filter((p) => {
      const q = b.params.find((x) => x.name === p.name);
      return q !== undefined && (q.type !== p.type || JSON.stringify(q.default) !== JSON.stringify(p.default));
    })
    .map((p) => p.name);
  return { added, removed, changed };
}
