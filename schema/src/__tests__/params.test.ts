import { WorkflowVersion, migrateVersionParam } from '../api';
import type { ParamKindInfo } from '../params';
import { paramText, parseParamText, readParamAssignments } from '../params';

const lr: ParamKindInfo = { name: 'lr', kind: 'number', type: 'number' };
const name: ParamKindInfo = { name: 'name', kind: 'string', type: 'string' };
const verbose: ParamKindInfo = { name: 'verbose', kind: 'boolean', type: 'boolean' };
const layers: ParamKindInfo = { name: 'layers', kind: 'json', type: 'number[]' };

describe('parseParamText: one parser of parameter text, by kind', () => {
  it.each([
    [lr, '0.05', 0.05],
    [lr, ' -3e2 ', -300],
    [name, '', ''],
    [name, ' a=b ', ' a=b '],
    [name, '42', '42'],
    [verbose, 'true', true],
    [verbose, 'false', false],
    [layers, '[8, 2]', [8, 2]],
    [layers, '{"a": null}', { a: null }],
    [layers, '"text"', 'text']
  ])('%j parses %j as %j', (param, text, value) => {
    expect(parseParamText(param, text)).toEqual({ ok: true, value });
  });

  it.each([
    [lr, 'fast', 'parameter "lr" (number): must be a number, got "fast"'],
    [lr, '', 'parameter "lr" (number): must be a number, got ""'],
    [lr, 'Infinity', 'parameter "lr" (number): must be a number, got "Infinity"'],
    [verbose, 'yes', 'parameter "verbose" (boolean): must be true or false, got "yes"'],
    [verbose, 'True', 'parameter "verbose" (boolean): must be true or false, got "True"'],
    [layers, '[1,', 'parameter "layers" (number[]): must be JSON, got "[1,"']
  ])('%j refuses %j, naming the parameter and its field', (param, text, message) => {
    expect(parseParamText(param, text)).toEqual({ ok: false, problem: { field: `params.${param.name}`, message } });
  });

  it('names the kind when the type is not known', () => {
    const r = parseParamText({ name: 'n', kind: 'number' }, 'x');
    expect(r.ok ? '' : r.problem.message).toBe('parameter "n" (number): must be a number, got "x"');
  });

  it('shows a default as text that parses back to it', () => {
    for (const [param, value] of [[lr, 0.1], [name, 'world'], [verbose, false], [layers, [4, 4]]] as const) {
      expect(parseParamText(param, paramText({ default: value as never }))).toEqual({ ok: true, value });
    }
  });
});

describe('readParamAssignments', () => {
  const params = [lr, name, verbose, layers];

  it('splits at the first = and parses each value by its kind', () => {
    expect(readParamAssignments(params, ['lr=0.5', 'name=a=b', 'verbose=true', 'layers=[1]'])).toEqual({
      ok: true,
      value: { lr: 0.5, name: 'a=b', verbose: true, layers: [1] }
    });
  });

  it.each([
    [['noequals'], 'params', '-p "noequals": expected name=value'],
    [['=1'], 'params', '-p "=1": expected name=value'],
    [['epochs=3'], 'params.epochs', 'unknown parameter "epochs"; this workflow has: lr, name, verbose, layers'],
    [['lr=1', 'verbose=maybe'], 'params.verbose', 'parameter "verbose" (boolean): must be true or false, got "maybe"']
  ])('refuses %j naming %s', (assignments, field, message) => {
    expect(readParamAssignments(params, assignments)).toEqual({ ok: false, problem: { field, message } });
  });

  it('says when a workflow has no parameters', () => {
    const r = readParamAssignments([], ['x=1']);
    expect(r.ok ? '' : r.problem.message).toBe('unknown parameter "x"; this workflow has no parameters');
  });
});

describe('WorkflowVersion params carry their kind', () => {
  const version = {
    workflow: 'iris',
    number: 1,
    version: `sha256:${'a'.repeat(64)}`,
    notebookPath: '/nb.ipynb',
    promotedAt: '2026-01-01T00:00:00.000Z',
    tasks: ['train']
  };

  it('keeps the kind a server sends (a string parameter whose default looks like a number stays a string)', () => {
    const v = WorkflowVersion.parse({ ...version, params: [{ name: 'zip', kind: 'string', type: 'string', default: '0' }] });
    expect(v.params[0].kind).toBe('string');
  });

  it('reads answers of older servers without kinds: the kind of the default', () => {
    const v = WorkflowVersion.parse({
      ...version,
      params: [
        { name: 'lr', type: 'number', default: 0.1 },
        { name: 'on', type: 'boolean', default: true },
        { name: 'who', type: 'string', default: 'x' },
        { name: 'xs', type: 'number[]', default: [1] },
        { name: 'none', type: 'string | null', default: null }
      ]
    });
    expect(v.params.map((p) => p.kind)).toEqual(['number', 'boolean', 'string', 'json', 'json']);
    expect(migrateVersionParam('not an object')).toBe('not an object');
  });

  it('refuses an unknown kind, naming it', () => {
    const r = WorkflowVersion.safeParse({ ...version, params: [{ name: 'lr', kind: 'float', type: 'number', default: 1 }] });
    expect(r.success).toBe(false);
    expect(r.success ? [] : r.error.issues[0].path).toEqual(['params', 0, 'kind']);
  });
});
