import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { Diagnostic, Edge, IR_VERSION, Notebook, TaskIR, WorkflowIR, sourceText } from '@cellgraph/schema';
import { type TaskModuleInput, hashableModule, paramsModule, taskModuleSource, transpileAll } from './codegen';
import { CellOwner, type FlowEdge, analyzeDataFlow } from './data-flow';
import { arrayOf, checkDynamicAnnotations, maySkip, typeSeenDownstream } from './dynamic';
import type { CheckCache } from './check-cache';
import { findCycle } from './graph';
import { checkTasksInIsolation } from './isolation';
import { isVirtualPath } from './typescript-host';
import { ParamDecl, paramSpecs, readParamsCell } from './params-cell';
import { parseNotebook } from './parse-notebook';
import { partitionCells } from './partition';
import { canonicalJson } from '../canonical-json';

/**
 * What the compiler reads: the notebook's text, its path (where its imports resolve), and
 * the workflow's name when the caller knows the notebook's place under a root
 * ({@link workflowNameFromPath}); else the name comes from the file name.
 */
export interface CompileInput {
  path: string;
  text: string;
  name?: string;
}

/**
 * What a compile produced. On success, `inputs` lists the files on disk the type checker
 * read (package declarations, local modules the notebook imports), so a compile cache can
 * tell when a result is stale.
 */
export type CompileResult = { ok: true; ir: WorkflowIR; warnings: Diagnostic[]; inputs: string[] } | { ok: false; diagnostics: Diagnostic[] };

function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}


/**
 * The hash of what a notebook means to cellgraph: each cell's type, source and annotation
 * metadata. Saved outputs and execution counts do not count, so re-running cells in
 * JupyterLab does not make a new version.
 */
function notebookContentHash(notebook: Notebook): string {
  return sha256(
    canonicalJson(
      notebook.cells.map((c) => ({ type: c.cell_type, source: sourceText(c.source), cellgraph: c.metadata.cellgraph ?? null, tags: c.metadata.tags ?? null }))
    )
  );
}

/** The task-name alphabet's slug of one path segment (lowercase; runs of other characters become `-`). */
function slug(segment: string): string {
  return segment.toLowerCase().replace(/[^a-z0-9_-]+/g, '-');
}

/**
 * A workflow's name from its notebook's path relative to the server's root (`/`-separated),
 * so two notebooks with the same file name in different folders are two workflows:
 * `iris.ipynb` -> `iris`, `analysis/sample_stats.ipynb` -> `analysis--sample_stats`.
 * Folders join with `--`; each segment is slugged into the task-name alphabet
 * (`[a-z][a-z0-9_-]*`, at most 63 characters, so a name stays safe in URLs, file paths and
 * Kubernetes labels). When that loses information (upper case, other characters, a `--`
 * inside a segment or a `-` at either end of one, a leading non-letter, or more than 63 characters), 8 hex digits of the
 * path's SHA-256 are appended, so distinct paths still get distinct names.
 */
export function workflowNameFromPath(relativePath: string): string {
  const segments = relativePath.replace(/\.ipynb$/i, '').split('/').filter((s) => s !== '' && s !== '.');
  const joined = segments.map(slug).join('--');
  const trimmed = joined.replace(/^[^a-z]+/, '');
  const exact = segments.every((s) => s === slug(s) && !s.includes('--') && !/^-|-$/.test(s)) && trimmed === joined && joined.length > 0 && joined.length <= 63;
  if (exact) return joined;
  const suffix = createHash('sha256').update(relativePath).digest('hex').slice(0, 8);
  const head = trimmed.slice(0, 63 - suffix.length - 1).replace(/-+$/, '');
  return head.length > 0 ? `${head}-${suffix}` : `workflow-${suffix}`;
}

/** A workflow name from the notebook's file name alone (a notebook compiled with no root, as the CLI does). */
function workflowName(notebookPath: string): string {
  const base = path
    .basename(notebookPath)
    .replace(/\.ipynb$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, 63);
  return base.length > 0 ? base : 'workflow';
}

function byPosition(a: Diagnostic, b: Diagnostic): number {
  return (a.cell ?? -1) - (b.cell ?? -1) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}

/** How a compile reuses earlier work. */
export interface CompileOptions {
  /**
   * Where each task's type-check result is looked up and filed; the process-wide in-memory
   * cache by default. The CLI passes a cache on disk so the next process checks only the
   * tasks that changed.
   */
  checkCache?: CheckCache;
}

/**
 * Compiles notebook text into the workflow IR: cells partitioned by their annotations,
 * data flow inferred with the TypeScript checker, every task type-checked as it will run
 * alone, and a runnable module generated per task. Pure: reads package type declarations
 * from disk, writes nothing. Reports every error it finds, not just the first.
 */
