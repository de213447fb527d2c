import { Notebook, RunRecord, TaskRunRecord } from '@cellgraph/schema';
import { buildExecutedNotebook } from '../executed-notebook';

const h = `sha256:${'a'.repeat(64)}`;
const notebook = Notebook.parse({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: { kernelspec: { name: 'tslab' } },
  cells: [
    { cell_type: 'markdown', source: '# t', metadata: {} },
    { cell_type: 'code', source: 'import * as fs from "fs";', metadata: { cellgraph: { role: 'setup' } }, outputs: [{ output_type: 'stream', name: 'stdout', text: 'stale' }] },
    { cell_type: 'code', source: 'const a = 1; a', metadata: { cellgraph: { task: 'a' } }, outputs: [] },
    { cell_type: 'code', source: 'const b = a;', metadata: { cellgraph: { task: 'b' } }, outputs: [] },
    { cell_type: 'code', source: 'explore()', metadata: { cellgraph: { role: 'skip' } }, outputs: [{ output_type: 'stream', name: 'stdout', text: 'old' }] }
  ]
});
const run: RunRecord = {
  id: 'r-1',
  workflow: 'wf',
  version: h,
  notebookPath: '/nb.ipynb',
  params: { x: 1 },
  status: 'succeeded',
  executor: 'local',
  createdAt: '2026-11-24T10:00:00.000Z',
  startedAt: '2026-11-24T10:00:00.000Z',
  finishedAt: '2026-11-24T10:00:02.500Z'
};
const tasks: TaskRunRecord[] = [
  { runId: 'r-1', task: 'a', status: 'succeeded', attempts: 1, cached: false, durationMs: 100, outputs: [], metrics: {} },
  { runId: 'r-1', task: 'b', status: 'cached', attempts: 0, cached: true, outputs: [], metrics: {} }
];
const ir = { name: 'wf', version: h };

describe('buildExecutedNotebook', () => {
  const nb = buildExecutedNotebook({
    notebook,
    ir,
    run,
    tasks,
    cellRuns: [
      {
        task: 'a',
        cached: false,
        cells: [
          { cell: 1, outputs: [{ output_type: 'stream', name: 'stdout', text: 'setup in a\n' }], startedAt: 't', durationMs: 1 },
          { cell: 2, outputs: [{ output_type: 'execute_result', data: { 'text/plain': '1' }, metadata: {}, execution_count: null }], startedAt: 't', durationMs: 2 }
        ]
      },
      {
        task: 'b',
        cached: true,
        cells: [
          { cell: 1, outputs: [{ output_type: 'stream', name: 'stdout', text: 'setup in b\n' }], startedAt: 't', durationMs: 1 },
          { cell: 3, outputs: [], startedAt: 't', durationMs: 3 }
        ]
      }
    ]
  });

  it('puts each cell the outputs of this run, setup cells those of the first task', () => {
    expect(nb.cells[1].outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: 'setup in a\n' }]);
    expect(nb.cells[2].outputs?.[0]).toMatchObject({ output_type: 'execute_result', execution_count: 2 });
    expect(nb.cells[3].metadata.cellgraph_run).toMatchObject({ task: 'b', cached: true });
  });

  it('clears outputs of cells the run did not execute, and leaves markdown alone', () => {
    expect(nb.cells[4]).toMatchObject({ outputs: [], execution_count: null });
    expect(nb.cells[0]).toEqual(notebook.cells[0]);
  });

  it('records run id, parameters, status and timings in the notebook metadata', () => {
    expect(nb.metadata.cellgraph).toMatchObject({
      runId: 'r-1',
      params: { x: 1 },
      status: 'succeeded',
      durationMs: 2500,
      tasks: { a: { status: 'succeeded', attempts: 1 }, b: { status: 'cached', cached: true } }
    });
    expect(nb.metadata.kernelspec).toEqual({ name: 'tslab' });
  });
});

