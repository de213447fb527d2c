/**
 * Dynamic tasks at compile time: a foreach task's element type and the list types seen
 * downstream, `when` conditions and trigger rules, and every diagnostic they can raise.
 */
import { code } from '@cellgraph/dev/test-support/notebooks';
import { cleanup, compileErrors, compileOk, errorsOf } from './helpers';

afterAll(cleanup);

const configs = code('interface Config { lr: number; epochs: number }\nconst configs: Config[] = [{ lr: 0.1, epochs: 5 }, { lr: 0.5, epochs: 10 }];', { task: 'make' });

describe('foreach', () => {
  it('types the element as T inside and each output as U[] downstream, in the IR and the checker', () => {
    const { ir } = compileOk([
      configs,
      code('const score: number = config.lr * config.epochs;\nconst label = `lr=${config.lr}`;', { task: 'train', foreach: 'configs', as: 'config', maxParallel: 4 }),
      code('const best = Math.max(...score);\nconst first: string = label[0];', { task: 'pick' })
    ]);
    const train = ir.tasks.find((t) => t.name === 'train');
    expect(train?.inputs).toEqual([{ name: 'config', type: 'Config', from: 'make', elementOf: 'configs' }]);
    expect(train?.foreach).toEqual({ over: 'configs', as: 'config', from: 'make', maxParallel: 4, minSuccessRatio: 1 });
    expect(train?.outputs).toEqual([
      { name: 'score', type: 'number' },
      { name: 'label', type: 'string' }
    ]);
    const pick = ir.tasks.find((t) => t.name === 'pick');
    expect(pick?.inputs).toEqual([
      { name: 'score', type: 'number[]', from: 'train' },
      { name: 'label', type: 'string[]', from: 'train' }
    ]);
    expect(ir.edges.find((e) => e.to === 'train')?.values).toEqual([{ name: 'configs', type: 'Config[]' }]);
  });

  it('records the types of values computed below a foreach from its lists (not from one element)', () => {
    const { ir } = compileOk([
      configs,
      code('const score = config.lr * 2;', { task: 'train', foreach: 'configs', as: 'config' }),
      code('const ranked = score.map((s, i) => ({ s: s, i: i }));\nconst top = Math.max(...score);', { task: 'rank' }),
      code('const firstRank = ranked[0].i + top;', { task: 'report' })
    ]);
    expect(ir.tasks.find((t) => t.name === 'rank')?.outputs).toEqual([
      { name: 'ranked', type: '{ s: number; i: number; }[]' },
      { name: 'top', type: 'number' }
    ]);
    expect(ir.tasks.find((t) => t.name === 'report')?.inputs).toEqual([
      { name: 'ranked', type: '{ s: number; i: number; }[]', from: 'rank' },
      { name: 'top', type: 'number', from: 'rank' }
    ]);
  });

  it('accepts a readonly array and reads the element type through it', () => {
    const { ir } = compileOk([
      code('const sizes: readonly number[] = [1, 2, 3];', { task: 'make' }),
      code('const doubled = size * 2;', { task: 'double', foreach: 'sizes', as: 'size' })
    ]);
    expect(ir.tasks[1].inputs).toEqual([{ name: 'size', type: 'number', from: 'make', elementOf: 'sizes' }]);
  });

  it('types outputs (U | undefined)[] downstream when failed elements are tolerated', () => {
    const { ir } = compileOk([
      configs,
      code('const score = config.lr;', { task: 'train', foreach: 'configs', as: 'config', minSuccessRatio: 0.5 }),
      code('const ok = score.filter((s) => s !== undefined).length;', { task: 'count' })
    ]);
    expect(ir.tasks[2].inputs).toEqual([{ name: 'score', type: '(number | undefined)[]', from: 'train' }]);
    expect(ir.tasks[1].foreach?.minSuccessRatio).toBe(0.5);
  });

  it('type-checks the element like any input: a wrong property is a type error in the task cell', () => {
    const errors = errorsOf(compileErrors([configs, code('const s = config.learningRate;', { task: 'train', foreach: 'configs', as: 'config' })]));
    expect(errors).toEqual([expect.objectContaining({ code: 'type-error', cell: 1, task: 'train', line: 1 })]);
    expect(errors[0].message).toMatch(/learningRate/);
  });

  it('reports a downstream task using a foreach output as a single value', () => {
    const errors = errorsOf(
      compileErrors([configs, code('const score = config.lr;', { task: 'train', foreach: 'configs', as: 'config' }), code('const twice: number = score * 2;', { task: 'use' })])
    );
    expect(errors).toEqual([expect.objectContaining({ code: 'type-error', cell: 2, task: 'use' })]);
  });

  it('names the cell when the foreach target is not an array', () => {
    const errors = compileErrors([
      code('const settings = { lr: 0.1 };', { task: 'make' }),
      code('const s = item;', { task: 'train', foreach: 'settings', as: 'item' })
    ]);
    expect(errors).toEqual([
      expect.objectContaining({ code: 'foreach', cell: 1, task: 'train', field: 'cellgraph.foreach', message: expect.stringMatching(/"settings" is \{ lr: number; \}, not an array/) })
    ]);
  });

  it('names the cell when the foreach target is unknown', () => {
    const errors = compileErrors([code('const a = 1;', { task: 'make' }), code('const s = item;', { task: 'train', foreach: 'nothing', as: 'item' })]);
    expect(errors).toEqual([expect.objectContaining({ code: 'foreach', cell: 1, field: 'cellgraph.foreach', message: expect.stringMatching(/"nothing" is not declared/) })]);
  });

  it('names the cell when the foreach target is declared only in a skipped cell', () => {
    const errors = compileErrors([
      code('const a = 1;', { task: 'make' }),
      code('const items = [1, 2];', { role: 'skip' }),
      code('const s = item;', { task: 'train', foreach: 'items', as: 'item' })
    ]);
    expect(errors).toEqual([expect.objectContaining({ code: 'foreach', cell: 2, field: 'cellgraph.foreach', message: expect.stringMatching(/only in cell 1, which is skipped/) })]);
  });

  it('refuses a foreach over a setup value or over a later task', () => {
    const setup = compileErrors([code('const items = [1, 2];', { role: 'setup' }), code('const s = item;', { task: 'train', foreach: 'items', as: 'item' })]);
    expect(setup).toEqual([expect.objectContaining({ code: 'foreach', cell: 1, message: expect.stringMatching(/setup cell; it must be an output of a task above/) })]);
    const later = compileErrors([code('const s = item;', { task: 'train', foreach: 'items', as: 'item' }), code('const items = [1, 2];', { task: 'make' })]);
    expect(later).toEqual([expect.objectContaining({ code: 'foreach', cell: 0, message: expect.stringMatching(/declared later, in task make/) })]);
  });

  it('reports an "as" that shadows a name the notebook declares', () => {
    const errors = compileErrors([
      code('const config = 3;', { role: 'setup' }),
      configs,
      code('const s = config.lr;', { task: 'train', foreach: 'configs', as: 'config' })
    ]);
    expect(errors).toContainEqual(
      expect.objectContaining({ code: 'foreach', cell: 2, field: 'cellgraph.as', message: expect.stringMatching(/"as": "config" shadows "config" declared by the setup cell \(cell 0\)/) })
    );
  });

  it('reports foreach fields that only make sense together', () => {
    const errors = compileErrors([
      configs,
      code('const a = 1;', { task: 'one', foreach: 'configs' }),
      code('const b = 1;', { task: 'two', as: 'x', maxParallel: 2, minSuccessRatio: 0.5 })
    ]);
    expect(errors.map((d) => [d.cell, d.field])).toEqual(
      expect.arrayContaining([
        [1, 'cellgraph.as'],
        [2, 'cellgraph.as'],
        [2, 'cellgraph.maxParallel'],
        [2, 'cellgraph.minSuccessRatio']
      ])
    );
  });
});