export function compileNotebook(input: CompileInput, options: CompileOptions = {}): CompileResult {
  const parsed = parseNotebook(input.path, input.text);
  if (!parsed.ok) return { ok: false, diagnostics: parsed.diagnostics };
  const { partition: part, diagnostics } = partitionCells(parsed.notebook, input.path);
  if (part.tasks.length === 0) return { ok: false, diagnostics };

  const owners = new Map<number, CellOwner>();
  for (const c of part.setup) owners.set(c.index, { kind: 'setup' });
  if (part.params) owners.set(part.params.index, { kind: 'parameters' });
  for (const t of part.tasks) for (const c of t.cells) owners.set(c.index, { kind: 'task', task: t.name });

  let params: ParamDecl[] = [];
  if (part.params) {
    const read = readParamsCell(part.params, input.path);
    params = read.params;
    diagnostics.push(...read.diagnostics);
  }

  diagnostics.push(...checkDynamicAnnotations(part, input.path));
  const flow = analyzeDataFlow(input.path, part, owners);
  diagnostics.push(...flow.diagnostics);

  // By consumer, once: a notebook of 500 tasks filtered every edge for every task.
  const inputsOf = new Map<string, FlowEdge[]>(part.tasks.map((t) => [t.name, []]));
  for (const e of flow.edges) inputsOf.get(e.to)?.push(e);
  const upstream = new Map<string, string[]>();
  for (const t of part.tasks) {
    const producers = (inputsOf.get(t.name) ?? []).map((e) => e.from);
    upstream.set(t.name, [...new Set([...producers, ...(t.annotation.after ?? []).filter((a) => part.tasks.some((x) => x.name === a))])].sort());
  }
  // Downstream of a foreach task a value is the list of its elements' values; a none-failed
  // task sees what a skipped upstream did not produce as undefined.
  const annotationOf = new Map(part.tasks.map((t) => [t.name, t.annotation]));
  const skippable = maySkip(part.tasks, upstream);
  for (const e of flow.edges) {
    const producer = annotationOf.get(e.from);
    const consumer = annotationOf.get(e.to);
    if (e.elementOf === undefined && producer && consumer) e.type = typeSeenDownstream(e.type, producer, consumer, skippable.has(e.from));
  }
  const cycle = findCycle(upstream);
  if (cycle) {
    const first = part.tasks.find((t) => t.name === cycle[0]);
    diagnostics.push({
      severity: 'error',
      code: 'cycle',
      message: `tasks form a cycle: ${cycle.join(' -> ')}; check their "after" lists`,
      notebook: input.path,
      cell: first?.cells[0].index,
      task: cycle[0],
      field: 'cellgraph.after'
    });
  }

  diagnostics.push(...checkTasksInIsolation(input.path, part, owners, flow, options.checkCache));
  diagnostics.sort(byPosition);
  if (diagnostics.some((d) => d.severity === 'error')) return { ok: false, diagnostics };

  const ownerOf = (cell: number) => {
    const o = owners.get(cell);
    return o?.kind === 'task' ? o.task : undefined;
  };
  const moduleInput = (t: { name: string; annotation: { when?: string } }): TaskModuleInput => ({
    part,
    task: t.name,
    params,
    inputs: (inputsOf.get(t.name) ?? []).map((i) => i.name),
    outputs: (flow.outputs.get(t.name) ?? []).map((o) => o.name),
    ownerOf,
    when: t.annotation.when
  });
  // Transpiled together: one program for every task's module (see transpileAll).
  const modules = transpileAll(part.tasks.map((t) => taskModuleSource(moduleInput(t))));
  const tasks: TaskIR[] = part.tasks.map((t, i) => {
    const inputs = inputsOf.get(t.name) ?? [];
    const outputs = flow.outputs.get(t.name) ?? [];
    const module = modules[i];
    const a = t.annotation;
    const producerOfList = inputs.find((i) => i.elementOf !== undefined);
    return {
      name: t.name,
      cells: t.cells.map((c) => c.index),
      inputs: inputs.map((e) => ({ name: e.name, type: e.type, from: e.from, ...(e.elementOf !== undefined ? { elementOf: e.elementOf } : {}) })),
      outputs,
      params: [...(flow.paramsRead.get(t.name) ?? [])].sort(),
      after: a.after ?? [],
      upstream: upstream.get(t.name) ?? [],
      policy: {
        retries: a.retries ?? 0,
        ...(a.timeoutSeconds !== undefined ? { timeoutSeconds: a.timeoutSeconds } : {}),
        cache: a.cache ?? true,
        resources: a.resources ?? {},
        ...(a.image !== undefined ? { image: a.image } : {}),
        env: a.env ?? {},
        secrets: a.secrets ?? []
      },
      module,
      codeHash: sha256(hashableModule(module)),
      ...(a.foreach !== undefined && a.as !== undefined && producerOfList !== undefined
        ? {
            foreach: {
              over: a.foreach,
              as: a.as,
              from: producerOfList.from,
              ...(a.maxParallel !== undefined ? { maxParallel: a.maxParallel } : {}),
              minSuccessRatio: a.minSuccessRatio ?? 1
            }
          }
        : {}),
      ...(a.when !== undefined ? { when: a.when } : {}),
      ...(a.trigger !== undefined ? { trigger: a.trigger } : {})
    };
  });

  const edges: Edge[] = [];
  for (const t of tasks) {
    for (const from of t.upstream) {
      // A foreach element travels as its list: the edge shows what the producer hands over.
      const carried = t.inputs.filter((i) => i.from === from).map((i) => (i.elementOf !== undefined ? { name: i.elementOf, type: arrayOf(i.type) } : { name: i.name, type: i.type }));
      const values = carried.filter((v, i) => carried.findIndex((w) => w.name === v.name) === i);
      edges.push({ from, to: t.name, kind: values.length > 0 ? 'data' : 'order', values });
    }
  }

  const body = {
    irVersion: IR_VERSION,
    name: input.name ?? workflowName(input.path),
    source: { path: input.path, notebookHash: notebookContentHash(parsed.notebook) },
    params: part.params ? paramSpecs(params, flow.paramTypes, part.params.index) : [],
    paramsModule: paramsModule(part, params),
    tasks,
    edges,
    cells: part.plans
  };
  // The version hashes what runs, not where the file happens to be.
  const version = sha256(canonicalJson({ ...body, source: { notebookHash: body.source.notebookHash } }));
  const ir = WorkflowIR.parse({ ...body, version });
  const inputs = flow.program.getSourceFiles().map((f) => f.fileName).filter((f) => !isVirtualPath(f));
  return { ok: true, ir, warnings: diagnostics, inputs };
}
