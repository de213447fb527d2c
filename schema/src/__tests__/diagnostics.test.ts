import { Notebook, RunId, formatDiagnostic } from '..';

describe('formatDiagnostic', () => {
  it('names notebook, cell, task, line and column', () => {
    expect(
      formatDiagnostic({ severity: 'error', code: 'missing-producer', message: 'no task produces "rows"', notebook: 'nb.ipynb', cell: 3, task: 'train', line: 2, column: 5 })
    ).toBe('nb.ipynb: cell 3 (task train):2:5: error missing-producer: no task produces "rows"');
    expect(formatDiagnostic({ severity: 'error', code: 'annotation', message: 'bad', notebook: 'nb.ipynb', cell: 0, field: 'cellgraph.task' })).toBe(
      'nb.ipynb: cell 0 [cellgraph.task]: error annotation: bad'
    );
  });
});

describe('Notebook', () => {
  it('refuses nbformat 3 with a clear message and keeps unknown fields of v4', () => {
    const r = Notebook.safeParse({ nbformat: 3, nbformat_minor: 0, metadata: {}, worksheets: [] });
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues.map((i) => i.message)).toContain('only nbformat 4 notebooks are supported');
    const ok = Notebook.parse({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [], extra: 1 });
    expect((ok as Record<string, unknown>).extra).toBe(1);
  });
});

describe('RunId', () => {
  it.each(['../x', 'a/b', 'A', '', 'x..y', '$(id)'])('refuses %j', (id) => expect(RunId.safeParse(id).success).toBe(false));
  it('accepts generated ids', () => expect(RunId.safeParse('r-20261124t153000-1a2b3c').success).toBe(true));
});