describe('foreach over a foreach output (issue 17)', () => {
  const ids = code('const ids: number[] = [1, 2, 3];', { task: 'make' });
  const inputOf = (ir: { tasks: { name: string; inputs: unknown[] }[] }, task: string) => ir.tasks.find((t) => t.name === task)?.inputs;

  it('types the element of a nested list as the upstream output itself, one array level off', () => {
    const { ir } = compileOk([
      ids,
      code('const pairs = [id, id];', { task: 'dup', foreach: 'ids', as: 'id' }),
      code('const n: number = p.length;\nconst first = p[0];', { task: 'count', foreach: 'pairs', as: 'p' }),
      code('const total = n.reduce((a, b) => a + b, 0);\nconst firsts: number[] = first;', { task: 'sum' })
    ]);
    expect(inputOf(ir, 'count')).toEqual([{ name: 'p', type: 'number[]', from: 'dup', elementOf: 'pairs' }]);
    expect(ir.tasks.find((t) => t.name === 'count')?.outputs).toEqual([
      { name: 'n', type: 'number' },
      { name: 'first', type: 'number' }
    ]);
    expect(ir.edges.find((e) => e.to === 'count')?.values).toEqual([{ name: 'pairs', type: 'number[][]' }]);
    expect(inputOf(ir, 'sum')).toEqual([
      { name: 'n', type: 'number[]', from: 'count' },
      { name: 'first', type: 'number[]', from: 'count' }
    ]);
  });

  it('iterates a foreach output that is not itself an array (U[] downstream, U per element)', () => {
    const { ir } = compileOk([
      ids,
      code('const sq = id * id;', { task: 'square', foreach: 'ids', as: 'id' }),
      code('const half: number = s / 2;', { task: 'halve', foreach: 'sq', as: 's' })
    ]);
    expect(inputOf(ir, 'halve')).toEqual([{ name: 's', type: 'number', from: 'square', elementOf: 'sq' }]);
    expect(ir.edges.find((e) => e.to === 'halve')?.values).toEqual([{ name: 'sq', type: 'number[]' }]);
  });

  it('keeps a readonly element readonly', () => {
    const { ir } = compileOk([
      ids,
      code('const pairs: readonly number[] = [id, id];', { task: 'dup', foreach: 'ids', as: 'id' }),
      code('const n = p.length;', { task: 'count', foreach: 'pairs', as: 'p' })
    ]);
    expect(inputOf(ir, 'count')).toEqual([{ name: 'p', type: 'readonly number[]', from: 'dup', elementOf: 'pairs' }]);
    const errors = errorsOf(
      compileErrors([
        ids,
        code('const pairs: readonly number[] = [id, id];', { task: 'dup', foreach: 'ids', as: 'id' }),
        code('p.push(1);', { task: 'count', foreach: 'pairs', as: 'p' })
      ])
    );
    expect(errors).toEqual([expect.objectContaining({ code: 'type-error', cell: 2, task: 'count', message: expect.stringMatching(/push/) })]);
  });

  it('types the element U | undefined when the upstream foreach tolerates failed elements', () => {
    const { ir } = compileOk([
      ids,
      code('const pairs = [id, id];', { task: 'dup', foreach: 'ids', as: 'id', minSuccessRatio: 0.5 }),
      code('const n = p === undefined ? 0 : p.length;', { task: 'count', foreach: 'pairs', as: 'p' })
    ]);
    expect(inputOf(ir, 'count')).toEqual([{ name: 'p', type: 'number[] | undefined', from: 'dup', elementOf: 'pairs' }]);
    expect(ir.edges.find((e) => e.to === 'count')?.values).toEqual([{ name: 'pairs', type: '(number[] | undefined)[]' }]);
  });

  it('types elements that are objects and tuples as declared upstream', () => {
    const { ir } = compileOk([
      ids,
      code('const rec = { id: id, tags: [String(id)] };\nconst pair: [number, string] = [id, String(id)];', { task: 'describe', foreach: 'ids', as: 'id' }),
      code('const tagCount: number = r.tags.length + r.id;', { task: 'tags', foreach: 'rec', as: 'r' }),
      code('const upper: string = t[1].toUpperCase();\nconst k: number = t[0];', { task: 'names', foreach: 'pair', as: 't' })
    ]);
    expect(inputOf(ir, 'tags')).toEqual([{ name: 'r', type: '{ id: number; tags: string[]; }', from: 'describe', elementOf: 'rec' }]);
    expect(inputOf(ir, 'names')).toEqual([{ name: 't', type: '[number, string]', from: 'describe', elementOf: 'pair' }]);
  });

  it('types the element of a list computed below a foreach task from its lists', () => {
    const { ir } = compileOk([
      ids,
      code('const pairs = [id, id];', { task: 'dup', foreach: 'ids', as: 'id' }),
      code('const rows = pairs.map((q) => q.concat([0]));', { task: 'pad' }),
      code('const width = row.length;\nconst same = row;', { task: 'measure', foreach: 'rows', as: 'row' }),
      code('const firsts = pairs[0];', { task: 'pick' }),
      code('const doubled = f * 2;', { task: 'twice', foreach: 'firsts', as: 'f' }),
      code('const widest: number = Math.max(...width);\nconst all: number[][] = same;\nconst d: number[] = doubled;', { task: 'report' })
    ]);
    expect(inputOf(ir, 'measure')).toEqual([{ name: 'row', type: 'number[]', from: 'pad', elementOf: 'rows' }]);
    // The task's own outputs are typed from the element too (a second check of the notebook file).
    expect(ir.tasks.find((t) => t.name === 'measure')?.outputs).toEqual([
      { name: 'width', type: 'number' },
      { name: 'same', type: 'number[]' }
    ]);
    // One element's pairs[0] is a number; below dup, pairs[0] is a list (number[]).
    expect(inputOf(ir, 'twice')).toEqual([{ name: 'f', type: 'number', from: 'pick', elementOf: 'firsts' }]);
    expect(inputOf(ir, 'report')).toEqual([
      { name: 'width', type: 'number[]', from: 'measure' },
      { name: 'same', type: 'number[][]', from: 'measure' },
      { name: 'doubled', type: 'number[]', from: 'twice' }
    ]);
  });

  it('reports an element used as the wrong type in the foreach task, naming its cell', () => {
    const errors = errorsOf(
      compileErrors([
        ids,
        code('const pairs = [id, id];', { task: 'dup', foreach: 'ids', as: 'id' }),
        code('const bad: number = p * 2;', { task: 'count', foreach: 'pairs', as: 'p' })
      ])
    );
    expect(errors).toEqual([expect.objectContaining({ code: 'type-error', cell: 2, task: 'count', line: 1 })]);
  });

  it('names the cell and field when a list computed below a foreach task is not an array', () => {
    const errors = errorsOf(
      compileErrors([
        ids,
        code('const pairs = [id, id];', { task: 'dup', foreach: 'ids', as: 'id' }),
        code('const howMany = pairs.length;', { task: 'size' }),
        code('const s = item;', { task: 'each', foreach: 'howMany', as: 'item' })
      ])
    );
    expect(errors).toEqual([
      expect.objectContaining({ code: 'foreach', cell: 3, task: 'each', field: 'cellgraph.foreach', message: expect.stringMatching(/"howMany" is number, not an array/) })
    ]);
  });
});