describe('the injected-parameters cell (papermill)', () => {
  const withParams = Notebook.parse({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { id: 'c0', cell_type: 'code', source: 'const n = 100;\nconst label = "x";', metadata: { cellgraph: { role: 'parameters' } }, outputs: [] },
      { id: 'c1', cell_type: 'code', source: 'const total = n * 2;', metadata: { cellgraph: { task: 'sum' } }, outputs: [] }
    ]
  });
  const ran = (params: RunRecord['params']) =>
    buildExecutedNotebook({
      notebook: withParams,
      ir,
      run: { ...run, params },
      tasks: [{ runId: 'r-1', task: 'sum', status: 'succeeded', attempts: 1, cached: false, outputs: [], metrics: {} }],
      cellRuns: [{ task: 'sum', cached: false, cells: [{ cell: 1, outputs: [{ output_type: 'stream', name: 'stdout', text: '400\n' }], startedAt: 't', durationMs: 1 }] }]
    });

  it('follows the parameters cell with the values the run used, tagged injected-parameters', () => {
    const nb = ran({ n: 200, label: 'a "quoted" one' });
    expect(nb.cells.map((c) => c.id)).toEqual(['c0', 'cellgraph-injected-parameters', 'c1']);
    expect(nb.cells[1]).toMatchObject({ cell_type: 'code', metadata: { tags: ['injected-parameters'] }, outputs: [] });
    expect(nb.cells[1].source).toBe('// Parameters of run r-1, injected by cellgraph\nconst n = 200;\nconst label = "a \\"quoted\\" one";');
    expect(nb.cells[0].source).toBe('const n = 100;\nconst label = "x";');
    // The task's outputs stay on its cell, now one further down.
    expect(nb.cells[2].outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: '400\n' }]);
    expect(Notebook.safeParse(nb).success).toBe(true);
  });

  it('finds papermill\'s parameters tag too, and adds nothing when the run has no parameters', () => {
    const tagged = Notebook.parse({ ...withParams, cells: [{ ...withParams.cells[0], metadata: { tags: ['parameters'] } }, withParams.cells[1]] });
    const nb = buildExecutedNotebook({ notebook: tagged, ir, run: { ...run, params: { n: 3 } }, tasks: [], cellRuns: [] });
    expect(nb.cells[1].metadata.tags).toEqual(['injected-parameters']);
    expect(ran({}).cells).toHaveLength(2);
    expect(buildExecutedNotebook({ notebook, ir, run, tasks, cellRuns: [] }).cells).toHaveLength(notebook.cells.length);
  });
});

describe('skipped tasks', () => {
  const cells = Notebook.parse({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: 'code', source: 'const best = 0.8;', metadata: { cellgraph: { task: 'pick' } }, outputs: [] },
      { cell_type: 'code', source: 'const url = "u";', metadata: { cellgraph: { task: 'publish', when: 'best > 0.9' } }, outputs: [] },
      { cell_type: 'code', source: 'console.log(url);', metadata: {}, outputs: [{ output_type: 'stream', name: 'stdout', text: 'stale' }] },
      { cell_type: 'code', source: 'const shout = url;', metadata: { cellgraph: { task: 'announce' } }, outputs: [] },
      { cell_type: 'code', source: 'const note = url ?? "none";', metadata: { cellgraph: { task: 'report', trigger: 'none-failed' } }, outputs: [] }
    ]
  });
  const irTasks = [
    { name: 'pick', cells: [0], upstream: [] },
    { name: 'publish', cells: [1, 2], upstream: ['pick'], when: 'best > 0.9' },
    { name: 'announce', cells: [3], upstream: ['publish'] },
    { name: 'report', cells: [4], upstream: ['publish'], trigger: 'none-failed' as const }
  ];
  const record = (task: string, status: TaskRunRecord['status'], attempts: number): TaskRunRecord => ({ runId: 'r-1', task, status, attempts, cached: false, outputs: [], metrics: {} });
  const built = (records: TaskRunRecord[], status: RunRecord['status'] = 'succeeded') =>
    buildExecutedNotebook({ notebook: cells, ir: { ...ir, tasks: irTasks }, run: { ...run, status, params: {} }, tasks: records, cellRuns: [] });

  it("says on a skipped task's first cell that it was skipped and why: its condition, or the upstream task that was", () => {
    const nb = built([record('pick', 'succeeded', 1), record('publish', 'skipped', 1), record('announce', 'skipped', 0), record('report', 'succeeded', 1)]);
    expect(nb.cells[1].outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: 'cellgraph: task publish was skipped: condition false: best > 0.9\n' }]);
    expect(nb.cells[2].outputs).toEqual([]);
    expect(nb.cells[3].outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: 'cellgraph: task announce was skipped: upstream task publish was skipped\n' }]);
    expect(nb.metadata.cellgraph).toMatchObject({ tasks: { publish: { skipReason: 'condition false: best > 0.9' }, announce: { skipReason: 'upstream task publish was skipped' } } });
    expect(Notebook.safeParse(nb).success).toBe(true);
  });

  it('a task the failed run never started says so, and so do the tasks below it', () => {
    const nb = built([record('pick', 'failed', 1), record('publish', 'skipped', 0), record('announce', 'skipped', 0), record('report', 'skipped', 0)], 'failed');
    for (const i of [1, 3, 4]) expect(JSON.stringify(nb.cells[i].outputs)).toContain('not started: the run failed first');
  });
});
