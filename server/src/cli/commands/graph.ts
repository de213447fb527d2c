import type { Command } from 'commander';
import type { WorkflowIR } from '@cellgraph/schema';
import { compileOrReport } from '../compile';
import { readNotebook } from '../notebook-input';
import { EXIT_FAILED, out } from '../output';

/** `cellgraph graph NOTEBOOK`: tasks, typed edges and parameters, as text, JSON or Graphviz dot. */
export function registerGraph(program: Command): void {
  program
    .command('graph')
    .description('show the workflow a notebook compiles to: tasks, typed edges, parameters')
    .argument('<notebook>', 'path to the .ipynb file')
    .option('--json', 'print tasks, edges and params as JSON')
    .option('--dot', 'print a Graphviz dot graph (pipe to `dot -Tsvg`)')
    .action(async (file: string, opts: { json?: boolean; dot?: boolean }) => {
      const { ir } = await compileOrReport(readNotebook(file));
      if (!ir) {
        process.exitCode = EXIT_FAILED;
        return;
      }
      out(opts.json ? JSON.stringify(graphJson(ir), null, 2) : opts.dot ? graphDot(ir) : graphText(ir));
    });
}

/** The JSON shape of `graph --json`: the IR minus generated code. */
export function graphJson(ir: WorkflowIR): object {
  return {
    name: ir.name,
    version: ir.version,
    params: ir.params.map(({ name, type, kind, default: def, constrained }) => ({ name, type, kind, default: def, constrained })),
    tasks: ir.tasks.map((t) => ({
      name: t.name,
      cells: t.cells,
      upstream: t.upstream,
      inputs: t.inputs,
      outputs: t.outputs,
      params: t.params,
      policy: t.policy
    })),
    edges: ir.edges
  };
}

function graphText(ir: WorkflowIR): string {
  const lines = [`workflow ${ir.name}  version ${ir.version.slice(0, 19)}…`];
  lines.push(ir.params.length > 0 ? 'params:' : 'params: none');
  for (const p of ir.params) lines.push(`  ${p.name}: ${p.type} = ${JSON.stringify(p.default)}${p.constrained ? '  (constrained)' : ''}`);
  lines.push('tasks:');
  for (const t of ir.tasks) {
    const after = t.upstream.length > 0 ? `  <- ${t.upstream.join(', ')}` : '';
    lines.push(`  ${t.name}  (cells ${t.cells.join(', ')})${after}`);
    for (const i of t.inputs) lines.push(`    in   ${i.name}: ${i.type}  from ${i.from}`);
    for (const o of t.outputs) lines.push(`    out  ${o.name}: ${o.type}`);
  }
  lines.push(ir.edges.length > 0 ? 'edges:' : 'edges: none');
  for (const e of ir.edges) {
    const values = e.kind === 'data' ? e.values.map((v) => `${v.name}: ${v.type}`).join(', ') : '(after)';
    lines.push(`  ${e.from} -> ${e.to}  ${values}`);
  }
  return lines.join('\n');
}

function graphDot(ir: WorkflowIR): string {
  // dot strings: escape quotes and backslashes; `\n` (backslash, n) is dot's line break.
  const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const lines = [`digraph ${q(ir.name)} {`, '  rankdir=TB;', '  node [shape=box, style=rounded, fontname="Helvetica"];'];
  for (const t of ir.tasks) lines.push(`  ${q(t.name)};`);
  for (const e of ir.edges) {
    const label = e.values.map((v) => q(`${v.name}: ${v.type}`).slice(1, -1)).join('\\n');
    lines.push(`  ${q(e.from)} -> ${q(e.to)} [${e.kind === 'order' ? 'style=dashed' : `label="${label}"`}];`);
  }
  lines.push('}');
  return lines.join('\n');
}