describe('when and trigger', () => {
  const best = code('const best = { accuracy: 0.95, name: "a" };', { task: 'pick' });

  it('turns the names a condition reads into inputs and parameters the task reads', () => {
    const { ir } = compileOk([
      code('const threshold = 0.9;', { role: 'parameters' }),
      best,
      code('console.log("publishing");', { task: 'publish', when: 'best.accuracy > threshold' })
    ]);
    const publish = ir.tasks.find((t) => t.name === 'publish');
    expect(publish?.inputs).toEqual([{ name: 'best', type: '{ accuracy: number; name: string; }', from: 'pick' }]);
    expect(publish?.params).toEqual(['threshold']);
    expect(publish?.when).toBe('best.accuracy > threshold');
    expect(publish?.module).toMatch(/if \(!\(best\.accuracy > threshold\)\)\s*return __cg\.skip\(\);\s*__cg\.enterCell\(2\)/);
  });

  it('reports a condition that is not boolean, naming the cell and field', () => {
    const errors = compileErrors([best, code('const x = 1;', { task: 'publish', when: 'best.name' })]);
    expect(errors).toEqual([expect.objectContaining({ code: 'condition', cell: 1, task: 'publish', field: 'cellgraph.when', message: expect.stringMatching(/must be a boolean expression/) })]);
  });

  it('reports a condition that reads an unknown name, the task\'s own value, or is not an expression', () => {
    const unknown = compileErrors([best, code('const x = 1;', { task: 'publish', when: 'score > 1' })]);
    expect(unknown).toEqual([expect.objectContaining({ code: 'condition', cell: 1, field: 'cellgraph.when', message: expect.stringMatching(/"score" is not declared/) })]);
    const own = compileErrors([best, code('const x = 1;', { task: 'publish', when: 'x > 0' })]);
    expect(own).toEqual([expect.objectContaining({ code: 'condition', message: expect.stringMatching(/declared by task publish itself/) })]);
    const syntax = compileErrors([best, code('const x = 1;', { task: 'publish', when: 'best.accuracy >' })]);
    expect(syntax).toContainEqual(expect.objectContaining({ code: 'condition', field: 'cellgraph.when', message: expect.stringMatching(/not a TypeScript expression/) }));
  });

  it('types a skippable upstream as T | undefined for a none-failed task, and T for an all-succeeded one', () => {
    const { ir } = compileOk([
      best,
      code('const url = "https://example.com/" + best.name;', { task: 'publish', when: 'best.accuracy > 0.9' }),
      code('const note: string = url ?? "not published";', { task: 'report', trigger: 'none-failed' }),
      code('const shout = url.toUpperCase();', { task: 'announce' })
    ]);
    expect(ir.tasks.find((t) => t.name === 'report')?.inputs).toEqual([{ name: 'url', type: 'string | undefined', from: 'publish' }]);
    expect(ir.tasks.find((t) => t.name === 'report')?.trigger).toBe('none-failed');
    expect(ir.tasks.find((t) => t.name === 'announce')?.inputs).toEqual([{ name: 'url', type: 'string', from: 'publish' }]);
  });

  it('refuses foreach and when on one task', () => {
    const errors = compileErrors([configs, code('const s = c.lr;', { task: 'train', foreach: 'configs', as: 'c', when: 'configs.length > 1' })]);
    expect(errors).toContainEqual(expect.objectContaining({ code: 'condition', field: 'cellgraph.when' }));
  });
});
