/** Warnings do not stop a compile: the tslab shorthand-property quirk is pointed at, not refused. */
import { code } from '@cellgraph/dev/test-support/notebooks';
import { cleanup, compile, compileOk } from './helpers';

afterAll(cleanup);

describe('tslab shorthand warning', () => {
  it('warns about { a } naming an earlier cell of another task, and still compiles the edge', () => {
    const { ir, warnings } = compileOk([code('const a = 1;', { task: 'one' }), code('const x = 0;\nconst o = { a, b: 2 };', { task: 'two' })]);
    expect(warnings).toEqual([
      expect.objectContaining({
        severity: 'warning',
        code: 'tslab-shorthand',
        cell: 1,
        task: 'two',
        line: 2,
        column: 13,
        message: expect.stringContaining('write { a: a }')
      })
    ]);
    expect(ir.edges).toEqual([{ from: 'one', to: 'two', kind: 'data', values: [{ name: 'a', type: 'number' }] }]);
    expect(ir.tasks[1].module).toContain('a');
  });

  it('warns for an earlier cell of the same task and for setup values too', () => {
    const { warnings } = compileOk([
      code('const limit = 5;', { role: 'setup' }),
      code('const a = 1;', { task: 'one' }),
      code('const o = { a, limit };')
    ]);
    expect(warnings.map((w) => [w.severity, w.code, w.cell, w.column])).toEqual([
      ['warning', 'tslab-shorthand', 2, 13],
      ['warning', 'tslab-shorthand', 2, 16]
    ]);
  });

  it('does not warn for a shorthand naming a binding of the same cell, or for { a: a }', () => {
    const { warnings } = compileOk([code('const a = 1;', { task: 'one' }), code('const b = 2;\nconst o = { b, a: a };', { task: 'two' })]);
    expect(warnings).toEqual([]);
  });

  it('is reported alongside errors when the compile fails', () => {
    const r = compile([code('const a = 1;', { task: 'one' }), code('const o = { a };\nconst b = missing;', { task: 'two' })]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diagnostics.map((d) => [d.severity, d.code])).toEqual([
      ['warning', 'tslab-shorthand'],
      ['error', 'missing-producer']
    ]);
  });
});
