/** Generated notebooks for benchmarks: shapes that stress scheduling, not user code. */

interface Cell {
  cell_type: 'code' | 'markdown';
  source: string;
  metadata: Record<string, unknown>;
  outputs?: unknown[];
  execution_count?: null;
}

function notebook(cells: Cell[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    cells: cells.map((c) => (c.cell_type === 'code' ? { outputs: [], execution_count: null, ...c } : c))
  });
}

const task = (name: string, source: string): Cell => ({ cell_type: 'code', source, metadata: { cellgraph: { task: name } } });

/** A chain t0 -> t1 -> ... of trivial tasks, each adding one to its upstream's value. */
export function chainNotebook(length: number): string {
  const cells: Cell[] = [{ cell_type: 'code', source: 'const start = 1;', metadata: { cellgraph: { role: 'parameters' } } }];
  for (let i = 0; i < length; i++) cells.push(task(`t${i}`, `const v${i} = ${i === 0 ? 'start' : `v${i - 1}`} + 1;`));
  return notebook(cells);
}

/** One source, `width` parallel tasks reading it, one join reading them all. */
export function fanNotebook(width: number): string {
  const cells: Cell[] = [task('source', 'const base = 21;')];
  for (let i = 0; i < width; i++) cells.push(task(`w${i}`, `const r${i} = base * 2 + ${i};`));
  const sum = Array.from({ length: width }, (_, i) => `r${i}`).join(' + ');
  cells.push(task('join', `const total = ${sum};\nconsole.log(total);`));
  return notebook(cells);
}

/**
 * A notebook of `cells` code cells, realistic enough for the type checker: a setup cell
 * with an interface and helpers, then tasks passing typed records along layers.
 */
export function typedNotebook(cells: number): string {
  const out: Cell[] = [
    {
      cell_type: 'code',
      source: [
        'interface Row { id: number; label: string; score: number; tags: string[] }',
        'function mean(xs: number[]): number { return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length); }',
        'function rows(n: number, seed: number): Row[] {',
        '  return Array.from({ length: n }, (_, i) => ({ id: i, label: `r${i}`, score: ((i * 7919 + seed) % 1000) / 1000, tags: [] }));',
        '}'
      ].join('\n'),
      metadata: { cellgraph: { role: 'setup' } }
    },
    { cell_type: 'code', source: 'const n = 100;\nconst seed = 7;', metadata: { cellgraph: { role: 'parameters' } } }
  ];
  for (let i = 0; out.length < cells; i++) {
    const prev = i === 0 ? 'rows(n, seed)' : `data${i - 1}.map((r) => ({ ...r, score: r.score * 0.9 }))`;
    out.push(task(`step${i}`, `const data${i}: Row[] = ${prev};`));
    if (out.length < cells) out.push({ cell_type: 'code', source: `const avg${i} = mean(data${i}.map((r) => r.score));\navg${i}`, metadata: {} });
  }
  return notebook(out);
}

/**
 * The notebook of issue 13 that froze the server for 93 s: a few kilobytes, `tasks` tasks,
 * each declaring a 90,000-member template-literal union type (9 x 10^4 strings) and a
 * value of it. Every task is type-checked alone, so each builds its union afresh: about
 * 50 s and 1.2 GB of compile, unless a limit stops it.
 */
export function typeBombNotebook(tasks = 12): string {
  const digits = "'0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9'";
  const cells: Cell[] = [{ cell_type: 'code', source: `type D = ${digits};\ntype N = Exclude<D, '0'>;`, metadata: { cellgraph: { role: 'setup' } } }];
  for (let i = 0; i < tasks; i++) {
    cells.push(task(`t${i}`, `type Id${i} = \`\${N}\${D}\${D}\${D}\${D}\`;\nconst id${i}: Id${i} = '1${String(i).padStart(4, '0')}';`));
  }
  return notebook(cells);
}

/** A foreach over `n` numbers of a trivial task, then a join reading the collected list. */
export function foreachNotebook(n: number): string {
  return notebook([
    { cell_type: 'code', source: `const n = ${n};`, metadata: { cellgraph: { role: 'parameters' } } },
    task('make', 'const items = Array.from({ length: n }, (_, i) => i);'),
    { cell_type: 'code', source: 'const doubled = item * 2;', metadata: { cellgraph: { task: 'double', foreach: 'items', as: 'item' } } },
    task('join', 'const total = doubled.reduce((a, b) => a + b, 0);')
  ]);
}
